package cloud_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

// trustPolicy exercises IAM's encoding: '+', spaces, quotes, a percent sign
// and non-ASCII text must survive the round trip byte for byte.
const trustPolicy = `{"Version": "2012-10-17", "Statement": [{"Sid": "a+b c", "Effect": "Allow", ` +
	`"Principal": {"Federated": "` + provARN + `"}, "Action": "sts:AssumeRoleWithWebIdentity", ` +
	`"Condition": {"StringEquals": {"` + provURL + `:sub": "system:serviceaccount:café:日本-app", ` +
	`"` + provURL + `:aud": "sts.amazonaws.com"}}, "Description": "100% \"quoted\" ~_-."}]}`

func TestRoleHealthyWithPathAndEncodedTrustPolicy(t *testing.T) {
	fake, c := newEnv(t, 0)
	fake.AddRole(fakeaws.Role{ARN: roleARN, TrustPolicy: trustPolicy, AttachedPolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, InlinePolicyNames: []string{"s3"}})

	got := c.Role(ctxT(t), roleARN)

	want := facts.Role{
		ARN: roleARN, Name: "app", Path: "/team/", TrustPolicy: trustPolicy, Found: true,
		AttachedPolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, InlinePolicyNames: []string{"s3"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Role() =\n%+v\nwant\n%+v", got, want)
	}
	calls := fake.Calls()
	if len(calls) == 0 || calls[0] != (fakeaws.Call{Service: "iam", Op: "GetRole", Resource: "app", UserAgent: calls[0].UserAgent}) {
		t.Fatalf("first call = %+v, want iam GetRole for name app", calls)
	}
}

func TestRoleNotFound(t *testing.T) {
	fake, c := newEnv(t, 0)
	arn := "arn:aws:iam::123456789012:role/missing"
	got := c.Role(ctxT(t), arn)
	if got.Found {
		t.Fatal("Found = true for a missing role")
	}
	want := &facts.CallError{Op: "iam:GetRole", Resource: arn, Code: facts.ErrNotFound, APICode: "NoSuchEntity", Message: "The role with name missing cannot be found."}
	if !reflect.DeepEqual(got.Err, want) {
		t.Fatalf("Err = %+v, want %+v", got.Err, want)
	}
	if n := fake.Count("ListAttachedRolePolicies") + fake.Count("ListRolePolicies"); n != 0 {
		t.Fatalf("listed policies of a missing role (%d calls)", n)
	}
}

func TestRoleAccessDenied(t *testing.T) {
	fake, c := newEnv(t, 0)
	fake.AddRole(fakeaws.Role{ARN: roleARN, TrustPolicy: "{}"})
	fake.Fail("iam:GetRole", roleARN, "AccessDenied", "", 0)

	got := c.Role(ctxT(t), roleARN)
	if got.Found || got.Err == nil {
		t.Fatalf("Role() = %+v, want an error", got)
	}
	if got.Err.Code != facts.ErrAccessDenied || got.Err.Op != "iam:GetRole" || got.Err.APICode != "AccessDenied" {
		t.Fatalf("Err = %+v, want AccessDenied on iam:GetRole", got.Err)
	}
	if want := "is not authorized to perform: iam:GetRole on resource: app"; !strings.Contains(got.Err.Message, want) {
		t.Fatalf("Message = %q, want it to contain %q", got.Err.Message, want)
	}
	if n := fake.Count("GetRole"); n != 1 {
		t.Fatalf("GetRole calls = %d, want 1 (AccessDenied is not retried)", n)
	}
}

func TestRoleThrottledThenSucceeds(t *testing.T) {
	fake, c := newEnv(t, 0)
	fake.AddRole(fakeaws.Role{ARN: roleARN, TrustPolicy: "{}"})
	fake.Throttle("iam:GetRole", 2)

	got := c.Role(ctxT(t), roleARN)
	if !got.Found || got.Err != nil {
		t.Fatalf("Role() = %+v, want found after retries", got)
	}
	if n := fake.Count("iam:GetRole"); n != 3 {
		t.Fatalf("GetRole calls = %d, want 3 (2 throttled + 1 success)", n)
	}
}

func TestRoleThrottledPersistently(t *testing.T) {
	fake, c := newEnv(t, 0)
	fake.AddRole(fakeaws.Role{ARN: roleARN, TrustPolicy: "{}"})
	fake.Throttle("GetRole", 100)

	got := c.Role(ctxT(t), roleARN)
	want := &facts.CallError{Op: "iam:GetRole", Resource: roleARN, Code: facts.ErrThrottled, APICode: "Throttling", Message: "Rate exceeded (gave up after 3 attempts)"}
	if !reflect.DeepEqual(got.Err, want) {
		t.Fatalf("Err = %+v, want %+v", got.Err, want)
	}
	if n := fake.Count("GetRole"); n != 3 {
		t.Fatalf("GetRole calls = %d, want 3 (the standard retryer's attempts)", n)
	}
}

func TestTimeout(t *testing.T) {
	fake, c := newEnv(t, 0)
	fake.AddRole(fakeaws.Role{ARN: roleARN, TrustPolicy: "{}"})
	fake.Latency(3 * time.Second)

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	got := c.Role(ctx, roleARN)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Role() took %v, the deadline was not honoured", d)
	}
	if got.Err == nil || got.Err.Code != facts.ErrTimeout || got.Err.Op != "iam:GetRole" {
		t.Fatalf("Err = %+v, want Timeout on iam:GetRole", got.Err)
	}
}

