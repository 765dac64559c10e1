package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iampolicy"
)

// The audit's check ids: a public contract, never reused (docs/audit.md).
const (
	CheckReach       diag.CheckID = "AUDIT-REACH-001"
	CheckRisk        diag.CheckID = "AUDIT-RISK-001"
	CheckSelf        diag.CheckID = "AUDIT-SELF-001"
	CheckDeadProv    diag.CheckID = "AUDIT-PROVIDER-001"
	CheckUnusedProv  diag.CheckID = "AUDIT-PROVIDER-002"
	CheckSize        diag.CheckID = "AUDIT-SIZE-001"
	CheckDuplicate   diag.CheckID = "AUDIT-DUP-001"
	CheckStale       diag.CheckID = "AUDIT-STALE-001"
	CheckPolicy      diag.CheckID = "AUDIT-POLICY-001"
	CheckRoleRead    diag.CheckID = "AUDIT-ROLE-001"
	CheckAccountRead diag.CheckID = "AUDIT-ACCESS-001"
)

// DefaultSizeQuota is IAM's default quota for a trust policy, in
// characters without whitespace; it can be raised to MaxSizeQuota
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
const (
	DefaultSizeQuota = 2048
	MaxSizeQuota     = 4096
	// sizeWarnPercent is where AUDIT-SIZE-001 starts to warn: early enough
	// that the next cluster's statement still fits.
	sizeWarnPercent = 80
)

// Check is one entry of the audit's catalogue.
type Check struct {
	ID       diag.CheckID
	Severity diag.Severity
	Title    string
	LooksAt  string
}

