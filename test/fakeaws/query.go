package fakeaws

import (
	"crypto/sha1" //nolint:gosec // derives fake role ids; no security depends on it
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// XML namespaces of the query APIs, as the real services send them.
const (
	iamNS = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsNS = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// fixedCreateDate keeps answers deterministic; the collector does not read it.
const fixedCreateDate = "2024-01-02T03:04:05Z"

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type xmlRole struct {
	Path                     string `xml:"Path"`
	RoleName                 string `xml:"RoleName"`
	RoleID                   string `xml:"RoleId"`
	Arn                      string `xml:"Arn"`
	CreateDate               string `xml:"CreateDate"`
	AssumeRolePolicyDocument string `xml:"AssumeRolePolicyDocument,omitempty"`
	MaxSessionDuration       int    `xml:"MaxSessionDuration"`
}

type getRoleResponse struct {
	XMLName  xml.Name         `xml:"GetRoleResponse"`
	Xmlns    string           `xml:"xmlns,attr"`
	Role     xmlRole          `xml:"GetRoleResult>Role"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type attachedPolicy struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type listAttachedRolePoliciesResponse struct {
	XMLName     xml.Name         `xml:"ListAttachedRolePoliciesResponse"`
	Xmlns       string           `xml:"xmlns,attr"`
	IsTruncated bool             `xml:"ListAttachedRolePoliciesResult>IsTruncated"`
	Marker      string           `xml:"ListAttachedRolePoliciesResult>Marker,omitempty"`
	Policies    []attachedPolicy `xml:"ListAttachedRolePoliciesResult>AttachedPolicies>member"`
	Metadata    responseMetadata `xml:"ResponseMetadata"`
}

type listRolePoliciesResponse struct {
	XMLName     xml.Name         `xml:"ListRolePoliciesResponse"`
	Xmlns       string           `xml:"xmlns,attr"`
	IsTruncated bool             `xml:"ListRolePoliciesResult>IsTruncated"`
	Marker      string           `xml:"ListRolePoliciesResult>Marker,omitempty"`
	Names       []string         `xml:"ListRolePoliciesResult>PolicyNames>member"`
	Metadata    responseMetadata `xml:"ResponseMetadata"`
}

type getOpenIDConnectProviderResponse struct {
	XMLName     xml.Name         `xml:"GetOpenIDConnectProviderResponse"`
	Xmlns       string           `xml:"xmlns,attr"`
	URL         string           `xml:"GetOpenIDConnectProviderResult>Url"`
	ClientIDs   []string         `xml:"GetOpenIDConnectProviderResult>ClientIDList>member"`
	Thumbprints []string         `xml:"GetOpenIDConnectProviderResult>ThumbprintList>member"`
	CreateDate  string           `xml:"GetOpenIDConnectProviderResult>CreateDate"`
	Metadata    responseMetadata `xml:"ResponseMetadata"`
}

type providerEntry struct {
	Arn string `xml:"Arn"`
}

type listOpenIDConnectProvidersResponse struct {
	XMLName   xml.Name         `xml:"ListOpenIDConnectProvidersResponse"`
	Xmlns     string           `xml:"xmlns,attr"`
	Providers []providerEntry  `xml:"ListOpenIDConnectProvidersResult>OpenIDConnectProviderList>member"`
	Metadata  responseMetadata `xml:"ResponseMetadata"`
}

type updateThumbprintResponse struct {
	XMLName  xml.Name         `xml:"UpdateOpenIDConnectProviderThumbprintResponse"`
	Xmlns    string           `xml:"xmlns,attr"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type getCallerIdentityResponse struct {
	XMLName  xml.Name         `xml:"GetCallerIdentityResponse"`
	Xmlns    string           `xml:"xmlns,attr"`
	Arn      string           `xml:"GetCallerIdentityResult>Arn"`
	UserID   string           `xml:"GetCallerIdentityResult>UserId"`
	Account  string           `xml:"GetCallerIdentityResult>Account"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

// errorResponse is the awsQuery error envelope IAM and STS use.
type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func writeXML(w http.ResponseWriter, status int, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, "fakeaws: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body) //nolint:gosec // text/xml from xml.Marshal, which escapes every value (token claims included)
}

func (s *Server) writeError(w http.ResponseWriter, service string, e *apiError) {
	id := requestID()
	w.Header().Set("X-Amzn-Requestid", id)
	if isRESTJSON(service) {
		writeEKSError(w, e)
		return
	}
	ns := iamNS
	if service == "sts" {
		ns = stsNS
	}
	typ := "Sender"
	if e.status >= 500 {
		typ = "Receiver"
	}
	writeXML(w, e.status, errorResponse{Xmlns: ns, Type: typ, Code: e.code, Message: e.message, RequestID: id})
}

// serveQuery handles IAM and STS.
func (s *Server) serveQuery(w http.ResponseWriter, req request) {
	s.mu.Lock()
	resp, aerr := s.queryLocked(req)
	s.mu.Unlock()
	if aerr != nil {
		s.writeError(w, req.service, aerr)
		return
	}
	w.Header().Set("X-Amzn-Requestid", requestID())
	writeXML(w, http.StatusOK, resp)
}

func (s *Server) queryLocked(req request) (any, *apiError) {
	meta := responseMetadata{RequestID: requestID()}
	p := func(k string) string {
		if v := req.params[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if req.service == "sts" {
		if req.op != "GetCallerIdentity" {
			return nil, unknownOp(req)
		}
		return getCallerIdentityResponse{Xmlns: stsNS, Arn: s.caller.ARN, UserID: s.caller.UserID, Account: s.caller.Account, Metadata: meta}, nil
	}

	switch req.op {
	case "GetRole":
		r, aerr := s.roleLocked(p("RoleName"))
		if aerr != nil {
			return nil, aerr
		}
		return getRoleResponse{Xmlns: iamNS, Metadata: meta, Role: xmlRole{
			Path: r.Path, RoleName: r.Name, RoleID: roleID(r.ARN), Arn: r.ARN, CreateDate: fixedCreateDate,
			AssumeRolePolicyDocument: EncodePolicy(r.TrustPolicy), MaxSessionDuration: 3600,
		}}, nil

	case "ListAttachedRolePolicies":
		r, aerr := s.roleLocked(p("RoleName"))
		if aerr != nil {
			return nil, aerr
		}
		maxItems, aerr := parseMaxItems(p("MaxItems"))
		if aerr != nil {
			return nil, aerr
		}
		items, next, aerr := page(r.AttachedPolicyARNs, p("Marker"), maxItems, s.pageSize)
		if aerr != nil {
			return nil, aerr
		}
		out := listAttachedRolePoliciesResponse{Xmlns: iamNS, IsTruncated: next != "", Marker: next, Metadata: meta}
		for _, a := range items {
			out.Policies = append(out.Policies, attachedPolicy{PolicyName: a[strings.LastIndex(a, "/")+1:], PolicyArn: a})
		}
		return out, nil

	case "ListRolePolicies":
		r, aerr := s.roleLocked(p("RoleName"))
		if aerr != nil {
			return nil, aerr
		}
		maxItems, aerr := parseMaxItems(p("MaxItems"))
		if aerr != nil {
			return nil, aerr
		}
		items, next, aerr := page(r.InlinePolicyNames, p("Marker"), maxItems, s.pageSize)
		if aerr != nil {
			return nil, aerr
		}
		return listRolePoliciesResponse{Xmlns: iamNS, IsTruncated: next != "", Marker: next, Names: items, Metadata: meta}, nil

	case "GetOpenIDConnectProvider":
		pr, aerr := s.providerLocked(p("OpenIDConnectProviderArn"))
		if aerr != nil {
			return nil, aerr
		}
		return getOpenIDConnectProviderResponse{Xmlns: iamNS, URL: pr.URL, ClientIDs: pr.ClientIDs, Thumbprints: pr.Thumbprints, CreateDate: fixedCreateDate, Metadata: meta}, nil

	case "ListOpenIDConnectProviders":
		out := listOpenIDConnectProvidersResponse{Xmlns: iamNS, Metadata: meta}
		for _, a := range sortedKeys(s.providers) {
			if s.providers[a].account == s.caller.Account {
				out.Providers = append(out.Providers, providerEntry{Arn: a})
			}
		}
		return out, nil

	case "UpdateOpenIDConnectProviderThumbprint":
		pr, aerr := s.providerLocked(p("OpenIDConnectProviderArn"))
		if aerr != nil {
			return nil, aerr
		}
		list := memberList(req.params, "ThumbprintList")
		if aerr := validateThumbprints(list); aerr != nil {
			return nil, aerr
		}
		// IAM replaces the whole list; it does not merge.
		pr.Thumbprints = list
		return updateThumbprintResponse{Xmlns: iamNS, Metadata: meta}, nil

	case "ListRoles", "GetAccountAuthorizationDetails":
		return s.accountListingLocked(req, meta)
	case "GetAccountSummary":
		return s.accountSummaryLocked(meta), nil
	}
	return nil, unknownOp(req)
}

func unknownOp(req request) *apiError {
	v := iamVersion
	if req.service == "sts" {
		v = stsVersion
	}
	return &apiError{status: http.StatusBadRequest, code: "InvalidAction", message: fmt.Sprintf("Could not find operation %s for version %s", req.op, v)}
}

// roleLocked finds a role by name in the caller's account, as IAM does.
func (s *Server) roleLocked(name string) (*Role, *apiError) {
	if name == "" {
		return nil, &apiError{status: http.StatusBadRequest, code: "ValidationError", message: "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null"}
	}
	for _, a := range sortedKeys(s.roles) {
		r := s.roles[a]
		if r.Name == name && r.account == s.caller.Account {
			return r, nil
		}
	}
	return nil, &apiError{status: http.StatusNotFound, code: "NoSuchEntity", message: fmt.Sprintf("The role with name %s cannot be found.", name)}
}

func (s *Server) providerLocked(providerARN string) (*Provider, *apiError) {
	pr, ok := s.providers[providerARN]
	if !ok || pr.account != s.caller.Account {
		return nil, &apiError{status: http.StatusNotFound, code: "NoSuchEntity", message: fmt.Sprintf("OpenIDConnect Provider not found for arn %s", providerARN)}
	}
	return pr, nil
}

func parseMaxItems(v string) (int, *apiError) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, &apiError{status: http.StatusBadRequest, code: "ValidationError",
			message: fmt.Sprintf("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", v)}
	}
	return n, nil
}

// memberList reads an awsQuery list (Name.member.1, Name.member.2, ...). An
// empty list is sent as "Name=" with no members.
func memberList(params map[string][]string, name string) []string {
	prefix := name + ".member."
	type item struct {
		i int
		v string
	}
	var items []item
	for k, v := range params {
		if !strings.HasPrefix(k, prefix) || len(v) == 0 {
			continue
		}
		i, err := strconv.Atoi(strings.TrimPrefix(k, prefix))
		if err != nil {
			continue
		}
		items = append(items, item{i, v[0]})
	}
	sort.Slice(items, func(a, b int) bool { return items[a].i < items[b].i })
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.v)
	}
	return out
}

// validateThumbprints applies IAM's model constraints on thumbprintListType
// (at most 5 members, each exactly 40 characters), answering with the
// ValidationError text AWS's request validation produces.
func validateThumbprints(list []string) *apiError {
	if len(list) > 5 {
		return &apiError{status: http.StatusBadRequest, code: "ValidationError",
			message: fmt.Sprintf("1 validation error detected: Value '[%s]' at 'thumbprintList' failed to satisfy constraint: Member must have length less than or equal to 5", strings.Join(list, ", "))}
	}
	for _, t := range list {
		if len(t) != 40 {
			return &apiError{status: http.StatusBadRequest, code: "ValidationError",
				message: fmt.Sprintf("1 validation error detected: Value '[%s]' at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 40, Member must have length greater than or equal to 40]", strings.Join(list, ", "))}
		}
	}
	return nil
}

// roleID derives a stable AROA… id from the ARN, shaped like IAM's.
func roleID(roleARN string) string {
	sum := sha1.Sum([]byte(roleARN)) //nolint:gosec // a stable fake id, not a security boundary
	return "AROA" + strings.ToUpper(hex.EncodeToString(sum[:]))[:17]
}