func TestRolePoliciesPagination(t *testing.T) {
	fake, c := newEnv(t, 0)
	var attached, inline []string
	for i := range 7 {
		attached = append(attached, fmt.Sprintf("arn:aws:iam::123456789012:policy/p%d", i))
	}
	for i := range 5 {
		inline = append(inline, fmt.Sprintf("inline-%d", i))
	}
	fake.AddRole(fakeaws.Role{ARN: roleARN, TrustPolicy: "{}", AttachedPolicyARNs: attached, InlinePolicyNames: inline})

	got := c.Role(ctxT(t), roleARN)
	if got.PoliciesErr != nil {
		t.Fatalf("PoliciesErr = %+v", got.PoliciesErr)
	}
	if !reflect.DeepEqual(got.AttachedPolicyARNs, attached) || !reflect.DeepEqual(got.InlinePolicyNames, inline) {
		t.Fatalf("got attached %v inline %v, want %v and %v", got.AttachedPolicyARNs, got.InlinePolicyNames, attached, inline)
	}
	// Page size 2: 7 items take 4 pages, 5 items take 3.
	if a, i := fake.Count("ListAttachedRolePolicies"), fake.Count("ListRolePolicies"); a != 4 || i != 3 {
		t.Fatalf("pages fetched: attached %d inline %d, want 4 and 3", a, i)
	}
}

func TestRolePoliciesErrorKeepsRoleFacts(t *testing.T) {
	fake, c := newEnv(t, 0)
	fake.AddRole(fakeaws.Role{ARN: roleARN, TrustPolicy: `{"a":1}`, AttachedPolicyARNs: []string{"arn:aws:iam::aws:policy/A"}})
	fake.Fail("ListRolePolicies", "app", "AccessDenied", "", 0)

	got := c.Role(ctxT(t), roleARN)
	if !got.Found || got.Err != nil || got.TrustPolicy != `{"a":1}` {
		t.Fatalf("role facts lost: %+v", got)
	}
	if got.PoliciesErr == nil || got.PoliciesErr.Op != "iam:ListRolePolicies" || got.PoliciesErr.Code != facts.ErrAccessDenied {
		t.Fatalf("PoliciesErr = %+v, want AccessDenied on iam:ListRolePolicies", got.PoliciesErr)
	}
	if !reflect.DeepEqual(got.AttachedPolicyARNs, []string{"arn:aws:iam::aws:policy/A"}) {
		t.Fatalf("AttachedPolicyARNs = %v", got.AttachedPolicyARNs)
	}
}