// Catalogue lists the audit's checks, by id; `kubectl irsa checks` and
// docs/checks.md are generated from it.
func Catalogue() []Check {
	out := []Check{
		{CheckReach, diag.SeverityWarning, "Only the service accounts that name a role can assume it (audit)",
			"every service account in scope against the role's trust policy, confirmed with the IAM evaluator; role-arn annotations and Pod Identity associations"},
		{CheckRisk, diag.SeverityError, "The role's trust is no wider than service accounts (audit)",
			"the trust policy's principal, :sub and :aud conditions, the IRSA-TRUST-002 risk kinds, once per role"},
		{CheckSelf, diag.SeverityError, "An annotated role admits its own service account (audit)",
			"the trust policy evaluated for each service account annotated with the role"},
		{CheckDeadProv, diag.SeverityWarning, "Every trusted OIDC provider exists in the account (audit)",
			"Principal.Federated of each statement, iam:ListOpenIDConnectProviders"},
		{CheckUnusedProv, diag.SeverityInfo, "Every OIDC provider of the account is trusted by some role (audit --roles all)",
			"iam:ListOpenIDConnectProviders, the Principal.Federated of every role iam:ListRoles returns"},
		{CheckSize, diag.SeverityWarning, "The trust policy stays below 80 % of its size quota (audit)",
			"the trust policy's length without whitespace, iam:GetAccountSummary AssumeRolePolicySizeQuota (default 2,048)"},
		{CheckDuplicate, diag.SeverityWarning, "No trust statement repeats another (audit)",
			"the trust policy's statements, compared without Sid"},
		{CheckStale, diag.SeverityWarning, "Every statement for this provider admits an existing service account (audit)",
			"the :sub patterns of each statement for the cluster's provider, the service accounts in scope"},
		{CheckPolicy, diag.SeverityError, "The trust policy parses (audit)",
			"iam:GetRole or iam:ListRoles AssumeRolePolicyDocument, URL-decoded"},
		{CheckRoleRead, diag.SeverityError, "Each annotated role can be read (audit)",
			"iam:GetRole for the roles named by annotations and associations"},
		{CheckAccountRead, diag.SeverityWarning, "The account-wide IAM reads succeed (audit)",
			"iam:ListRoles, iam:GetAccountSummary, iam:ListOpenIDConnectProviders"},
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func severityOf(id diag.CheckID) diag.Severity {
	for _, c := range Catalogue() {
		if c.ID == id {
			return c.Severity
		}
	}
	return diag.SeverityInfo
}

func roleRef(roleARN string) diag.ObjectRef { return diag.ObjectRef{Kind: "IAMRole", Name: roleARN} }

func ev(key, value, source string) diag.Evidence {
	return diag.Evidence{Key: key, Value: value, Source: source}
}

func finding(id diag.CheckID, status diag.Status, obj diag.ObjectRef, msg, fix string, evs ...diag.Evidence) diag.Finding {
	return diag.Finding{ID: id, Severity: severityOf(id), Status: status, Object: obj, Message: msg, Evidence: evs, Remediation: fix}
}

const trustSource = "iam:GetRole or iam:ListRoles AssumeRolePolicyDocument, URL-decoded"

func roleUnreadable(r Role) diag.Finding {
	e := r.Err
	if e.Code == facts.ErrNotFound {
		return finding(CheckRoleRead, diag.StatusFail, roleRef(r.ARN), "The role a service account names does not exist",
			"create the role, or correct the eks.amazonaws.com/role-arn annotation", ev("error", e.Message, e.Op))
	}
	return finding(CheckRoleRead, diag.StatusUnknown, roleRef(r.ARN), "Could not read the role: "+e.Message,
		"allow "+e.Op+" on the role, or run with credentials of the role's account (--aws-profile)", ev("error", e.Message, e.Op))
}

func unparsable(r Role, err error) diag.Finding {
	return finding(CheckPolicy, diag.StatusFail, roleRef(r.ARN), "The trust policy does not parse: "+oneLine(err.Error()),
		"fix the document with aws iam update-assume-role-policy --role-name "+roleName(r.ARN)+" --policy-document file://trust.json",
		ev("trust policy", r.TrustPolicy, trustSource))
}

func accessFindings(failed []*facts.CallError) []diag.Finding {
	out := make([]diag.Finding, 0, len(failed))
	for _, e := range failed {
		if e == nil {
			continue
		}
		what := map[string]string{
			"iam:ListRoles":                  "only the roles named by annotations and associations were audited, with iam:GetRole",
			"iam:GetAccountSummary":          "trust policy sizes were judged against the default quota of 2,048 characters",
			"iam:ListOpenIDConnectProviders": "dead providers (AUDIT-PROVIDER-001) and unreferenced ones (AUDIT-PROVIDER-002) were not judged",
		}[e.Op]
		msg := e.Op + " failed (" + string(e.Code) + ")"
		if what != "" {
			msg += ": " + what
		}
		out = append(out, finding(CheckAccountRead, diag.StatusUnknown, diag.ObjectRef{Kind: "AWSAccount", Name: e.Resource}, msg,
			"allow "+e.Op+" to the credentials kubectl-irsa runs with", ev("error", e.Message, e.Op)))
	}
	return out
}

// hygiene judges one parsed trust policy.
func (a *auditor) hygiene(r Role, p *iampolicy.Policy, exp iampolicy.Expectation, item RoleReport) []diag.Finding {
	obj := roleRef(r.ARN)
	out := a.reachFindings(r, p, exp, item)

	// Risk: the IRSA-TRUST-002 kinds, once per role. The suggestion names
	// the first service account meant to use the role, else a placeholder.
	d := iampolicy.DiagnoseTrust(p, exp)
	suggest := exp
	suggest.Subject = subjectPrefix + "NAMESPACE:NAME"
	if subs := a.intendedSubjects(r.ARN); len(subs) > 0 {
		suggest.Subject = subs[0]
	}
	for _, pr := range d.Security {
		f := finding(CheckRisk, diag.StatusFail, obj, "Trust policy risk ("+string(pr.Kind.Severity())+"): "+diag.ProblemSentence(pr),
			"narrow the statement to the service accounts that need the role, e.g. "+diag.CompactJSON(iampolicy.SuggestedStatement(suggest)),
			ev("kind", string(pr.Kind), "the IAM policy evaluator"), ev("statement", strconv.Itoa(pr.StatementIndex), trustSource))
		f.Severity = securitySeverity(pr.Kind)
		out = append(out, f)
	}

	out = append(out, deadFindings(r, p, item)...)
	out = append(out, a.sizeFinding(r)...)
	out = append(out, duplicateFindings(r, p)...)
	out = append(out, a.staleFindings(r, item)...)
	return out
}

// reachFindings are AUDIT-REACH-001 (service accounts that can assume the
// role without naming it) and AUDIT-SELF-001 (service accounts that name
// it but cannot assume it).
func (a *auditor) reachFindings(r Role, p *iampolicy.Policy, exp iampolicy.Expectation, item RoleReport) []diag.Finding {
	var out []diag.Finding
	obj := roleRef(r.ARN)
	var unintended []string
	var evs []diag.Evidence
	reached := map[string]bool{}
	for _, sa := range item.ServiceAccounts {
		reached[sa.Namespace+"/"+sa.Name] = true
		if sa.Intended {
			continue
		}
		key := sa.Namespace + "/" + sa.Name
		unintended = append(unintended, key)
		evs = append(evs, ev("serviceaccount "+key, "admitted by statement "+joinInts(sa.Statements), "trust policy evaluated with sub "+subjectPrefix+sa.Namespace+":"+sa.Name))
	}
	if len(unintended) > 0 {
		msg := fmt.Sprintf("%d service account(s) can assume the role without naming it: %s", len(unintended), summariseList(unintended, 5))
		out = append(out, finding(CheckReach, diag.StatusFail, obj, msg,
			"narrow the trust policy's :sub condition to the service accounts that need the role; "+
				"the statements named in the evidence admit the others", evs...))
	}
	// The annotated service accounts that cannot assume their own role.
	for _, subj := range a.intendedSubjects(r.ARN) {
		ns, name, _ := facts.ParseServiceAccountSubject(subj)
		if reached[ns+"/"+name] {
			continue
		}
		e := exp
		e.Subject = subj
		if i, ok := a.ix.bySub[subj]; ok {
			e.Audience = a.ix.sas[i].audience()
		}
		d := iampolicy.DiagnoseTrust(p, e)
		reason := "no statement admits it"
		var evidence []diag.Evidence
		evidence = append(evidence, ev("decision", string(d.Decision), "trust policy evaluated with sub "+subj+" and aud "+e.Audience))
		if len(d.Problems) > 0 {
			reason = diag.ProblemSentence(d.Problems[0])
			evidence = append(evidence, ev("kind", string(d.Problems[0].Kind), "the IAM policy evaluator"))
		}
		out = append(out, finding(CheckSelf, diag.StatusFail, diag.ObjectRef{Kind: "ServiceAccount", Namespace: ns, Name: name},
			"The service account is annotated with "+r.ARN+" but cannot assume it: "+reason,
			"add this statement to the trust policy, or run kubectl irsa diagnose sa/"+name+" -n "+ns+": "+diag.CompactJSON(d.SuggestedStatement), evidence...))
	}
	return out
}

// intendedSubjects are the subjects of the service accounts annotated
// with the role, sorted.
func (a *auditor) intendedSubjects(roleARN string) []string {
	var out []string
	for subj, via := range a.intended[roleARN] {
		if via == ViaIRSA {
			out = append(out, subj)
		}
	}
	sort.Strings(out)
	return out
}

// deadFindings are AUDIT-PROVIDER-001: statements trusting an OIDC
// provider the account no longer holds (a deleted or recreated cluster).
func deadFindings(r Role, p *iampolicy.Policy, item RoleReport) []diag.Finding {
	var out []diag.Finding
	raw := rawStatements(r.TrustPolicy)
	for i, sum := range item.Statements {
		if len(sum.DeadProviders) == 0 {
			continue
		}
		s := p.Statements[i]
		// The statement as written, only its white space removed.
		stmt := ""
		if i < len(raw) {
			var b bytes.Buffer
			if json.Compact(&b, raw[i]) == nil {
				stmt = b.String()
			}
		}
		all := s.Principal != nil && len(sum.DeadProviders) == len(s.Principal.Federated) &&
			len(s.Principal.AWS) == 0 && len(s.Principal.Service) == 0 && len(s.Principal.CanonicalUser) == 0 && !s.Principal.Wildcard
		fix := "delete statement " + strconv.Itoa(s.Index) + " from the trust policy: " + stmt
		if !all {
			fix = "remove " + strings.Join(sum.DeadProviders, ", ") + " from Principal.Federated of statement " + strconv.Itoa(s.Index) + ": " + stmt
		}
		if rest, ok := withoutStatements(r.TrustPolicy, map[int]bool{i: all}); ok && all {
			fix += "; then: aws iam update-assume-role-policy --role-name " + roleName(r.ARN) + " --policy-document '" + rest + "'"
		}
		out = append(out, finding(CheckDeadProv, diag.StatusFail, roleRef(r.ARN),
			fmt.Sprintf("Statement %d trusts an OIDC provider that does not exist in the account: %s", s.Index, strings.Join(sum.DeadProviders, ", ")),
			fix, ev("statement", stmt, trustSource), ev("missing providers", strings.Join(sum.DeadProviders, ", "), "iam:ListOpenIDConnectProviders")))
	}
	return out
}

// sizeFinding is AUDIT-SIZE-001: IAM counts a trust policy's characters
// without whitespace against AssumeRolePolicySizeQuota.
func (a *auditor) sizeFinding(r Role) []diag.Finding {
	quota, source := a.in.SizeQuota, "iam:GetAccountSummary AssumeRolePolicySizeQuota"
	if quota <= 0 {
		quota, source = DefaultSizeQuota, "IAM's default quota (iam:GetAccountSummary not read)"
	}
	n := PolicyLength(r.TrustPolicy)
	if n*100 < quota*sizeWarnPercent {
		return nil
	}
	msg := fmt.Sprintf("The trust policy is %d characters without whitespace, %d %% of the quota of %d", n, n*100/quota, quota)
	fix := "merge the statements for several service accounts of one provider into one statement (one :sub list), delete dead statements"
	if quota < MaxSizeQuota {
		fix += ", or ask AWS Support to raise the role trust policy length quota to 4,096"
	}
	return []diag.Finding{finding(CheckSize, diag.StatusFail, roleRef(r.ARN), msg, fix,
		ev("length", strconv.Itoa(n), trustSource+", whitespace not counted"), ev("quota", strconv.Itoa(quota), source))}
}

// PolicyLength is a document's length as IAM counts it against the policy
// size quotas: characters, whitespace not counted.
func PolicyLength(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// duplicateFindings are AUDIT-DUP-001: a statement equal to an earlier one
// but for its Sid.
func duplicateFindings(r Role, p *iampolicy.Policy) []diag.Finding {
	var out []diag.Finding
	first := map[string]int{}
	for _, s := range p.Statements {
		k := canonical(s)
		j, ok := first[k]
		if !ok {
			first[k] = s.Index
			continue
		}
		out = append(out, finding(CheckDuplicate, diag.StatusFail, roleRef(r.ARN),
			fmt.Sprintf("Statement %d repeats statement %d", s.Index, j),
			fmt.Sprintf("delete statement %d: it admits nothing statement %d does not, and counts against the size quota", s.Index, j),
			ev("statements", fmt.Sprintf("%d, %d", j, s.Index), trustSource)))
	}
	return out
}

// canonical is a statement without its position and Sid, with its lists
// in order, so that equal statements compare equal.
func canonical(s iampolicy.Statement) string {
	s.Index, s.Sid = 0, ""
	sortPrincipal(s.Principal)
	sortPrincipal(s.NotPrincipal)
	s.Actions = sortedCopy(s.Actions)
	s.NotActions = sortedCopy(s.NotActions)
	cs := make([]iampolicy.Condition, len(s.Conditions))
	for i, c := range s.Conditions {
		c.Values = sortedCopy(c.Values)
		cs[i] = c
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Operator != cs[j].Operator {
			return cs[i].Operator < cs[j].Operator
		}
		return strings.ToLower(cs[i].Key) < strings.ToLower(cs[j].Key)
	})
	s.Conditions = cs
	b, _ := json.Marshal(s) // plain strings and slices always marshal
	return string(b)
}

func sortPrincipal(p *iampolicy.Principal) {
	if p == nil {
		return
	}
	cp := *p
	cp.Federated, cp.AWS, cp.Service, cp.CanonicalUser = sortedCopy(p.Federated), sortedCopy(p.AWS), sortedCopy(p.Service), sortedCopy(p.CanonicalUser)
	*p = cp
}

func sortedCopy(in []string) []string {
	if in == nil {
		return nil
	}
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

// staleFindings are AUDIT-STALE-001: an Allow statement for this
// cluster's provider that admits no service account in scope. With -n, only
// statements whose subjects all lie in that namespace are judged: the
// others may admit service accounts the run did not list.
func (a *auditor) staleFindings(r Role, item RoleReport) []diag.Finding {
	var out []diag.Finding
	for _, sum := range item.Statements {
		if !sum.ThisProvider || sum.Effect != iampolicy.EffectAllow || sum.Admitted > 0 || !a.inScope(sum.Admits) {
			continue
		}
		var pats []string
		for _, pt := range sum.Admits {
			pats = append(pats, pt.String())
		}
		where := "the cluster"
		if !a.in.AllNamespaces {
			where = "namespace " + a.in.Namespace
		}
		out = append(out, finding(CheckStale, diag.StatusFail, roleRef(r.ARN),
			fmt.Sprintf("Statement %d admits no service account of %s (%s)", sum.Index, where, strings.Join(pats, ", ")),
			fmt.Sprintf("delete statement %d, or its :sub values for service accounts that no longer exist", sum.Index),
			ev("patterns", strings.Join(pats, ", "), trustSource)))
	}
	return out
}

// inScope says whether every service account the patterns could admit lies
// in the listed scope, so that "none exists" is a fact and not a gap.
func (a *auditor) inScope(pats []Pattern) bool {
	if len(pats) == 0 {
		return false
	}
	for _, pt := range pats {
		switch pt.Kind {
		case PatternAnyToken, PatternAnyProvider, PatternCluster:
			// These admit every service account; a cluster without any
			// has bigger problems than a stale statement.
			return false
		case PatternOther, PatternExcept:
		case PatternServiceAccount, PatternNamespace:
			if !a.in.AllNamespaces && pt.Namespace != a.in.Namespace {
				return false
			}
		case PatternWildcard:
			if !a.in.AllNamespaces && !strings.HasPrefix(pt.Value, subjectPrefix+a.in.Namespace+":") {
				return false
			}
		}
	}
	return true
}

// unreferencedProviders is AUDIT-PROVIDER-002: with every role of the
// account listed, an OIDC provider no trust policy names is left over from
// a deleted cluster.
func unreferencedProviders(in Input, roles []Role) []diag.Finding {
	if !in.AllRoles || (in.PathPrefix != "" && in.PathPrefix != "/") || in.Providers == nil || in.Providers.Err != nil {
		return nil
	}
	referenced := map[string]bool{}
	for _, r := range roles {
		if r.Err != nil {
			continue
		}
		p, err := iampolicy.Parse(r.TrustPolicy)
		if err != nil {
			continue
		}
		for _, s := range p.Statements {
			if s.Principal != nil {
				for _, f := range s.Principal.Federated {
					referenced[f] = true
				}
			}
		}
	}
	var out []diag.Finding
	for _, prov := range in.Providers.ARNs {
		if referenced[prov] {
			continue
		}
		out = append(out, finding(CheckUnusedProv, diag.StatusFail, diag.ObjectRef{Kind: "OIDCProvider", Name: prov},
			"No role's trust policy references this OIDC provider",
			"if its cluster is gone: aws iam delete-open-id-connect-provider --open-id-connect-provider-arn "+prov,
			ev("provider", prov, "iam:ListOpenIDConnectProviders"), ev("roles listed", strconv.Itoa(len(roles)), "iam:ListRoles")))
	}
	return out
}

// rawStatements returns the statements of a document as written.
func rawStatements(doc string) []json.RawMessage {
	var top struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if json.Unmarshal([]byte(strings.TrimSpace(doc)), &top) != nil {
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(top.Statement, &list) == nil {
		return list
	}
	return []json.RawMessage{top.Statement}
}

// withoutStatements is the compact document without the statements whose
// position is set in drop.
func withoutStatements(doc string, drop map[int]bool) (string, bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal([]byte(strings.TrimSpace(doc)), &top) != nil {
		return "", false
	}
	raw := rawStatements(doc)
	kept := make([]json.RawMessage, 0, len(raw))
	for i, s := range raw {
		if !drop[i] {
			kept = append(kept, s)
		}
	}
	b, err := json.Marshal(kept)
	if err != nil {
		return "", false
	}
	top["Statement"] = b
	// Version first, as IAM writes it; then the rest in key order.
	var sb strings.Builder
	sb.WriteString("{")
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if (keys[i] == "Version") != (keys[j] == "Version") {
			return keys[i] == "Version"
		}
		return keys[i] < keys[j]
	})
	for i, k := range keys {
		if i > 0 {
			sb.WriteString(",")
		}
		kb, _ := json.Marshal(k) // a string always marshals
		sb.Write(kb)
		sb.WriteString(":")
		sb.WriteString(diag.CompactJSON(string(top[k])))
	}
	sb.WriteString("}")
	return sb.String(), true
}

// securitySeverity grades the IRSA-TRUST-002 kinds as diagnose does
// (docs/behaviour.md#trust-policy-security).
func securitySeverity(k iampolicy.ProblemKind) diag.Severity {
	switch k.Severity() {
	case iampolicy.SeverityCritical, iampolicy.SeverityHigh:
		return diag.SeverityError
	case iampolicy.SeverityMedium:
		return diag.SeverityWarning
	}
	return diag.SeverityInfo
}

func roleName(roleARN string) string {
	if r, err := awsarn.ParseRoleARN(roleARN); err == nil {
		return r.Name
	}
	return roleARN
}

func joinInts(is []int) string {
	parts := make([]string, len(is))
	for i, n := range is {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}

// summariseList names the first n items and counts the rest.
func summariseList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(" and %d more", len(items)-n)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
