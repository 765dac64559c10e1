package fakeaws_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

const (
	provARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC"
	thumbA  = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
	thumbB  = "06b25927c42a721631c1efd9431e648fa62e1e39"
)

func start(t *testing.T) (*fakeaws.Server, aws.Config) {
	t.Helper()
	fake := fakeaws.New()
	return fake, fakeaws.Start(t, fake)
}

func TestEncodePolicy(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": "b+c"}`, "%7B%22a%22%3A%20%22b%2Bc%22%7D"},
		{"AZaz09-_.~", "AZaz09-_.~"},
		{"café/日", "caf%C3%A9%2F%E6%97%A5"},
		{"100%", "100%25"},
	}
	for _, tt := range tests {
		got := fakeaws.EncodePolicy(tt.in)
		if got != tt.want {
			t.Errorf("EncodePolicy(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if back, err := url.QueryUnescape(got); err != nil || back != tt.in {
			t.Errorf("QueryUnescape(%q) = %q, %v; want %q", got, back, err, tt.in)
		}
	}
}

// TestQueryWireShape checks the raw bytes an SDK would parse, so the fake
// cannot drift from IAM's envelope while the SDK happens to tolerate it.
func TestQueryWireShape(t *testing.T) {
	fake := fakeaws.New()
	fake.AddRole(fakeaws.Role{ARN: "arn:aws:iam::123456789012:role/team/app", TrustPolicy: `{"a":"b c"}`})
	base := fakeaws.Serve(t, fake)

	post := func(form url.Values, scope string) (int, http.Header, string) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if scope != "" {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/"+scope+"/aws4_request, SignedHeaders=host, Signature=00")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}

	status, _, body := post(url.Values{"Action": {"GetRole"}, "Version": {"2010-05-08"}, "RoleName": {"app"}}, "iam")
	for _, want := range []string{
		`<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult><Role>`,
		"<Path>/team/</Path><RoleName>app</RoleName>",
		"<AssumeRolePolicyDocument>%7B%22a%22%3A%22b%20c%22%7D</AssumeRolePolicyDocument>",
		"<ResponseMetadata><RequestId>",
	} {
		if status != 200 || !strings.Contains(body, want) {
			t.Fatalf("GetRole answered %d %s\nwant it to contain %s", status, body, want)
		}
	}

	status, _, body = post(url.Values{"Action": {"GetRole"}, "Version": {"2010-05-08"}, "RoleName": {"nope"}}, "iam")
	if want := `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name nope cannot be found.</Message></Error><RequestId>`; status != 404 || !strings.Contains(body, want) {
		t.Fatalf("missing role answered %d %s", status, body)
	}

	// Unsigned: rejected, and routed to STS by its API version.
	status, _, body = post(url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}, "")
	if status != 403 || !strings.Contains(body, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`) || !strings.Contains(body, "<Code>MissingAuthenticationToken</Code>") {
		t.Fatalf("unsigned STS call answered %d %s", status, body)
	}
	if c := fake.Calls(); c[len(c)-1].Service != "sts" {
		t.Fatalf("unsigned STS call logged as %+v", c[len(c)-1])
	}

	status, _, body = post(url.Values{"Action": {"DeleteRole"}, "Version": {"2010-05-08"}}, "iam")
	if status != 400 || !strings.Contains(body, "<Code>InvalidAction</Code>") {
		t.Fatalf("unknown action answered %d %s", status, body)
	}
}

func TestEKSWireShape(t *testing.T) {
	fake := fakeaws.New()
	resp, err := http.Get(fakeaws.Serve(t, fake) + "/clusters/prod")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-Errortype") != "MissingAuthenticationTokenException" || string(b) != `{"message":"Missing Authentication Token"}` {
		t.Fatalf("unsigned EKS call answered %d %v %s", resp.StatusCode, resp.Header, b)
	}
}

func TestNonLoopbackRejected(t *testing.T) {
	fake := fakeaws.New()
	req := httptest.NewRequest(http.MethodGet, "/clusters/prod", http.NoBody)
	req.RemoteAddr = "192.0.2.10:4242"
	rec := httptest.NewRecorder()
	fake.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || len(fake.Calls()) != 0 {
		t.Fatalf("non-loopback client got %d, calls %v", rec.Code, fake.Calls())
	}
}

func TestListenAndServeLoopbackOnly(t *testing.T) {
	fake := fakeaws.New()
	if err := fake.ListenAndServe(t.Context(), "0.0.0.0:0", nil); err == nil {
		t.Fatal("ListenAndServe on 0.0.0.0 succeeded, want loopback only")
	}
	ctx, cancel := context.WithCancel(t.Context())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- fake.ListenAndServe(ctx, "127.0.0.1:0", func(u string) { urls <- u }) }()
	base := <-urls
	cfg := fakeaws.Config(base)
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Account) != fakeaws.DefaultAccount {
		t.Fatalf("GetCallerIdentity via standalone server = %v, %v", out, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ListenAndServe returned %v after cancel", err)
	}
}

func TestIAMWithRealClient(t *testing.T) {
	fake, cfg := start(t)
	client := iam.NewFromConfig(cfg)
	ctx := t.Context()
	fake.AddRole(fakeaws.Role{ARN: "arn:aws:iam::123456789012:role/app", TrustPolicy: `{"x":"+"}`,
		AttachedPolicyARNs: []string{"arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B", "arn:aws:iam::aws:policy/C", "arn:aws:iam::aws:policy/D"}})

	role, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	// The SDK leaves the document encoded; that is what the collector must undo.
	if got := aws.ToString(role.Role.AssumeRolePolicyDocument); got != "%7B%22x%22%3A%22%2B%22%7D" {
		t.Fatalf("AssumeRolePolicyDocument = %q", got)
	}
	if aws.ToString(role.Role.Path) != "/" || !strings.HasPrefix(aws.ToString(role.Role.RoleId), "AROA") || role.Role.CreateDate == nil {
		t.Fatalf("Role = %+v", role.Role)
	}

	// MaxItems and Marker drive pagination; the marker is opaque.
	p1, err := client.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("app"), MaxItems: aws.Int32(3)})
	if err != nil || !p1.IsTruncated || len(p1.AttachedPolicies) != 3 || aws.ToString(p1.AttachedPolicies[0].PolicyName) != "A" {
		t.Fatalf("page 1 = %+v, %v", p1, err)
	}
	p2, err := client.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("app"), Marker: p1.Marker})
	if err != nil || p2.IsTruncated || p2.Marker != nil || len(p2.AttachedPolicies) != 1 || aws.ToString(p2.AttachedPolicies[0].PolicyArn) != "arn:aws:iam::aws:policy/D" {
		t.Fatalf("page 2 = %+v, %v", p2, err)
	}
	_, err = client.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("app"), Marker: aws.String("bogus")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidInput" {
		t.Fatalf("bogus marker error = %v", err)
	}

	_, err = client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nope")})
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) || nse.ErrorMessage() != "The role with name nope cannot be found." {
		t.Fatalf("GetRole(nope) error = %v, want a typed NoSuchEntityException", err)
	}
}

func TestUpdateThumbprint(t *testing.T) {
	fake, cfg := start(t)
	client := iam.NewFromConfig(cfg)
	ctx := t.Context()
	fake.AddProvider(fakeaws.Provider{ARN: provARN, URL: "https://oidc.eks.us-west-2.amazonaws.com/id/ABC", ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{thumbA}})

	if _, err := client.UpdateOpenIDConnectProviderThumbprint(ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{
		OpenIDConnectProviderArn: aws.String(provARN), ThumbprintList: []string{thumbB},
	}); err != nil {
		t.Fatal(err)
	}
	got, err := client.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provARN)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.ThumbprintList, []string{thumbB}) || aws.ToString(got.Url) != "oidc.eks.us-west-2.amazonaws.com/id/ABC" || !reflect.DeepEqual(got.ClientIDList, []string{"sts.amazonaws.com"}) {
		t.Fatalf("provider after update = %+v", got)
	}

	tests := []struct {
		name string
		arn  string
		list []string
		code string
		msg  string
	}{
		{"short", provARN, []string{"abc"}, "ValidationError", "Member must have length greater than or equal to 40"},
		{"too many", provARN, []string{thumbA, thumbA, thumbA, thumbA, thumbA, thumbA}, "ValidationError", "Member must have length less than or equal to 5"},
		{"missing provider", provARN + "X", []string{thumbA}, "NoSuchEntity", "OpenIDConnect Provider not found for arn " + provARN + "X"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.UpdateOpenIDConnectProviderThumbprint(ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{OpenIDConnectProviderArn: aws.String(tt.arn), ThumbprintList: tt.list})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.code || !strings.Contains(apiErr.ErrorMessage(), tt.msg) {
				t.Fatalf("error = %v, want %s containing %q", err, tt.code, tt.msg)
			}
		})
	}
	if p, _ := fake.Provider(provARN); !reflect.DeepEqual(p.Thumbprints, []string{thumbB}) {
		t.Fatalf("a rejected update changed the provider: %v", p.Thumbprints)
	}
}

func TestListProvidersCallerAccountOnly(t *testing.T) {
	fake, cfg := start(t)
	fake.AddProvider(fakeaws.Provider{ARN: provARN, URL: "oidc.eks.us-west-2.amazonaws.com/id/ABC"})
	fake.AddProvider(fakeaws.Provider{ARN: "arn:aws:iam::999999999999:oidc-provider/x", URL: "x"})
	out, err := iam.NewFromConfig(cfg).ListOpenIDConnectProviders(t.Context(), &iam.ListOpenIDConnectProvidersInput{})
	if err != nil || len(out.OpenIDConnectProviderList) != 1 || aws.ToString(out.OpenIDConnectProviderList[0].Arn) != provARN {
		t.Fatalf("ListOpenIDConnectProviders = %+v, %v", out, err)
	}
}

func TestEKSWithRealClient(t *testing.T) {
	fake, cfg := start(t)
	client := eks.NewFromConfig(cfg)
	fake.AddCluster(fakeaws.Cluster{Name: "prod", ARN: "arn:aws:eks:us-west-2:123456789012:cluster/prod", Version: "1.31", PlatformVersion: "eks.13", Issuer: "https://oidc.eks.us-west-2.amazonaws.com/id/ABC"})
	out, err := client.DescribeCluster(t.Context(), &eks.DescribeClusterInput{Name: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Cluster
	if aws.ToString(c.Name) != "prod" || aws.ToString(c.Version) != "1.31" || aws.ToString(c.PlatformVersion) != "eks.13" ||
		aws.ToString(c.Identity.Oidc.Issuer) != "https://oidc.eks.us-west-2.amazonaws.com/id/ABC" || c.CreatedAt == nil || c.Status != "ACTIVE" {
		t.Fatalf("cluster = %+v", c)
	}

	fake.Throttle("DescribeCluster", 5)
	_, err = client.DescribeCluster(t.Context(), &eks.DescribeClusterInput{Name: aws.String("prod")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ThrottlingException" || apiErr.ErrorMessage() != "Rate exceeded" {
		t.Fatalf("throttled error = %v", err)
	}
	if n := fake.Count("eks:DescribeCluster"); n != 4 {
		t.Fatalf("DescribeCluster calls = %d, want 1 + 3 attempts (429 is retried)", n)
	}
}

func TestFaultsAndCallLog(t *testing.T) {
	fake, cfg := start(t)
	client := iam.NewFromConfig(cfg)
	fake.AddRole(fakeaws.Role{ARN: "arn:aws:iam::123456789012:role/a", TrustPolicy: "{}"})
	fake.AddRole(fakeaws.Role{ARN: "arn:aws:iam::123456789012:role/b", TrustPolicy: "{}"})
	fake.Fail("GetRole", "a", "ServiceFailure", "boom", 500)

	// 500 is retried by the SDK: 3 attempts against "a", 1 against "b".
	_, errA := client.GetRole(t.Context(), &iam.GetRoleInput{RoleName: aws.String("a")})
	_, errB := client.GetRole(t.Context(), &iam.GetRoleInput{RoleName: aws.String("b")})
	var apiErr smithy.APIError
	if !errors.As(errA, &apiErr) || apiErr.ErrorCode() != "ServiceFailure" || errB != nil {
		t.Fatalf("errA = %v, errB = %v", errA, errB)
	}
	want := []fakeaws.Call{{Service: "iam", Op: "GetRole", Resource: "a"}, {Service: "iam", Op: "GetRole", Resource: "a"}, {Service: "iam", Op: "GetRole", Resource: "a"}, {Service: "iam", Op: "GetRole", Resource: "b"}}
	got := fake.Calls()
	for i := range got {
		got[i].UserAgent = ""
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Calls() = %+v, want %+v", got, want)
	}

	fake.ClearFaults()
	fake.ResetCalls()
	if _, err := client.GetRole(t.Context(), &iam.GetRoleInput{RoleName: aws.String("a")}); err != nil || fake.Count("GetRole") != 1 {
		t.Fatalf("after ClearFaults: %v, count %d", err, fake.Count("GetRole"))
	}
}

func TestConcurrentUseAndInFlight(t *testing.T) {
	fake, cfg := start(t)
	client := sts.NewFromConfig(cfg)
	fake.Latency(20 * time.Millisecond)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Go(func() {
			fake.AddRole(fakeaws.Role{ARN: fmt.Sprintf("arn:aws:iam::123456789012:role/r%d", i)})
			if _, err := client.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{}); err != nil {
				errs <- err
			}
			_ = fake.Calls()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n, m := fake.Count("sts:GetCallerIdentity"), fake.MaxInFlight(); n != 10 || m < 2 || m > 10 {
		t.Fatalf("count %d, max in flight %d", n, m)
	}
}
