package fakeaws

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EKS operation names of the Pod Identity association API.
const (
	opListAssociations    = "ListPodIdentityAssociations"
	opDescribeAssociation = "DescribePodIdentityAssociation"
)

// associationIDLen is the length of a real association ID: "a-" and 17
// lower-case letters and digits (EKS refuses other lengths with "The parameter
// associationId should be 19 characters long.").
const associationIDLen = 19

// maxAssociationPage is ListPodIdentityAssociations' largest maxResults
// (service/eks: ListPodIdentityAssociationsMaxResults, 1 to 100).
const maxAssociationPage = 100

// Association is an EKS Pod Identity association as the fake stores it: the
// fields of DescribePodIdentityAssociation (docs/behaviour.md#pod-identity-trust-policy).
type Association struct {
	// ID and ARN are filled in by AddAssociation when empty.
	ID, ARN string
	// ClusterName, Namespace, ServiceAccount and RoleARN are required.
	ClusterName    string
	Namespace      string
	ServiceAccount string
	RoleARN        string
	// TargetRoleARN, when set, is the role EKS assumes with the credentials
	// of RoleARN (cross-account access); ExternalID is then what the target
	// role's trust must expect as sts:ExternalId (a UUID when left empty).
	TargetRoleARN string
	ExternalID    string
	// OwnerARN is set on associations an EKS add-on owns.
	OwnerARN string
	// Policy is the optional session policy JSON.
	Policy string
	// DisableSessionTags turns off the session tags (and so the need for
	// sts:TagSession in the role's trust).
	DisableSessionTags bool
	// CreatedAt and ModifiedAt are set to the time of AddAssociation when zero.
	CreatedAt, ModifiedAt time.Time
	// Tags are the association's resource tags (not the session tags).
	Tags map[string]string
}

func (a Association) clone() Association {
	if a.Tags != nil {
		tags := make(map[string]string, len(a.Tags))
		for k, v := range a.Tags {
			tags[k] = v
		}
		a.Tags = tags
	}
	return a
}

// newAssociationID draws an ID shaped like EKS's: "a-" and 17 lower-case
// letters and digits.
func newAssociationID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, associationIDLen-2)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms; a fixed ID still
		// has the right shape.
		return "a-00000000000000000"
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "a-" + string(b)
}

// AddAssociation stores an association and returns it as stored: ID, ARN
// (arn:PARTITION:eks:REGION:ACCOUNT:podidentityassociation/CLUSTER/ID, from
// the cluster's ARN, else Region and the caller's account), ExternalID (when
// TargetRoleARN is set) and the times are filled in when empty. EKS allows
// one association per service account of a cluster, so an association for
// the same cluster, namespace and service account (or with the same ID)
// replaces the old one. Hooks of OnAssociationsChanged run before it returns.
func (s *Server) AddAssociation(a Association) Association {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()

	s.mu.Lock()
	a = a.clone()
	if a.ID == "" {
		a.ID = newAssociationID()
	}
	if a.ARN == "" {
		partition, region, acct := "aws", Region, s.caller.Account
		if c, ok := s.clusters[a.ClusterName]; ok && c.ARN != "" {
			partition, region, acct = arnPart(c.ARN, 1), arnPart(c.ARN, 3), accountOf(c.ARN)
		}
		a.ARN = fmt.Sprintf("arn:%s:eks:%s:%s:podidentityassociation/%s/%s", partition, region, acct, a.ClusterName, a.ID)
	}
	if a.TargetRoleARN != "" && a.ExternalID == "" {
		a.ExternalID = requestID()
	}
	now := time.Now().UTC().Truncate(time.Second)
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	if a.ModifiedAt.IsZero() {
		a.ModifiedAt = a.CreatedAt
	}
	// The new association takes the place of the first one it replaces;
	// filtering in place is safe as writes never overtake reads.
	replaced := false
	kept := s.associations[:0]
	for _, old := range s.associations {
		if old.ID == a.ID || (old.ClusterName == a.ClusterName && old.Namespace == a.Namespace && old.ServiceAccount == a.ServiceAccount) {
			if !replaced {
				kept = append(kept, a)
				replaced = true
			}
			continue
		}
		kept = append(kept, old)
	}
	if !replaced {
		kept = append(kept, a)
	}
	s.associations = kept
	set, hooks := s.associationsLocked(), s.hooksLocked()
	s.mu.Unlock()

	for _, h := range hooks {
		h(set)
	}
	return a.clone()
}

