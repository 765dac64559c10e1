package facts

import (
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
)

// ErrorCode classifies why a fact could not be gathered. A failed call is a
// fact in its own right: checks turn it into an `unknown` finding that names
// the missing permission or the problem, and every other check still runs.
type ErrorCode string

const (
	// ErrNotFound is IAM's NoSuchEntity or EKS's ResourceNotFoundException.
	ErrNotFound ErrorCode = "NotFound"
	// ErrAccessDenied is AccessDenied / AccessDeniedException / UnauthorizedOperation.
	ErrAccessDenied ErrorCode = "AccessDenied"
	// ErrThrottled is Throttling / ThrottlingException / TooManyRequestsException after the SDK's retries.
	ErrThrottled ErrorCode = "Throttled"
	// ErrTimeout is a deadline exceeded or a network timeout.
	ErrTimeout ErrorCode = "Timeout"
	// ErrNoCredentials means the SDK found no credentials at all.
	ErrNoCredentials ErrorCode = "NoCredentials"
	// ErrOther is anything else (network errors, invalid input, unexpected API errors).
	ErrOther ErrorCode = "Other"
)

// CallError records a failed AWS call.
type CallError struct {
	// Op is the API in IAM-policy form, e.g. "iam:GetRole"; it is also the
	// permission the user needs.
	Op string `json:"op"`
	// Resource is the ARN or name the call was about, when there is one.
	Resource string `json:"resource,omitempty"`
	// Code classifies the failure.
	Code ErrorCode `json:"code"`
	// APICode is AWS's own error code (e.g. "NoSuchEntity"), when AWS answered.
	APICode string `json:"apiCode,omitempty"`
	// Message is a one-line, credential-free description.
	Message string `json:"message"`
}

func (e *CallError) Error() string {
	if e.Resource != "" {
		return e.Op + " " + e.Resource + ": " + e.Message
	}
	return e.Op + ": " + e.Message
}

// Caller is the identity the plugin itself runs as (sts:GetCallerIdentity).
type Caller struct {
	Account string     `json:"account,omitempty"`
	ARN     string     `json:"arn,omitempty"`
	Err     *CallError `json:"error,omitempty"`
}

// Cluster is what eks:DescribeCluster says about the cluster.
type Cluster struct {
	Name    string `json:"name"`
	Region  string `json:"region,omitempty"`
	ARN     string `json:"arn,omitempty"`
	Version string `json:"version,omitempty"`
	// PlatformVersion is e.g. "eks.13".
	PlatformVersion string `json:"platformVersion,omitempty"`
	// IPFamily is kubernetesNetworkConfig.ipFamily: "ipv4" or "ipv6".
	IPFamily string `json:"ipFamily,omitempty"`
	// Issuer is cluster.identity.oidc.issuer, exactly as EKS returned it ("" when EKS has none).
	Issuer string     `json:"issuer,omitempty"`
	Err    *CallError `json:"error,omitempty"`
}

// OIDCProvider is an IAM OIDC identity provider (iam:GetOpenIDConnectProvider).
type OIDCProvider struct {
	ARN string `json:"arn"`
	// URL is as IAM stores it: without scheme, e.g. "oidc.eks.us-west-2.amazonaws.com/id/ABC".
	URL         string     `json:"url,omitempty"`
	ClientIDs   []string   `json:"clientIDs,omitempty"`
	Thumbprints []string   `json:"thumbprints,omitempty"`
	Found       bool       `json:"found"`
	Err         *CallError `json:"error,omitempty"`
}

// ProviderList is the result of iam:ListOpenIDConnectProviders in one account.
type ProviderList struct {
	Account string     `json:"account"`
	ARNs    []string   `json:"arns,omitempty"`
	Err     *CallError `json:"error,omitempty"`
}

// Role is an IAM role (iam:GetRole) with its permission policies.
type Role struct {
	ARN  string `json:"arn"`
	Name string `json:"name,omitempty"`
	Path string `json:"path,omitempty"`
	// TrustPolicy is the assume-role policy document, already URL-decoded to JSON.
	TrustPolicy string     `json:"trustPolicy,omitempty"`
	Found       bool       `json:"found"`
	Err         *CallError `json:"error,omitempty"`
	// AttachedPolicyARNs lists managed policies (iam:ListAttachedRolePolicies, all pages).
	AttachedPolicyARNs []string `json:"attachedPolicyARNs,omitempty"`
	// InlinePolicyNames lists inline policies (iam:ListRolePolicies, all pages).
	InlinePolicyNames []string `json:"inlinePolicyNames,omitempty"`
	// PoliciesErr is set when the permission listings failed; the role facts above still hold.
	PoliciesErr *CallError `json:"policiesError,omitempty"`
}