func TestRoleInOtherAccountIsNotMistaken(t *testing.T) {
	fake, c := newEnv(t, 0)
	// The caller's account has a role with the same name; GetRole by name
	// finds that one, which is not the role the ARN names.
	fake.AddRole(fakeaws.Role{ARN: "arn:aws:iam::123456789012:role/app", TrustPolicy: "{}"})
	other := "arn:aws:iam::210987654321:role/app"

	got := c.Role(ctxT(t), other)
	if got.Found || got.Err == nil || got.Err.Code != facts.ErrOther || !strings.Contains(got.Err.Message, "account 210987654321") {
		t.Fatalf("Role() = %+v, want an account-mismatch error", got)
	}
}

func TestRoleInvalidARN(t *testing.T) {
	fake, c := newEnv(t, 0)
	for _, a := range []string{"app", "arn:aws:iam::123456789012:user/app", "arn:aws:iam::123456789012:role/"} {
		got := c.Role(ctxT(t), a)
		if got.Found || got.Err == nil || got.Err.Code != facts.ErrOther || got.Err.Resource != a {
			t.Errorf("Role(%q) = %+v, want an input error", a, got)
		}
	}
	if n := len(fake.Calls()); n != 0 {
		t.Fatalf("invalid ARNs reached AWS (%d calls)", n)
	}
}

func TestProviderFoundAndNotFound(t *testing.T) {
	fake, c := newEnv(t, 0)
	fake.AddProvider(fakeaws.Provider{ARN: provARN, URL: provURL, ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{thumb}})

	got := c.Provider(ctxT(t), provARN)
	want := facts.OIDCProvider{ARN: provARN, URL: provURL, ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{thumb}, Found: true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Provider() = %+v, want %+v", got, want)
	}

	missing := "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/NOPE"
	got = c.Provider(ctxT(t), missing)
	if got.Found || got.Err == nil || got.Err.Code != facts.ErrNotFound || got.Err.APICode != "NoSuchEntity" || got.Err.Op != "iam:GetOpenIDConnectProvider" {
		t.Fatalf("Provider(missing) = %+v, want NotFound", got)
	}
	if got.Err.Message != "OpenIDConnect Provider not found for arn "+missing {
		t.Fatalf("Message = %q", got.Err.Message)
	}
}

func TestListProviders(t *testing.T) {
	fake, c := newEnv(t, 0)
	p2 := "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/B"
	fake.AddProvider(fakeaws.Provider{ARN: provARN, URL: provURL})
	fake.AddProvider(fakeaws.Provider{ARN: p2, URL: "oidc.eks.eu-west-1.amazonaws.com/id/B"})
	fake.AddProvider(fakeaws.Provider{ARN: "arn:aws:iam::999999999999:oidc-provider/x", URL: "x"})

	got := c.ListProviders(ctxT(t), acct)
	want := facts.ProviderList{Account: acct, ARNs: []string{p2, provARN}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ListProviders() = %+v, want %+v", got, want)
	}
	got = c.ListProviders(ctxT(t), "999999999999")
	if got.Err == nil || got.ARNs != nil {
		t.Fatalf("ListProviders(other account) = %+v, want an error, not a list", got)
	}
}