// DeleteAssociation removes the association with this ID and reports
// whether there was one; hooks run before it returns when there was.
func (s *Server) DeleteAssociation(id string) bool {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()

	s.mu.Lock()
	n := len(s.associations)
	s.associations = slices.DeleteFunc(s.associations, func(a Association) bool { return a.ID == id })
	deleted := len(s.associations) != n
	set, hooks := s.associationsLocked(), s.hooksLocked()
	s.mu.Unlock()

	if deleted {
		for _, h := range hooks {
			h(set)
		}
	}
	return deleted
}

// Associations returns every cluster's associations in creation order.
func (s *Server) Associations() []Association {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.associationsLocked()
}

// OnAssociationsChanged calls fn with the whole set of associations (every
// cluster's, in creation order) now and after every AddAssociation or
// DeleteAssociation, in the order the changes happened; the returned func
// stops it. fn runs synchronously in the changing call, so whoever follows
// the set (the webhook emulator) has it before that call returns, and it must
// not add or delete associations itself.
func (s *Server) OnAssociationsChanged(fn func([]Association)) (stop func()) {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	s.mu.Lock()
	id := s.nextHook
	s.nextHook++
	s.assocHooks[id] = fn
	set := s.associationsLocked()
	s.mu.Unlock()
	fn(set)
	return func() {
		s.notifyMu.Lock()
		defer s.notifyMu.Unlock()
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.assocHooks, id)
	}
}

func (s *Server) associationsLocked() []Association {
	out := make([]Association, len(s.associations))
	for i, a := range s.associations {
		out[i] = a.clone()
	}
	return out
}

func (s *Server) hooksLocked() []func([]Association) {
	ids := make([]int, 0, len(s.assocHooks))
	for id := range s.assocHooks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	hooks := make([]func([]Association), len(ids))
	for i, id := range ids {
		hooks[i] = s.assocHooks[id]
	}
	return hooks
}

// associationFor finds the association of a cluster's service account.
func (s *Server) associationFor(cluster, namespace, serviceAccount string) (Association, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.associations {
		if a.ClusterName == cluster && a.Namespace == namespace && a.ServiceAccount == serviceAccount {
			return a.clone(), true
		}
	}
	return Association{}, false
}

// arnPart returns field i of an ARN (0 "arn", 1 partition, 2 service,
// 3 region, 4 account, 5 resource), or "".
func arnPart(a string, i int) string {
	parts := strings.SplitN(a, ":", 6)
	if len(parts) != 6 {
		return ""
	}
	return parts[i]
}

func invalidParameter(cluster, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidParameterException", message: msg,
		fields: map[string]string{"clusterName": cluster}}
}

type eksAssociationSummary struct {
	ClusterName    string `json:"clusterName"`
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
	AssociationArn string `json:"associationArn"`
	AssociationID  string `json:"associationId"`
	OwnerArn       string `json:"ownerArn,omitempty"`
}

// eksAssociation is PodIdentityAssociation on the wire; timestamps are
// epoch seconds, restJson1's default format (service/eks schemas.go:
// createdAt and modifiedAt are plain Timestamps).
type eksAssociation struct {
	ClusterName        string            `json:"clusterName"`
	Namespace          string            `json:"namespace"`
	ServiceAccount     string            `json:"serviceAccount"`
	RoleArn            string            `json:"roleArn"`
	AssociationArn     string            `json:"associationArn"`
	AssociationID      string            `json:"associationId"`
	Tags               map[string]string `json:"tags"`
	CreatedAt          int64             `json:"createdAt"`
	ModifiedAt         int64             `json:"modifiedAt"`
	OwnerArn           string            `json:"ownerArn,omitempty"`
	DisableSessionTags bool              `json:"disableSessionTags"`
	TargetRoleArn      string            `json:"targetRoleArn,omitempty"`
	ExternalID         string            `json:"externalId,omitempty"`
	Policy             string            `json:"policy,omitempty"`
}

