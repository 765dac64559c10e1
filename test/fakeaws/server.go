// Package fakeaws is an AWS emulator for tests: an http.Handler that speaks
// the wire protocols the real aws-sdk-go-v2 clients use (IAM and STS: awsQuery,
// form-encoded POST with XML answers; EKS and EKS Auth: restJson1; CloudTrail
// LookupEvents: AWS JSON 1.1, see cloudtrail.go), so that
// tests exercise the SDK's real serializers, deserializers, retryer and error
// parsing (EKS Auth through pkg/eksauth, which speaks the same protocol).
//
// It serves loopback clients only, checks that requests carry a SigV4
// Authorization header (but not the signature), and supports fault injection
// and a call log. All methods are safe for concurrent use.
package fakeaws

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultPageSize is the page size of list operations when the request sets no
// MaxItems. It is deliberately tiny (IAM's is 100) so tests cross pages.
const DefaultPageSize = 2

// Default identity of the caller, used until SetCaller.
const (
	DefaultAccount   = "123456789012"
	DefaultCallerARN = "arn:aws:iam::123456789012:user/fakeaws-tester"
)

// Role is an IAM role as the fake stores it.
type Role struct {
	// ARN is required; Name, Path and the account are derived from it when empty.
	ARN  string
	Name string
	Path string
	// TrustPolicy is the plain JSON; GetRole URL-encodes it the way IAM does.
	TrustPolicy        string
	AttachedPolicyARNs []string
	InlinePolicyNames  []string

	account string
}

// Provider is an IAM OIDC identity provider.
type Provider struct {
	ARN string
	// URL is stored without scheme, as IAM does.
	URL         string
	ClientIDs   []string
	Thumbprints []string

	account string
}

// Cluster is an EKS cluster.
type Cluster struct {
	Name            string
	ARN             string
	Version         string
	PlatformVersion string
	// Issuer empty means the cluster has no identity block (no IRSA support).
	Issuer string
	// IPFamily is kubernetesNetworkConfig.ipFamily ("ipv4" or "ipv6"); empty
	// leaves the block out.
	IPFamily string
}

// Caller is what GetCallerIdentity answers; it is also the account IAM
// operations act on, as in real IAM.
type Caller struct {
	Account string
	ARN     string
	UserID  string
}

// Call is one request the fake received (including rejected and failed ones).
type Call struct {
	// Service is "iam", "sts", "eks", "eks-auth" or "cloudtrail".
	Service string
	// Op is the API name, e.g. "GetRole".
	Op string
	// Resource is the role name, provider ARN or cluster name the call named
	// (for EKS Auth, the cluster; for CloudTrail, the region signed for).
	Resource string
	// UserAgent is the request's User-Agent header.
	UserAgent string
}

type fault struct {
	service, op, resource string
	code, message         string
	status                int
}

// Server is the fake. Create it with New.
type Server struct {
	mu          sync.Mutex
	caller      Caller
	roles       map[string]*Role     // by ARN
	providers   map[string]*Provider // by ARN
	clusters    map[string]*Cluster  // by name
	faults      []fault
	throttles   map[string]int // by "service:Op"
	latency     time.Duration
	pageSize    int
	maxPage     int // SetMaxPage; 0: MaxItems decides
	calls       []Call
	inFlight    int
	maxInFlight int

	// associations are the Pod Identity associations of every cluster, in
	// creation order.
	associations []Association
	// assocHooks follow the associations (OnAssociationsChanged), by
	// registration number.
	assocHooks map[int]func([]Association)
	nextHook   int
	// notifyMu orders association changes with their notifications, so a
	// hook never sees an older set after a newer one.
	notifyMu sync.Mutex

	// trail is the CloudTrail state (cloudtrail.go), made on first use.
	trail *trailState
	// policySizeQuota is what GetAccountSummary reports as
	// AssumeRolePolicySizeQuota; 0 means IAM's default (account.go).
	policySizeQuota int
}