func TestCluster(t *testing.T) {
	fake, c := newEnv(t, 0)
	fake.AddCluster(fakeaws.Cluster{Name: "prod", ARN: clusterA, Version: "1.31", PlatformVersion: "eks.13", Issuer: issuer})
	fake.AddCluster(fakeaws.Cluster{Name: "edge", ARN: "arn:aws:eks:eu-central-1:123456789012:cluster/edge", Version: "1.30", PlatformVersion: "eks.2"})

	tests := []struct {
		name string
		want facts.Cluster
	}{
		{"prod", facts.Cluster{Name: "prod", Region: "us-west-2", ARN: clusterA, Version: "1.31", PlatformVersion: "eks.13", Issuer: issuer}},
		// No identity block: Issuer stays empty, no nil dereference; the
		// region comes from the ARN, not from the client configuration.
		{"edge", facts.Cluster{Name: "edge", Region: "eu-central-1", ARN: "arn:aws:eks:eu-central-1:123456789012:cluster/edge", Version: "1.30", PlatformVersion: "eks.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Cluster(ctxT(t), tt.name); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Cluster() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestClusterErrors(t *testing.T) {
	fake, c := newEnv(t, 0)
	fake.AddCluster(fakeaws.Cluster{Name: "prod", ARN: clusterA, Issuer: issuer})

	got := c.Cluster(ctxT(t), "nope")
	want := &facts.CallError{Op: "eks:DescribeCluster", Resource: "nope", Code: facts.ErrNotFound, APICode: "ResourceNotFoundException", Message: "No cluster found for name: nope."}
	if !reflect.DeepEqual(got.Err, want) || got.Region != "us-west-2" {
		t.Fatalf("Cluster(nope) = %+v, want Err %+v and the configured region", got, want)
	}

	fake.Throttle("eks:DescribeCluster", 1)
	if got := c.Cluster(ctxT(t), "prod"); got.Err != nil || got.Issuer != issuer {
		t.Fatalf("Cluster(prod) after one 429 = %+v, want success", got)
	}
	if n := fake.Count("DescribeCluster"); n != 3 {
		t.Fatalf("DescribeCluster calls = %d, want 3 (nope, throttled, retry)", n)
	}

	fake.Fail("DescribeCluster", "prod", "AccessDeniedException", "User is not authorized to perform: eks:DescribeCluster", 0)
	got = c.Cluster(ctxT(t), "prod")
	if got.Err == nil || got.Err.Code != facts.ErrAccessDenied || got.Err.APICode != "AccessDeniedException" || got.Err.Message != "User is not authorized to perform: eks:DescribeCluster" {
		t.Fatalf("Cluster(prod) denied = %+v", got.Err)
	}
}

func TestCaller(t *testing.T) {
	fake, c := newEnv(t, 0)
	fake.SetCaller(fakeaws.Caller{ARN: "arn:aws:sts::123456789012:assumed-role/admin/jane"})
	got := c.Caller(ctxT(t))
	want := facts.Caller{Account: acct, ARN: "arn:aws:sts::123456789012:assumed-role/admin/jane"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Caller() = %+v, want %+v", got, want)
	}
	if calls := fake.Calls(); len(calls) != 1 || calls[0].Service != "sts" || calls[0].Op != "GetCallerIdentity" {
		t.Fatalf("calls = %+v, want one sts GetCallerIdentity", calls)
	}
}

func TestRejectedCredentials(t *testing.T) {
	fake, c := newEnv(t, 0)
	fake.Fail("sts:GetCallerIdentity", "", "InvalidClientTokenId", "The security token included in the request is invalid.", 403)
	got := c.Caller(ctxT(t))
	want := &facts.CallError{Op: "sts:GetCallerIdentity", Code: facts.ErrNoCredentials, APICode: "InvalidClientTokenId", Message: "AWS rejected the credentials: The security token included in the request is invalid."}
	if !reflect.DeepEqual(got.Err, want) {
		t.Fatalf("Err = %+v, want %+v", got.Err, want)
	}
}

// A config without any credentials provider sends unsigned requests; AWS (and
// the fake) answer MissingAuthenticationToken.
func TestNoCredentialsUnsigned(t *testing.T) {
	cfg := fakeaws.Start(t, fakeaws.New())
	cfg.Credentials = nil
	c := cloud.NewCollector(cfg, cloud.CollectorOptions{})

	role := c.Role(ctxT(t), roleARN)
	if role.Err == nil || role.Err.Code != facts.ErrNoCredentials || role.Err.APICode != "MissingAuthenticationToken" {
		t.Fatalf("Role().Err = %+v, want NoCredentials", role.Err)
	}
	cl := c.Cluster(ctxT(t), "prod")
	if cl.Err == nil || cl.Err.Code != facts.ErrNoCredentials || cl.Err.APICode != "MissingAuthenticationTokenException" {
		t.Fatalf("Cluster().Err = %+v, want NoCredentials", cl.Err)
	}
}

// isolateAWSEnv clears every variable that could give the SDK credentials or
// config, so the test never reads the developer's ~/.aws or an instance role.
func isolateAWSEnv(t *testing.T) {
	dir := t.TempDir()
	for _, k := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_EKS", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "us-west-2")
}

func TestNoCredentialsFromDefaultChain(t *testing.T) {
	fake := fakeaws.New()
	endpoint := fakeaws.Serve(t, fake)
	isolateAWSEnv(t)
	t.Setenv("AWS_ENDPOINT_URL", endpoint)

	cfg, err := cloud.LoadConfig(ctxT(t), cloud.ConfigOptions{})
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	c := cloud.NewCollector(cfg, cloud.CollectorOptions{})
	got := c.Role(ctxT(t), roleARN)
	if got.Err == nil || got.Err.Code != facts.ErrNoCredentials || got.Err.APICode != "" {
		t.Fatalf("Err = %+v, want NoCredentials without an AWS code", got.Err)
	}
	if want := "no usable AWS credentials found: no EC2 IMDS role found, operation error ec2imds: GetMetadata, access disabled to EC2 IMDS"; !strings.HasPrefix(got.Err.Message, want) || strings.Contains(got.Err.Message, "\n") {
		t.Fatalf("Message = %q", got.Err.Message)
	}
	if n := len(fake.Calls()); n != 0 {
		t.Fatalf("a request without credentials reached AWS (%d calls)", n)
	}
}

// LoadConfig honours AWS_ENDPOINT_URL_<SERVICE>, env credentials, the user
// agent and MaxAttempts: the path the e2e tests take.
func TestLoadConfigWithEndpointEnv(t *testing.T) {
	fake := fakeaws.New()
	endpoint := fakeaws.Serve(t, fake)
	isolateAWSEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", fakeaws.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", fakeaws.SecretAccessKey)
	t.Setenv("AWS_ENDPOINT_URL_IAM", endpoint)
	t.Setenv("AWS_ENDPOINT_URL_STS", endpoint)
	t.Setenv("AWS_ENDPOINT_URL_EKS", endpoint)

	cfg, err := cloud.LoadConfig(ctxT(t), cloud.ConfigOptions{UserAgentVersion: "1.2.3", MaxAttempts: 1})
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if cfg.Region != "us-west-2" {
		t.Fatalf("Region = %q, want it from AWS_REGION", cfg.Region)
	}
	fake.AddRole(fakeaws.Role{ARN: roleARN, TrustPolicy: trustPolicy})
	fake.AddProvider(fakeaws.Provider{ARN: provARN, URL: provURL})
	fake.AddCluster(fakeaws.Cluster{Name: "prod", ARN: clusterA, Issuer: issuer})

	c := cloud.NewCollector(cfg, cloud.CollectorOptions{})
	f := c.Gather(ctxT(t), cloud.GatherInput{ClusterName: "prod", RoleARNs: []string{roleARN}})
	if f.Caller.Account != acct || f.Cluster == nil || f.Cluster.Issuer != issuer || !f.Roles[roleARN].Found ||
		f.Roles[roleARN].TrustPolicy != trustPolicy || !f.Providers[provARN].Found {
		t.Fatalf("Collect through LoadConfig = %+v", f)
	}
	for _, call := range fake.Calls() {
		if !strings.Contains(call.UserAgent, "kubectl-irsa/1.2.3") {
			t.Fatalf("%s User-Agent %q lacks kubectl-irsa/1.2.3", call.Op, call.UserAgent)
		}
	}

	// MaxAttempts: 1 means a throttled call is not retried.
	fake.Throttle("DescribeCluster", 1)
	if got := c.Cluster(ctxT(t), "prod"); got.Err == nil || got.Err.Code != facts.ErrThrottled {
		t.Fatalf("Cluster() = %+v, want Throttled with one attempt", got)
	}
	if n := fake.Count("DescribeCluster"); n != 2 {
		t.Fatalf("DescribeCluster calls = %d, want 2 (one per Cluster call)", n)
	}
}

func TestCollectDedupesAndKeepsGoing(t *testing.T) {
	fake, c := newEnv(t, 0)
	denied := "arn:aws:iam::123456789012:role/denied"
	missing := "arn:aws:iam::123456789012:role/missing"
	fake.AddRole(fakeaws.Role{ARN: roleARN, TrustPolicy: "{}"})
	fake.AddRole(fakeaws.Role{ARN: denied, TrustPolicy: "{}"})
	fake.Fail("GetRole", denied, "AccessDenied", "", 0)
	fake.AddProvider(fakeaws.Provider{ARN: provARN, URL: provURL})
	fake.AddCluster(fakeaws.Cluster{Name: "prod", ARN: clusterA, Issuer: issuer})

	// The issuer comes from DescribeCluster. Every role is in acct, so one
	// provider is read for all of them; it exists, so the caller's provider
	// list (read only to explain a missing provider) is not.
	f := c.Gather(ctxT(t), cloud.GatherInput{
		ClusterName: "prod",
		RoleARNs:    []string{roleARN, missing, roleARN, denied, "", roleARN, missing},
	})

	if n := fake.Count("GetRole"); n != 3 {
		t.Fatalf("GetRole calls = %d, want exactly one per distinct ARN (3)", n)
	}
	if n := fake.Count("GetOpenIDConnectProvider"); n != 1 {
		t.Fatalf("GetOpenIDConnectProvider calls = %d, want 1", n)
	}
	if len(f.Roles) != 3 {
		t.Fatalf("Roles has %d entries, want 3: %v", len(f.Roles), f.Roles)
	}
	if r := f.Roles[roleARN]; !r.Found || r.Err != nil {
		t.Errorf("healthy role = %+v", r)
	}
	if r := f.Roles[missing]; r.Found || r.Err == nil || r.Err.Code != facts.ErrNotFound {
		t.Errorf("missing role = %+v", r)
	}
	if r := f.Roles[denied]; r.Found || r.Err == nil || r.Err.Code != facts.ErrAccessDenied {
		t.Errorf("denied role = %+v", r)
	}
	if f.Cluster == nil || f.Cluster.Issuer != issuer {
		t.Errorf("Cluster = %+v", f.Cluster)
	}
	if f.Caller.Account != acct {
		t.Errorf("Caller = %+v", f.Caller)
	}
	if !f.Providers[provARN].Found || len(f.ProviderLists) != 0 || fake.Count("ListOpenIDConnectProviders") != 0 {
		t.Errorf("Providers = %+v, ProviderLists = %+v: want the one provider and no list", f.Providers, f.ProviderLists)
	}
	// Served from the per-run cache: no second GetRole.
	if r := c.Role(ctxT(t), roleARN); !r.Found || fake.Count("GetRole") != 3 {
		t.Errorf("Role() after Collect made a new call (count %d)", fake.Count("GetRole"))
	}
}

func TestCollectWithoutClusterOrLists(t *testing.T) {
	_, c := newEnv(t, 0)
	f := c.Gather(ctxT(t), cloud.GatherInput{})
	if f.Cluster != nil || len(f.Roles) != 0 || len(f.Providers) != 0 || len(f.ProviderLists) != 0 || f.Roles == nil || f.Issuer.URL != "" {
		t.Fatalf("Gather(empty) = %+v", f)
	}
	if f.Caller.Account != acct {
		t.Fatalf("Caller = %+v", f.Caller)
	}
}

func TestRoleConcurrentSameARNFetchedOnce(t *testing.T) {
	fake, c := newEnv(t, 0)
	fake.AddRole(fakeaws.Role{ARN: roleARN, TrustPolicy: trustPolicy, InlinePolicyNames: []string{"a"}})
	fake.Latency(30 * time.Millisecond)

	const n = 20
	results := make([]facts.Role, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i] = c.Role(ctxT(t), roleARN) })
	}
	wg.Wait()
	if got := fake.Count("GetRole"); got != 1 {
		t.Fatalf("GetRole calls = %d, want 1", got)
	}
	for i, r := range results {
		if !reflect.DeepEqual(r, results[0]) || !r.Found {
			t.Fatalf("result %d = %+v differs from %+v", i, r, results[0])
		}
	}
	// Callers get their own slices.
	results[0].InlinePolicyNames[0] = "mutated"
	if r := c.Role(ctxT(t), roleARN); r.InlinePolicyNames[0] != "a" {
		t.Fatal("cached role was mutated through a caller's slice")
	}
}

