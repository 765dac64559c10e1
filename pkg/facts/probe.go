package facts

import "time"

// ProbeFacts is what `diagnose --probe` learned for one subject. It holds
// decoded claims and verdicts only: never the token, never credentials.
type ProbeFacts struct {
	Audience string `json:"audience,omitempty"`
	// TokenErr is set when TokenRequest failed; nothing else ran then.
	TokenErr *ReadError  `json:"tokenError,omitempty"`
	Claims   ProbeClaims `json:"claims,omitempty"`
	Steps    []ProbeStep `json:"steps,omitempty"`
	// AssumedRoleARN is set when STS accepted the token.
	AssumedRoleARN string `json:"assumedRoleARN,omitempty"`
	// STSCode and STSMessage are STS's error; STSErr a transport failure.
	STSCode    string `json:"stsCode,omitempty"`
	STSMessage string `json:"stsMessage,omitempty"`
	STSErr     string `json:"stsError,omitempty"`
	// Explanation maps the STS error to its likely cause (pkg/explain).
	Explanation *ProbeExplanation `json:"explanation,omitempty"`
}

// ProbeClaims are the decoded claims of the minted token.
type ProbeClaims struct {
	Issuer   string    `json:"issuer,omitempty"`
	Subject  string    `json:"subject,omitempty"`
	Audience []string  `json:"audience,omitempty"`
	Expiry   time.Time `json:"expiry,omitempty"`
}

// ProbeStep is one stage of STS-style verification.
type ProbeStep struct {
	Name   string `json:"name"`
	Detail string `json:"detail,omitempty"`
	OK     bool   `json:"ok"`
}

// ProbeExplanation is the cause an STS error points to.
type ProbeExplanation struct {
	ID       string   `json:"id,omitempty"`
	Cause    string   `json:"cause,omitempty"`
	CheckIDs []string `json:"checkIds,omitempty"`
}

// PodIdentityProbe is what `diagnose --probe` learned for one Pod Identity
// subject: a token with audience pods.eks.amazonaws.com bound to its pod,
// presented to EKS Auth AssumeRoleForPodIdentity with the plugin's own
// credentials. It holds claims and verdicts only; the credentials EKS Auth
// returns are discarded unread.
type PodIdentityProbe struct {
	// TokenErr is set when TokenRequest failed; nothing else ran then.
	TokenErr *ReadError  `json:"tokenError,omitempty"`
	Claims   ProbeClaims `json:"claims,omitempty"`
	// AssumedRoleARN is the assumed role's ARN when EKS Auth answered.
	AssumedRoleARN string `json:"assumedRoleARN,omitempty"`
	// SessionTags are the session tags EKS sets on the session, derived from
	// the cluster, the association and the pod (EKS Auth's answer does not
	// carry them); nil when the association disables session tags.
	SessionTags map[string]string `json:"sessionTags,omitempty"`
	// Code and Message are EKS Auth's error; Err a transport failure or a
	// client that could not be built (no region, no credentials).
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	Err     string `json:"error,omitempty"`
	// Explanation maps the error to the checks that explain it (pkg/explain).
	Explanation *ProbeExplanation `json:"explanation,omitempty"`
}