// New returns an empty fake whose caller is DefaultCallerARN.
func New() *Server {
	return &Server{
		caller:     Caller{Account: DefaultAccount, ARN: DefaultCallerARN, UserID: "AIDAFAKEAWSTESTER0001"},
		roles:      map[string]*Role{},
		providers:  map[string]*Provider{},
		clusters:   map[string]*Cluster{},
		throttles:  map[string]int{},
		pageSize:   DefaultPageSize,
		assocHooks: map[int]func([]Association){},
	}
}

// accountOf returns the account field of an ARN (arn:partition:service:region:account:resource).
func accountOf(a string) string {
	parts := strings.SplitN(a, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// AddRole adds or replaces a role.
func (s *Server) AddRole(r Role) {
	r.account = accountOf(r.ARN)
	res := r.ARN
	if i := strings.Index(res, ":role/"); i >= 0 {
		res = res[i+len(":role/"):]
	}
	if r.Name == "" {
		r.Name = res[strings.LastIndex(res, "/")+1:]
	}
	if r.Path == "" {
		r.Path = "/"
		if i := strings.LastIndex(res, "/"); i >= 0 {
			r.Path = "/" + res[:i+1]
		}
	}
	r.AttachedPolicyARNs = append([]string(nil), r.AttachedPolicyARNs...)
	r.InlinePolicyNames = append([]string(nil), r.InlinePolicyNames...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[r.ARN] = &r
}

// AddProvider adds or replaces an OIDC provider.
func (s *Server) AddProvider(p Provider) {
	p.account = accountOf(p.ARN)
	p.URL = strings.TrimPrefix(p.URL, "https://")
	p.ClientIDs = append([]string(nil), p.ClientIDs...)
	p.Thumbprints = append([]string(nil), p.Thumbprints...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.providers[p.ARN] = &p
}

// AddCluster adds or replaces an EKS cluster.
func (s *Server) AddCluster(c Cluster) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clusters[c.Name] = &c
}

// SetCaller sets the identity GetCallerIdentity returns and the account IAM
// operations act on.
func (s *Server) SetCaller(c Caller) {
	if c.Account == "" {
		c.Account = accountOf(c.ARN)
	}
	if c.UserID == "" {
		c.UserID = "AIDAFAKEAWSTESTER0001"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.caller = c
}

// SetPageSize sets the default page size of list operations (minimum 1).
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = max(n, 1)
}

// Provider returns a copy of the stored provider, e.g. to check an update.
func (s *Server) Provider(providerARN string) (Provider, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.providers[providerARN]
	if !ok {
		return Provider{}, false
	}
	cp := *p
	cp.ClientIDs = append([]string(nil), p.ClientIDs...)
	cp.Thumbprints = append([]string(nil), p.Thumbprints...)
	return cp, true
}

// splitOp accepts "GetRole" or "iam:GetRole".
func splitOp(op string) (service, name string) {
	if i := strings.Index(op, ":"); i >= 0 {
		return strings.ToLower(op[:i]), op[i+1:]
	}
	return "", op
}

// Fail makes every call of op (e.g. "GetRole" or "iam:GetRole") fail with the
// given AWS error code until ClearFaults. resource "" matches any resource;
// otherwise it is matched against the call's resource (role name, provider
// ARN, cluster name) and, for role operations, the role's ARN. httpStatus 0
// picks the status AWS uses for that code.
func (s *Server) Fail(op, resource, code, message string, httpStatus int) {
	svc, name := splitOp(op)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{service: svc, op: name, resource: resource, code: code, message: message, status: httpStatus})
}

// Throttle makes the next n calls of op fail with throttling (IAM/STS
// "Throttling", EKS and EKS Auth "ThrottlingException", message "Rate
// exceeded").
func (s *Server) Throttle(op string, n int) {
	_, name := splitOp(op)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttles[name] += n
}

// Latency delays every answer by d (the delay ends early if the client goes away).
func (s *Server) Latency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// ClearFaults removes all Fail and Throttle injections and the latency.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.throttles = map[string]int{}
	s.latency = 0
}

// Calls returns the call log in arrival order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Count returns how many calls of op ("GetRole" or "iam:GetRole") arrived.
func (s *Server) Count(op string) int {
	svc, name := splitOp(op)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Op == name && (svc == "" || c.Service == svc) {
			n++
		}
	}
	return n
}