func TestCollectConcurrencyBound(t *testing.T) {
	fake, c := newEnv(t, 3)
	var arns []string
	for i := range 12 {
		a := fmt.Sprintf("arn:aws:iam::123456789012:role/r%02d", i)
		arns = append(arns, a)
		fake.AddRole(fakeaws.Role{ARN: a, TrustPolicy: "{}"})
	}
	fake.Latency(15 * time.Millisecond)

	f := c.Gather(ctxT(t), cloud.GatherInput{RoleARNs: arns})
	if len(f.Roles) != 12 {
		t.Fatalf("got %d roles", len(f.Roles))
	}
	if m := fake.MaxInFlight(); m > 3 || m < 2 {
		t.Fatalf("max requests in flight = %d, want 2..3 (bound 3, and actually concurrent)", m)
	}
}

func TestCollectCancellation(t *testing.T) {
	fake, c := newEnv(t, 2)
	var arns []string
	for i := range 20 {
		a := fmt.Sprintf("arn:aws:iam::123456789012:role/r%02d", i)
		arns = append(arns, a)
		fake.AddRole(fakeaws.Role{ARN: a, TrustPolicy: "{}"})
	}
	fake.Latency(200 * time.Millisecond)

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	f := c.Gather(ctx, cloud.GatherInput{RoleARNs: arns})
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Collect took %v after cancellation", d)
	}
	if len(f.Roles) != 20 {
		t.Fatalf("got %d role facts, want 20 (cancelled ones recorded as errors)", len(f.Roles))
	}
	for a, r := range f.Roles {
		if r.Found || r.Err == nil || r.Err.Code != facts.ErrOther || r.Err.Message != "canceled before AWS answered" {
			t.Fatalf("role %s = %+v, want a cancellation error", a, r)
		}
	}
	if n := fake.Count("GetRole"); n > 3 {
		t.Fatalf("GetRole calls = %d; queued calls should not start after cancellation", n)
	}
	if f.Caller.Err == nil {
		t.Fatalf("Caller = %+v, want a cancellation error", f.Caller)
	}
}

func TestNewCollectorRegion(t *testing.T) {
	c := cloud.NewCollector(aws.Config{Region: "cn-north-1"}, cloud.CollectorOptions{Concurrency: 4})
	if c.Region != "cn-north-1" || c.Concurrency != 4 || c.IAM == nil || c.EKS == nil || c.STS == nil {
		t.Fatalf("NewCollector = %+v", c)
	}
}
