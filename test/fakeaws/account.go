package fakeaws

import (
	"encoding/xml"
	"sort"
)

// iam:GetAccountSummary: the account's IAM usage and quotas, in the
// SummaryMap form IAM sends (<entry><key>…</key><value>…</value></entry>).
// The fake counts the caller account's roles and OIDC providers and
// reports the quotas AWS documents as defaults
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html),
// with AssumeRolePolicySizeQuota settable, as AWS Support raises it.

// DefaultAssumeRolePolicySizeQuota is IAM's default trust policy quota.
const DefaultAssumeRolePolicySizeQuota = 2048

type summaryEntry struct {
	Key   string `xml:"key"`
	Value int    `xml:"value"`
}

type getAccountSummaryResponse struct {
	XMLName  xml.Name         `xml:"GetAccountSummaryResponse"`
	Xmlns    string           `xml:"xmlns,attr"`
	Entries  []summaryEntry   `xml:"GetAccountSummaryResult>SummaryMap>entry"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

// SetAssumeRolePolicySizeQuota sets what GetAccountSummary reports as
// AssumeRolePolicySizeQuota (IAM allows 2,048 by default, up to 4,096 when
// raised); 0 restores the default.
func (s *Server) SetAssumeRolePolicySizeQuota(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policySizeQuota = max(n, 0)
}

// assumeRolePolicySizeQuotaLocked is the quota GetAccountSummary reports.
func (s *Server) assumeRolePolicySizeQuotaLocked() int {
	if s.policySizeQuota > 0 {
		return s.policySizeQuota
	}
	return DefaultAssumeRolePolicySizeQuota
}

// accountSummaryLocked answers GetAccountSummary for the caller's account.
func (s *Server) accountSummaryLocked(meta responseMetadata) any {
	roles, providers := 0, 0
	for _, r := range s.roles {
		if r.account == s.caller.Account {
			roles++
		}
	}
	for _, p := range s.providers {
		if p.account == s.caller.Account {
			providers++
		}
	}
	m := map[string]int{
		"AccessKeysPerUserQuota":          2,
		"AssumeRolePolicySizeQuota":       s.assumeRolePolicySizeQuotaLocked(),
		"AttachedPoliciesPerRoleQuota":    10,
		"GroupPolicySizeQuota":            5120,
		"InstanceProfilesQuota":           1000,
		"PoliciesQuota":                   1500,
		"PolicySizeQuota":                 6144,
		"Providers":                       providers,
		"RolePolicySizeQuota":             10240,
		"Roles":                           roles,
		"RolesQuota":                      1000,
		"UserPolicySizeQuota":             2048,
		"VersionsPerPolicyQuota":          5,
		"ServerCertificatesQuota":         20,
		"SigningCertificatesPerUserQuota": 2,
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := getAccountSummaryResponse{Xmlns: iamNS, Metadata: meta}
	for _, k := range keys {
		out.Entries = append(out.Entries, summaryEntry{Key: k, Value: m[k]})
	}
	return out
}