// AWSFacts is the AWS side of the snapshot. A nil *AWSFacts means the user
// skipped AWS (--skip-aws): the AWS checks then say nothing at all.
type AWSFacts struct {
	// Unavailable says why no AWS call could be made (no region, broken
	// profile); every AWS check then reports `unknown` with this reason.
	Unavailable string      `json:"unavailable,omitempty"`
	Issuer      IssuerFacts `json:"issuer"`
	Caller      Caller      `json:"caller"`
	Cluster     *Cluster    `json:"cluster,omitempty"`
	// Roles and Providers are keyed by ARN; ProviderLists by account.
	Roles         map[string]Role         `json:"roles,omitempty"`
	Providers     map[string]OIDCProvider `json:"providers,omitempty"`
	ProviderLists map[string]ProviderList `json:"providerLists,omitempty"`
	// ClusterAccount is the account the cluster lives in, from its ARN
	// (eks:DescribeCluster, else the kubeconfig context); "" when unknown.
	ClusterAccount string `json:"clusterAccount,omitempty"`
	// TLS is the issuer's served TLS chains, read once per run when a
	// provider was found; nil when they were not read.
	TLS *TLSFacts `json:"tls,omitempty"`
	// PodIdentity holds the cluster's Pod Identity associations; nil when
	// they were not looked for (no EKS cluster known).
	PodIdentity *PodIdentityFacts `json:"podIdentity,omitempty"`
	// RoleListing says how the roles were read when enough of them were in
	// the caller's account to read its roles page by page; nil when every
	// role was read with its own calls from the start.
	RoleListing *RoleListing `json:"roleListing,omitempty"`
}

// RoleListing is the account-wide read of roles (iam:ListRoles for the
// trust policies, iam:GetAccountAuthorizationDetails for the permission
// policies), which costs calls per page of the account's roles instead of
// three per role. The roles it answered for have exactly the facts of
// their own calls; the others (another account, not listed) were read one
// by one.
type RoleListing struct {
	// Account is the account that was listed (the caller's).
	Account string `json:"account"`
	// Roles is how many roles in scope the listing answered for.
	Roles int `json:"roles"`
	// Err is set when a listing call failed (typically AccessDenied): every
	// role was then read with its own calls, and the run summary says so.
	Err *CallError `json:"error,omitempty"`
}

// TLSFacts is what was read of the issuer's TLS chains: certificates and
// verification results only, never a key. pkg/diag judges it against each
// provider with thumbprint.JudgeProvider, as `kubectl irsa thumbprint` does.
type TLSFacts struct {
	Report thumbprint.Report `json:"report"`
	// Err says why no chain of the jwks_uri host could be read.
	Err string `json:"error,omitempty"`
}

// IssuerFacts is the cluster's OIDC issuer and how it was found.
type IssuerFacts struct {
	URL string `json:"url,omitempty"`
	// Source names where URL came from: "--issuer", "eks:DescribeCluster",
	// "API server discovery".
	Source string `json:"source,omitempty"`
	// Tried lists the sources that were tried and why each failed.
	Tried []string `json:"tried,omitempty"`
}

// ExpectedProviderARN is the IAM OIDC provider STS looks up for this role:
// the issuer's provider in the ROLE's account and partition
// (docs/behaviour.md#sts-validation-order step 2,
// docs/behaviour.md#principal-and-action cross-account).
func ExpectedProviderARN(role awsarn.RoleARN, issuer string) (string, bool) {
	is, err := awsarn.ParseIssuer(issuer)
	if err != nil {
		return "", false
	}
	return awsarn.ProviderARN(role.Partition, role.Account, is.HostPath), true
}

// RoleARNs lists the distinct valid role ARNs of the subjects, in order.
func RoleARNs(subjects []*Subject) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range subjects {
		v, ok := IntendedRoleARN(s)
		if !ok || seen[v] {
			continue
		}
		if _, err := awsarn.ParseRoleARN(v); err == nil {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