// serveListAssociations is GET /clusters/{name}/pod-identity-associations
// with the query parameters namespace, serviceAccount, maxResults and
// nextToken. A page holds at most the server's page size (SetPageSize) even
// when maxResults asks for more, as any paginated AWS list may: clients that
// do not follow nextToken lose associations, and tests see it.
func (s *Server) serveListAssociations(w http.ResponseWriter, req request) {
	q := func(k string) string {
		if v := req.params[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	limit := 0
	if v := q("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAssociationPage {
			// Wording not confirmed against EKS; the code and status are EKS's.
			s.writeError(w, "eks", invalidParameter(req.resource, fmt.Sprintf("The parameter maxResults must be between 1 and %d.", maxAssociationPage)))
			return
		}
		limit = n
	}
	s.mu.Lock()
	_, known := s.clusters[req.resource]
	var matching []eksAssociationSummary
	for _, a := range s.associations {
		if a.ClusterName != req.resource ||
			(q("namespace") != "" && a.Namespace != q("namespace")) ||
			(q("serviceAccount") != "" && a.ServiceAccount != q("serviceAccount")) {
			continue
		}
		matching = append(matching, eksAssociationSummary{ClusterName: a.ClusterName, Namespace: a.Namespace, ServiceAccount: a.ServiceAccount,
			AssociationArn: a.ARN, AssociationID: a.ID, OwnerArn: a.OwnerARN})
	}
	size := s.pageSize
	s.mu.Unlock()
	if !known {
		s.writeError(w, "eks", clusterNotFound(req.resource))
		return
	}
	if limit > 0 {
		size = min(size, limit)
	}
	items, next, perr := page(matching, q("nextToken"), size, size)
	if perr != nil {
		// Wording not confirmed against EKS.
		s.writeError(w, "eks", invalidParameter(req.resource, "The nextToken is not valid."))
		return
	}
	out := map[string]any{"associations": append([]eksAssociationSummary{}, items...)}
	if next != "" {
		out["nextToken"] = next
	}
	w.Header().Set("X-Amzn-Requestid", requestID())
	writeJSON(w, http.StatusOK, out)
}

// serveDescribeAssociation is GET /clusters/{name}/pod-identity-associations/{id}.
func (s *Server) serveDescribeAssociation(w http.ResponseWriter, req request) {
	if len(req.id) != associationIDLen {
		// Observed wording (DeletePodIdentityAssociation answers the same).
		s.writeError(w, "eks", invalidParameter(req.resource, "The parameter associationId should be 19 characters long."))
		return
	}
	s.mu.Lock()
	_, known := s.clusters[req.resource]
	var (
		found Association
		ok    bool
	)
	for _, a := range s.associations {
		if a.ClusterName == req.resource && a.ID == req.id {
			found, ok = a.clone(), true
			break
		}
	}
	s.mu.Unlock()
	switch {
	case !known:
		s.writeError(w, "eks", clusterNotFound(req.resource))
		return
	case !ok:
		// Wording not confirmed against EKS.
		s.writeError(w, "eks", &apiError{status: http.StatusNotFound, code: "ResourceNotFoundException",
			message: fmt.Sprintf("No Pod Identity association found for id: %s.", req.id), fields: map[string]string{"clusterName": req.resource}})
		return
	}
	tags := found.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	w.Header().Set("X-Amzn-Requestid", requestID())
	writeJSON(w, http.StatusOK, map[string]any{"association": eksAssociation{
		ClusterName: found.ClusterName, Namespace: found.Namespace, ServiceAccount: found.ServiceAccount,
		RoleArn: found.RoleARN, AssociationArn: found.ARN, AssociationID: found.ID, Tags: tags,
		CreatedAt: found.CreatedAt.Unix(), ModifiedAt: found.ModifiedAt.Unix(), OwnerArn: found.OwnerARN,
		DisableSessionTags: found.DisableSessionTags, TargetRoleArn: found.TargetRoleARN, ExternalID: found.ExternalID,
		Policy: found.Policy,
	}})
}