// MaxInFlight returns the highest number of requests handled at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// ResetCalls clears the call log and the in-flight high-water mark.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
	s.maxInFlight = s.inFlight
}

// apiError is an error the fake answers with, in the protocol of the service.
type apiError struct {
	status  int
	code    string
	message string
	// fields are extra members of a restJson1 error body (e.g. clusterName).
	fields map[string]string
}

// statusFor is the HTTP status the service uses for a code.
func statusFor(service, code string) int {
	if service == "cloudtrail" {
		// AWS JSON 1.1 puts client errors on 400, access denial and
		// throttling included (CloudTrail API Reference, Common Errors).
		switch code {
		case "InternalFailure", "ServiceUnavailable":
			return defaultStatus(code)
		}
		return http.StatusBadRequest
	}
	if service == "eks-auth" {
		// EKS Auth's model puts its client errors on 400, AccessDenied and
		// expired tokens included (the SDK's response snapshots of
		// service/eksauth; a denial observed on the wire was a 400 too).
		switch code {
		case "AccessDeniedException", "ExpiredTokenException", "InvalidTokenException",
			"InvalidParameterException", "InvalidRequestException":
			return http.StatusBadRequest
		}
	}
	return defaultStatus(code)
}

// defaultStatus is the HTTP status AWS uses for a code.
func defaultStatus(code string) int {
	switch code {
	case "NoSuchEntity", "ResourceNotFoundException":
		return http.StatusNotFound
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
		"MissingAuthenticationToken", "MissingAuthenticationTokenException",
		"InvalidClientTokenId", "UnrecognizedClientException", "ExpiredToken",
		"ExpiredTokenException", "SignatureDoesNotMatch":
		return http.StatusForbidden
	case "TooManyRequestsException", "ThrottlingException":
		return http.StatusTooManyRequests
	case "ServiceFailure", "InternalFailure", "ServerException", "InternalServerException":
		return http.StatusInternalServerError
	case "ServiceUnavailable", "ServiceUnavailableException":
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadRequest
	}
}

// request is what routing learned about an incoming request.
type request struct {
	service  string
	op       string
	resource string
	params   map[string][]string // query-protocol form values; restJson1 query string
	// id is the second path label of restJson1 operations (an association ID).
	id string
	// body is a restJson1 request body.
	body []byte
	// httpReq is the request itself, for what CloudTrail records of it.
	httpReq *http.Request
}

// ServeHTTP routes a request to IAM, STS or EKS.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !isLoopback(r.RemoteAddr) {
		http.Error(w, "fakeaws serves loopback clients only", http.StatusForbidden)
		return
	}
	if isCloudTrailRequest(r) {
		s.serveCloudTrail(w, r)
		return
	}
	req, perr := parseRequest(r)
	if perr != nil {
		s.log(req, r)
		s.writeError(w, req.service, perr)
		return
	}

	s.enter()
	defer s.leave()
	s.log(req, r)

	// AssumeRoleWithWebIdentity is the one call SDKs send unsigned: the
	// token is the credential.
	if !hasSigV4(r) && !isWebIdentityCall(req) {
		if isRESTJSON(req.service) {
			s.writeError(w, req.service, &apiError{status: http.StatusForbidden, code: "MissingAuthenticationTokenException", message: "Missing Authentication Token"})
		} else {
			s.writeError(w, req.service, &apiError{status: http.StatusForbidden, code: "MissingAuthenticationToken", message: "Request is missing Authentication Token"})
		}
		return
	}

	if d := s.currentLatency(); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}

	if aerr := s.injected(req); aerr != nil {
		s.recordTrail(req, nil, aerr)
		s.writeError(w, req.service, aerr)
		return
	}

	switch {
	case req.service == "eks-auth":
		// Outside the lock for the same reason as web identity: the token's
		// keys are fetched from the cluster's issuer.
		s.serveEKSAuth(r.Context(), w, req)
	case req.service == "eks":
		s.serveEKS(w, req)
	case isWebIdentityCall(req):
		// Outside queryLocked: validation fetches the issuer's keys over
		// the network, which must not happen under the lock.
		s.serveWebIdentity(r.Context(), w, req)
	default:
		s.serveQuery(w, req)
	}
}

