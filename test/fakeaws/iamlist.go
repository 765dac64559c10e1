package fakeaws

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
)

// The account-wide IAM listings: ListRoles (trust documents inline) and
// GetAccountAuthorizationDetails (roles with their attached and inline
// policies). Both page with Marker and MaxItems, list only the caller's
// account, and URL-encode every policy document as IAM does; element names
// are the ones aws-sdk-go-v2's awsquery deserializers read.

type listRolesResponse struct {
	XMLName     xml.Name         `xml:"ListRolesResponse"`
	Xmlns       string           `xml:"xmlns,attr"`
	Roles       []xmlRole        `xml:"ListRolesResult>Roles>member"`
	IsTruncated bool             `xml:"ListRolesResult>IsTruncated"`
	Marker      string           `xml:"ListRolesResult>Marker,omitempty"`
	Metadata    responseMetadata `xml:"ResponseMetadata"`
}

type xmlRolePolicy struct {
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

type xmlRoleDetail struct {
	Path                     string           `xml:"Path"`
	RoleName                 string           `xml:"RoleName"`
	RoleID                   string           `xml:"RoleId"`
	Arn                      string           `xml:"Arn"`
	CreateDate               string           `xml:"CreateDate"`
	AssumeRolePolicyDocument string           `xml:"AssumeRolePolicyDocument"`
	InstanceProfileList      struct{}         `xml:"InstanceProfileList"`
	RolePolicyList           []xmlRolePolicy  `xml:"RolePolicyList>member"`
	AttachedManagedPolicies  []attachedPolicy `xml:"AttachedManagedPolicies>member"`
}

type getAccountAuthorizationDetailsResponse struct {
	XMLName         xml.Name         `xml:"GetAccountAuthorizationDetailsResponse"`
	Xmlns           string           `xml:"xmlns,attr"`
	RoleDetailList  []xmlRoleDetail  `xml:"GetAccountAuthorizationDetailsResult>RoleDetailList>member"`
	GroupDetailList struct{}         `xml:"GetAccountAuthorizationDetailsResult>GroupDetailList"`
	UserDetailList  struct{}         `xml:"GetAccountAuthorizationDetailsResult>UserDetailList"`
	Policies        struct{}         `xml:"GetAccountAuthorizationDetailsResult>Policies"`
	IsTruncated     bool             `xml:"GetAccountAuthorizationDetailsResult>IsTruncated"`
	Marker          string           `xml:"GetAccountAuthorizationDetailsResult>Marker,omitempty"`
	Metadata        responseMetadata `xml:"ResponseMetadata"`
}

// inlinePolicyDocument is what GetAccountAuthorizationDetails returns for an
// inline policy: the fake keeps inline policies' names only.
const inlinePolicyDocument = `{"Version":"2012-10-17","Statement":[]}`

// entityTypes are the values GetAccountAuthorizationDetails accepts in Filter.
var entityTypes = map[string]bool{"User": true, "Role": true, "Group": true, "LocalManagedPolicy": true, "AWSManagedPolicy": true}

// SetMaxPage caps every page of ListRoles and GetAccountAuthorizationDetails
// at n items whatever MaxItems asks (0 removes the cap): IAM may return fewer
// items than asked for, with IsTruncated and a Marker.
func (s *Server) SetMaxPage(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxPage = max(n, 0)
}

// accountRolesLocked lists the roles of the caller's account, in ARN order,
// whose path starts with prefix.
func (s *Server) accountRolesLocked(prefix string) []*Role {
	var out []*Role
	for _, a := range sortedKeys(s.roles) {
		if r := s.roles[a]; r.account == s.caller.Account && strings.HasPrefix(r.Path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) accountListingLocked(req request, meta responseMetadata) (any, *apiError) {
	p := func(k string) string {
		if v := req.params[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	maxItems, aerr := parseMaxItems(p("MaxItems"))
	if aerr != nil {
		return nil, aerr
	}
	size := s.pageSize
	if maxItems > 0 {
		size = maxItems
	}
	if s.maxPage > 0 {
		size = min(size, s.maxPage)
	}
	if req.op == "ListRoles" {
		prefix := p("PathPrefix")
		if prefix == "" {
			prefix = "/"
		}
		items, next, aerr := page(s.accountRolesLocked(prefix), p("Marker"), size, size)
		if aerr != nil {
			return nil, aerr
		}
		out := listRolesResponse{Xmlns: iamNS, IsTruncated: next != "", Marker: next, Metadata: meta}
		for _, r := range items {
			out.Roles = append(out.Roles, xmlRole{Path: r.Path, RoleName: r.Name, RoleID: roleID(r.ARN), Arn: r.ARN, CreateDate: fixedCreateDate,
				AssumeRolePolicyDocument: EncodePolicy(r.TrustPolicy), MaxSessionDuration: 3600})
		}
		return out, nil
	}

	filter := memberList(req.params, "Filter")
	roles := len(filter) == 0
	for _, f := range filter {
		if !entityTypes[f] {
			return nil, &apiError{status: http.StatusBadRequest, code: "ValidationError",
				message: fmt.Sprintf("1 validation error detected: Value '[%s]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]]", strings.Join(filter, ", "))}
		}
		roles = roles || f == "Role"
	}
	var all []*Role
	if roles {
		all = s.accountRolesLocked("/")
	}
	items, next, aerr := page(all, p("Marker"), size, size)
	if aerr != nil {
		return nil, aerr
	}
	out := getAccountAuthorizationDetailsResponse{Xmlns: iamNS, IsTruncated: next != "", Marker: next, Metadata: meta}
	for _, r := range items {
		d := xmlRoleDetail{Path: r.Path, RoleName: r.Name, RoleID: roleID(r.ARN), Arn: r.ARN, CreateDate: fixedCreateDate,
			AssumeRolePolicyDocument: EncodePolicy(r.TrustPolicy)}
		for _, name := range r.InlinePolicyNames {
			d.RolePolicyList = append(d.RolePolicyList, xmlRolePolicy{PolicyName: name, PolicyDocument: EncodePolicy(inlinePolicyDocument)})
		}
		for _, a := range r.AttachedPolicyARNs {
			d.AttachedManagedPolicies = append(d.AttachedManagedPolicies, attachedPolicy{PolicyName: a[strings.LastIndex(a, "/")+1:], PolicyArn: a})
		}
		out.RoleDetailList = append(out.RoleDetailList, d)
	}
	return out, nil
}
