package fakeaws_test

import (
	"crypto/elliptic"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/eksauth"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/jwstest"
)

const (
	piAccount    = "123456789012"
	piRole       = "arn:aws:iam::123456789012:role/pods/web"
	piTargetRole = "arn:aws:iam::444455556666:role/data-reader"
	piPodUID     = "7d1b2c3e-0000-4000-8000-000000000042"
	// msgDenied is EKS Auth's observed answer to a refusing trust policy.
	msgDenied = "Unauthorized Exception! EKS does not have permissions to assume the associated role."
)

// podTrust is a Pod Identity trust policy; actions and cond are JSON.
func podTrust(actions, cond string) string {
	s := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":` + actions
	if cond != "" {
		s += `,"Condition":` + cond
	}
	return s + "}]}"
}

const bothActions = `["sts:AssumeRole","sts:TagSession"]`

// piWorld is a cluster whose issuer is a jwstest issuer, an association for
// shop/web and its role.
type piWorld struct {
	fake   *fakeaws.Server
	client *eksauth.Client
	issuer *jwstest.Issuer
	assoc  fakeaws.Association
}

func newPIWorld(t *testing.T, is *jwstest.Issuer, assoc fakeaws.Association, trust string) *piWorld {
	t.Helper()
	fake, cfg := start(t)
	fake.AddCluster(fakeaws.Cluster{Name: piCluster, ARN: piClusterARN, Issuer: is.URL})
	fake.AddRole(fakeaws.Role{ARN: piRole, TrustPolicy: trust})
	assoc.ClusterName, assoc.Namespace, assoc.ServiceAccount, assoc.RoleARN = piCluster, "shop", "web", piRole
	return &piWorld{fake: fake, client: eksauth.New(cfg), issuer: is, assoc: fake.AddAssociation(assoc)}
}

func (w *piWorld) token(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	c := jwstest.ServiceAccountClaims(w.issuer.URL, "pods.eks.amazonaws.com", "shop", "web", "web-7f9c", piPodUID, time.Now().Add(time.Hour))
	if edit != nil {
		edit(c)
	}
	return w.issuer.Sign(t, c)
}