func (s *Server) enter() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
}

func (s *Server) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight--
}

func (s *Server) log(req request, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Service: req.service, Op: req.op, Resource: req.resource, UserAgent: r.UserAgent()})
}

func (s *Server) currentLatency() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latency
}

// injected returns the error a Throttle or Fail injection imposes, if any.
func (s *Server) injected(req request) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.throttles[req.op]; n > 0 {
		s.throttles[req.op] = n - 1
		if isRESTJSON(req.service) {
			return &apiError{status: http.StatusTooManyRequests, code: "ThrottlingException", message: "Rate exceeded"}
		}
		return &apiError{status: http.StatusBadRequest, code: "Throttling", message: "Rate exceeded"}
	}
	for _, f := range s.faults {
		if f.op != req.op || (f.service != "" && f.service != req.service) {
			continue
		}
		if f.resource != "" && f.resource != req.resource && !s.roleARNMatchesLocked(f.resource, req) {
			continue
		}
		status := f.status
		if status == 0 {
			status = statusFor(req.service, f.code)
		}
		msg := f.message
		if msg == "" {
			msg = defaultMessage(f.code, req, s.caller.ARN)
		}
		return &apiError{status: status, code: f.code, message: msg}
	}
	return nil
}

// roleARNMatchesLocked lets Fail name a role by ARN although role operations
// carry only the role name.
func (s *Server) roleARNMatchesLocked(faultResource string, req request) bool {
	r, ok := s.roles[faultResource]
	return ok && r.Name == req.resource && r.account == s.caller.Account
}

func defaultMessage(code string, req request, callerARN string) string {
	switch code {
	case "AccessDenied", "AccessDeniedException":
		return fmt.Sprintf("User: %s is not authorized to perform: %s:%s on resource: %s because no identity-based policy allows the %s:%s action",
			callerARN, req.service, req.op, req.resource, req.service, req.op)
	case "Throttling", "ThrottlingException":
		return "Rate exceeded"
	default:
		return code
	}
}

// isLoopback reports whether the remote address is a loopback address.
func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// hasSigV4 checks that a SigV4 Authorization header is present. The signature
// itself is not verified: the fake proves the SDK signed, not that AWS would
// accept the keys.
func hasSigV4(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	return strings.HasPrefix(h, "AWS4-HMAC-SHA256 ") && strings.Contains(h, "Credential=") && strings.Contains(h, "Signature=")
}

// scopeService returns the service of the SigV4 credential scope
// (Credential=AKID/date/region/service/aws4_request), or "".
func scopeService(r *http.Request) string {
	h := r.Header.Get("Authorization")
	i := strings.Index(h, "Credential=")
	if i < 0 {
		return ""
	}
	cred := h[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

// Query API versions, which also tell IAM and STS apart on unsigned requests.
const (
	iamVersion = "2010-05-08"
	stsVersion = "2011-06-15"
)

// parseRequest finds the service and operation. The credential scope is the
// primary signal; the path (restJson1) and the Version field (awsQuery) decide
// for unsigned requests, which still deserve an answer in the right protocol.
func parseRequest(r *http.Request) (request, *apiError) {
	req := request{service: scopeService(r), httpReq: r}
	if req.service == "" && strings.HasPrefix(r.URL.Path, "/clusters") {
		req.service = "eks"
		if strings.HasSuffix(r.URL.Path, "/"+eksAuthPathSuffix) {
			req.service = "eks-auth"
		}
	}
	if isRESTJSON(req.service) {
		return parseEKS(r, req)
	}
	if r.Method != http.MethodPost {
		if req.service == "" {
			req.service = "iam"
		}
		return req, &apiError{status: http.StatusBadRequest, code: "InvalidAction", message: "query API requests must be POST"}
	}
	if err := r.ParseForm(); err != nil {
		if req.service == "" {
			req.service = "iam"
		}
		return req, &apiError{status: http.StatusBadRequest, code: "MalformedQueryString", message: "could not parse the form body"}
	}
	req.params = r.PostForm
	req.op = r.PostForm.Get("Action")
	version := r.PostForm.Get("Version")
	if req.service == "" {
		if version == stsVersion {
			req.service = "sts"
		} else {
			req.service = "iam"
		}
	}
	want := iamVersion
	if req.service == "sts" {
		want = stsVersion
	}
	switch {
	case req.op == "":
		return req, &apiError{status: http.StatusBadRequest, code: "MissingAction", message: "Missing Action"}
	case version != want:
		return req, &apiError{status: http.StatusBadRequest, code: "InvalidAction", message: fmt.Sprintf("Could not find operation %s for version %s", req.op, version)}
	}
	switch req.op {
	case "GetRole", "ListAttachedRolePolicies", "ListRolePolicies":
		req.resource = r.PostForm.Get("RoleName")
	case opWebIdentity:
		req.resource = r.PostForm.Get("RoleArn")
	case "GetOpenIDConnectProvider", "UpdateOpenIDConnectProviderThumbprint":
		req.resource = r.PostForm.Get("OpenIDConnectProviderArn")
	}
	return req, nil
}

// requestID returns a fresh UUID-shaped request id, as AWS sends.
func requestID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "00000000-0000-4000-8000-000000000000"
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// page cuts items at marker into one page. The marker is an opaque token, as
// in IAM; here it is the index of the first item of the next page.
func page[T any](items []T, marker string, maxItems, def int) (out []T, next string, err *apiError) {
	start := 0
	if marker != "" {
		n, perr := parseMarker(marker)
		if perr != nil || n > len(items) {
			return nil, "", &apiError{status: http.StatusBadRequest, code: "InvalidInput", message: "Invalid Marker."}
		}
		start = n
	}
	size := def
	if maxItems > 0 {
		size = maxItems
	}
	end := min(start+size, len(items))
	if end < len(items) {
		next = formatMarker(end)
	}
	return items[start:end], next, nil
}

const markerPrefix = "fakeaws-page-"

func formatMarker(n int) string { return fmt.Sprintf("%s%d", markerPrefix, n) }

func parseMarker(m string) (int, error) {
	var n int
	if !strings.HasPrefix(m, markerPrefix) {
		return 0, errors.New("foreign marker")
	}
	if _, err := fmt.Sscanf(strings.TrimPrefix(m, markerPrefix), "%d", &n); err != nil || n < 0 {
		return 0, errors.New("bad marker")
	}
	return n, nil
}

// sortedKeys returns the map's keys in order, so answers are deterministic.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ListenAndServe serves the fake on addr (which must be a loopback address,
// e.g. "127.0.0.1:0") until ctx ends. ready, when set, receives the base URL
// once the listener is up, for AWS_ENDPOINT_URL.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(url string)) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("fakeaws address %q: %w", addr, err)
	}
	if ip, perr := netip.ParseAddr(host); host != "localhost" && (perr != nil || !ip.IsLoopback()) {
		return fmt.Errorf("fakeaws listens on loopback only, not %q", host)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("fakeaws listen: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	if ready != nil {
		ready("http://" + ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutCtx); err != nil {
			return fmt.Errorf("fakeaws shutdown: %w", err)
		}
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("fakeaws serve: %w", err)
	}
}