func TestAssumeRoleForPodIdentity(t *testing.T) {
	is := jwstest.StartIssuer(t, nil)
	other, err := jwstest.NewRSA(is.Key.Kid) // same kid, another key
	if err != nil {
		t.Fatal(err)
	}
	ec, err := jwstest.NewEC("ec", elliptic.P256())
	if err != nil {
		t.Fatal(err)
	}
	ecIssuer := jwstest.StartIssuer(t, ec)
	const targetTrust = `{"Statement":{"Effect":"Allow","Principal":{"AWS":"` + piRole + `"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":"%s"}}}}`

	tests := []struct {
		name    string
		issuer  *jwstest.Issuer // nil: is
		assoc   fakeaws.Association
		trust   string // "": both actions, no condition
		target  string // trust of piTargetRole, with %s for the external ID; "" no target role
		cluster string // "": piCluster
		token   func(w *piWorld) string
		code    string // "": success
		status  int
		message string
		role    string // assumed role on success; "": pods/web
	}{
		{name: "healthy"},
		{name: "ES256 keys", issuer: ecIssuer},
		{name: "subject from sub alone",
			token: func(w *piWorld) string { return w.token(t, func(c map[string]any) { delete(c, "kubernetes.io") }) }},
		{name: "wrong audience", code: "InvalidTokenException", status: 400,
			token: func(w *piWorld) string {
				return w.token(t, func(c map[string]any) { c["aud"] = []string{"sts.amazonaws.com"} })
			}},
		{name: "expired", code: "ExpiredTokenException", status: 400,
			token: func(w *piWorld) string {
				return w.token(t, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() })
			}},
		{name: "tampered signature", code: "InvalidTokenException", status: 400,
			token: func(w *piWorld) string { return jwstest.Tamper(w.token(t, nil)) }},
		{name: "signed by another key", code: "InvalidTokenException", status: 400,
			token: func(*piWorld) string {
				tok, err := jwstest.Sign("RS256", other.Kid, other, jwstest.ServiceAccountClaims(is.URL, "pods.eks.amazonaws.com", "shop", "web", "p", piPodUID, time.Now().Add(time.Hour)))
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}},
		{name: "another issuer", code: "InvalidTokenException", status: 400,
			token: func(*piWorld) string {
				return ecIssuer.Sign(t, jwstest.ServiceAccountClaims(ecIssuer.URL, "pods.eks.amazonaws.com", "shop", "web", "p", piPodUID, time.Now().Add(time.Hour)))
			}},
		{name: "not a JWT", code: "InvalidTokenException", status: 400, token: func(*piWorld) string { return "a.b.c" }},
		{name: "no association for the service account", code: "ResourceNotFoundException", status: 404,
			token: func(*piWorld) string {
				return is.Sign(t, jwstest.ServiceAccountClaims(is.URL, "pods.eks.amazonaws.com", "shop", "other", "p", piPodUID, time.Now().Add(time.Hour)))
			}},
		{name: "unknown cluster", cluster: "staging", code: "ResourceNotFoundException", status: 404},
		{name: "trust without sts:TagSession", trust: podTrust(`"sts:AssumeRole"`, ""),
			code: "AccessDeniedException", status: 400, message: msgDenied},
		{name: "namespace condition that admits", trust: podTrust(bothActions, `{"StringEquals":{"aws:RequestTag/kubernetes-namespace":["shop","batch"],"aws:RequestTag/eks-cluster-name":"prod"}}`)},
		{name: "namespace condition that excludes", trust: podTrust(bothActions, `{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"batch"}}`),
			code: "AccessDeniedException", status: 400, message: msgDenied},
		{name: "pod tags", trust: podTrust(bothActions, `{"StringEquals":{"aws:RequestTag/kubernetes-pod-name":"web-7f9c","aws:RequestTag/kubernetes-pod-uid":"`+piPodUID+`","aws:RequestTag/eks-cluster-arn":"`+piClusterARN+`"}}`)},
		{name: "source account and cluster", trust: podTrust(bothActions, `{"StringEquals":{"aws:SourceAccount":"`+piAccount+`"},"ArnLike":{"aws:SourceArn":"arn:aws:eks:*:`+piAccount+`:cluster/prod"}}`)},
		{name: "another source account", trust: podTrust(bothActions, `{"StringEquals":{"aws:SourceAccount":"999999999999"}}`),
			code: "AccessDeniedException", status: 400},
		{name: "disableSessionTags: no sts:TagSession needed", assoc: fakeaws.Association{DisableSessionTags: true}, trust: podTrust(`"sts:AssumeRole"`, "")},
		{name: "disableSessionTags: tag conditions cannot match", assoc: fakeaws.Association{DisableSessionTags: true},
			trust: podTrust(bothActions, `{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"shop"}}`), code: "AccessDeniedException", status: 400},
		{name: "trust of another service", trust: `{"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}`,
			code: "AccessDeniedException", status: 400},
		{name: "cross-account target with the external ID", assoc: fakeaws.Association{TargetRoleARN: piTargetRole}, target: targetTrust, role: "data-reader"},
		{name: "cross-account target with another external ID", assoc: fakeaws.Association{TargetRoleARN: piTargetRole, ExternalID: "expected-by-nobody"},
			target: strings.Replace(targetTrust, "%s", "something-else", 1), code: "AccessDeniedException", status: 400, message: msgDenied},
		{name: "cross-account target trusting the account root", assoc: fakeaws.Association{TargetRoleARN: piTargetRole},
			target: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["sts:AssumeRole","sts:TagSession"]}}`, role: "data-reader"},
		{name: "cross-account target without sts:TagSession", assoc: fakeaws.Association{TargetRoleARN: piTargetRole},
			target: strings.Replace(targetTrust, `["sts:AssumeRole","sts:TagSession"]`, `"sts:AssumeRole"`, 1), code: "AccessDeniedException", status: 400},
		{name: "target role missing", assoc: fakeaws.Association{TargetRoleARN: piTargetRole}, code: "AccessDeniedException", status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issuer := is
			if tt.issuer != nil {
				issuer = tt.issuer
			}
			trust := tt.trust
			if trust == "" {
				trust = podTrust(bothActions, "")
			}
			w := newPIWorld(t, issuer, tt.assoc, trust)
			if tt.target != "" {
				doc := strings.Replace(tt.target, "%s", w.assoc.ExternalID, 1)
				w.fake.AddRole(fakeaws.Role{ARN: piTargetRole, TrustPolicy: doc})
			}
			tok := w.token(t, nil)
			if tt.token != nil {
				tok = tt.token(w)
			}
			cluster := piCluster
			if tt.cluster != "" {
				cluster = tt.cluster
			}
			out, err := w.client.AssumeRoleForPodIdentity(t.Context(), cluster, tok)
			if n := w.fake.Count("eks-auth:AssumeRoleForPodIdentity"); n != 1 {
				t.Errorf("%d EKS Auth calls, want 1", n)
			}
			if tt.code != "" {
				var ae *eksauth.APIError
				if !errors.As(err, &ae) {
					t.Fatalf("err = %v, want %s", err, tt.code)
				}
				if ae.Code != tt.code || ae.StatusCode != tt.status || (tt.message != "" && ae.Message != tt.message) || ae.RequestID == "" {
					t.Errorf("error = %+v, want %s %d %q", ae, tt.code, tt.status, tt.message)
				}
				return
			}
			if err != nil {
				t.Fatalf("AssumeRoleForPodIdentity: %v", err)
			}
			role, acct := "pods/web", piAccount
			if tt.role != "" {
				role, acct = tt.role, "444455556666"
			}
			roleName := role[strings.LastIndex(role, "/")+1:]
			arnRE := regexp.MustCompile(`^arn:aws:sts::` + acct + `:assumed-role/` + roleName + `/eks-prod-[a-z0-9-]+$`)
			if !arnRE.MatchString(out.AssumedRoleARN) || len(out.AssumedRoleARN[strings.LastIndex(out.AssumedRoleARN, "/")+1:]) > 64 ||
				!strings.HasPrefix(out.AssumeRoleID, "AROA") || out.AssociationID != w.assoc.ID || out.AssociationARN != w.assoc.ARN ||
				out.Namespace != "shop" || out.ServiceAccount != "web" || out.Audience != "pods.eks.amazonaws.com" ||
				!out.CredentialsExpiration.After(time.Now().Add(50*time.Minute)) {
				t.Errorf("output = %+v", out)
			}
			if tt.token == nil && !strings.Contains(out.AssumedRoleARN, "/eks-prod-web-7f9c-") {
				t.Errorf("session of %s does not name the pod", out.AssumedRoleARN)
			}
			calls := w.fake.Calls()
			if c := calls[len(calls)-1]; c.Service != "eks-auth" || c.Op != "AssumeRoleForPodIdentity" || c.Resource != piCluster {
				t.Errorf("call = %+v", c)
			}
		})
	}
}

func TestAssumeRoleForPodIdentityFaults(t *testing.T) {
	is := jwstest.StartIssuer(t, nil)
	w := newPIWorld(t, is, fakeaws.Association{}, podTrust(bothActions, ""))
	tok := w.token(t, nil)

	// Throttling is retried with the configuration's retryer.
	w.fake.Throttle("eks-auth:AssumeRoleForPodIdentity", 2)
	if _, err := w.client.AssumeRoleForPodIdentity(t.Context(), piCluster, tok); err != nil {
		t.Fatalf("after two throttles: %v", err)
	}
	if n := w.fake.Count("eks-auth:AssumeRoleForPodIdentity"); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}
	w.fake.Throttle("AssumeRoleForPodIdentity", 3)
	_, err := w.client.AssumeRoleForPodIdentity(t.Context(), piCluster, tok)
	var ae *eksauth.APIError
	if !errors.As(err, &ae) || ae.Code != "ThrottlingException" || ae.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("three throttles: %v", err)
	}

	// Fail picks EKS Auth's status for the code: 400 for AccessDenied.
	w.fake.Fail("eks-auth:AssumeRoleForPodIdentity", piCluster, "AccessDeniedException", msgDenied, 0)
	_, err = w.client.AssumeRoleForPodIdentity(t.Context(), piCluster, tok)
	if !errors.As(err, &ae) || ae.Code != "AccessDeniedException" || ae.StatusCode != http.StatusBadRequest || ae.Message != msgDenied {
		t.Fatalf("injected denial: %v", err)
	}
	// A fault for EKS leaves EKS Auth alone.
	w.fake.ClearFaults()
	w.fake.Fail("eks:AssumeRoleForPodIdentity", "", "AccessDeniedException", "", 0)
	if _, err := w.client.AssumeRoleForPodIdentity(t.Context(), piCluster, tok); err != nil {
		t.Fatalf("EKS fault hit EKS Auth: %v", err)
	}
}

// TestAssumeRoleForPodIdentityWireShape checks the bytes: the answer's
// members as the API reference and the SDK's response snapshot name them,
// expiration as epoch seconds, obviously fake credentials; errors in
// X-Amzn-Errortype; unsigned requests refused.
func TestAssumeRoleForPodIdentityWireShape(t *testing.T) {
	is := jwstest.StartIssuer(t, nil)
	w := newPIWorld(t, is, fakeaws.Association{}, podTrust(bothActions, ""))
	fake, base := w.fake, fakeaws.Serve(t, w.fake)
	post := func(body string, signed bool) (int, http.Header, string) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/clusters/prod/assume-role-for-pod-identity", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if signed {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-west-2/eks-auth/aws4_request, SignedHeaders=host, Signature=00")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	status, _, body := post(`{"token":"`+w.token(t, nil)+`"}`, true)
	shape := regexp.MustCompile(`^\{"subject":\{"namespace":"shop","serviceAccount":"web"\},"audience":"pods\.eks\.amazonaws\.com",` +
		`"podIdentityAssociation":\{"associationArn":"[^"]+","associationId":"a-[a-z0-9]{17}"\},` +
		`"assumedRoleUser":\{"arn":"arn:aws:sts::123456789012:assumed-role/web/eks-prod-web-7f9c-[^"]+","assumeRoleId":"AROA[0-9A-F]{17}:eks-prod-[^"]+"\},` +
		`"credentials":\{"sessionToken":"fakeaws-session-[^"]+","secretAccessKey":"fakeaws-secret-[^"]+","accessKeyId":"ASIA[0-9A-F]{16}","expiration":\d{10}\}\}$`)
	if status != 200 || !shape.MatchString(body) {
		t.Errorf("answer %d %s", status, body)
	}
	status, h, body := post(`{"token":""}`, true)
	if status != 400 || h.Get("X-Amzn-Errortype") != "InvalidParameterException" || !strings.HasPrefix(body, `{"message":`) {
		t.Errorf("empty token answered %d %v %s", status, h, body)
	}
	status, h, _ = post(`{"token":"x.y.z"}`, false)
	if status != 403 || h.Get("X-Amzn-Errortype") != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned call answered %d %v", status, h)
	}
	if c := fake.Calls(); c[len(c)-1].Service != "eks-auth" {
		t.Errorf("unsigned call logged as %+v", c[len(c)-1])
	}
}
