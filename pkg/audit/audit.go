// Package audit turns the IRSA question around: for each role, which
// service accounts of this cluster can assume it, is each of them meant to,
// and is the trust policy in good shape (dead providers, size, duplicates,
// stale subjects). It is pure: it reads facts gathered elsewhere (no
// clients, no I/O, no clock) and confirms every answer with pkg/iampolicy,
// the evaluator diagnose uses, so the semantics are IAM's
// (docs/audit.md).
package audit

import (
	"sort"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iampolicy"
)

// ServiceAccount is one service account of the cluster in scope.
type ServiceAccount struct {
	Namespace string
	Name      string
	// RoleARN is its eks.amazonaws.com/role-arn annotation, "" without one.
	RoleARN string
	// Audience is its eks.amazonaws.com/audience annotation; "" means
	// sts.amazonaws.com, the webhook's default.
	Audience string
	// PodIdentityRoles are the roles of its EKS Pod Identity associations.
	PodIdentityRoles []string
}

// Subject is the sub claim of the service account's tokens.
func (s ServiceAccount) Subject() string { return subjectPrefix + s.Namespace + ":" + s.Name }

func (s ServiceAccount) audience() string {
	if s.Audience != "" {
		return s.Audience
	}
	return facts.DefaultAudience
}

// Role is one role read from IAM.
type Role struct {
	ARN string
	// TrustPolicy is the decoded trust policy document.
	TrustPolicy string
	// Err is why the role could not be read.
	Err *facts.CallError
	// Listed is set for a role that iam:ListRoles returned; such a role is
	// audited when its trust policy applies to this cluster's provider.
	Listed bool
}

// Input is everything an audit reads.
type Input struct {
	// Issuer is the cluster's OIDC issuer URL.
	Issuer string
	// Account is the account of the AWS credentials.
	Account string
	// AllNamespaces and Namespace are the Kubernetes scope:
	// ServiceAccounts holds every service account in it.
	AllNamespaces   bool
	Namespace       string
	ServiceAccounts []ServiceAccount
	// Roles are the annotated (and associated) roles and, with --roles all,
	// every role iam:ListRoles returned.
	Roles []Role
	// AllRoles says every role of the account under PathPrefix was listed.
	AllRoles   bool
	PathPrefix string
	// Providers is iam:ListOpenIDConnectProviders of the caller's account;
	// nil when it was not asked.
	Providers *facts.ProviderList
	// SizeQuota is AssumeRolePolicySizeQuota from iam:GetAccountSummary;
	// 0 when unknown (the default quota applies).
	SizeQuota int
	// Failed are the account-wide calls that failed (iam:ListRoles,
	// iam:GetAccountSummary, iam:ListOpenIDConnectProviders).
	Failed []*facts.CallError
}

// Report is the audit's result.
type Report struct {
	Issuer string `json:"issuer"`
	// Items are the audited roles, by ARN.
	Items []RoleReport `json:"items"`
	// Findings are about the account rather than one role.
	Findings []diag.Finding `json:"findings"`
	Stats    Stats          `json:"-"`
}

// Stats says how much work the audit did, for the summary line and the
// benchmark: Candidates are the (service account, role) pairs the
// prefilter let through to the evaluator.
type Stats struct {
	ServiceAccounts int
	Roles           int
	Statements      int
	Candidates      int
}

// RoleReport is one role's audit.
type RoleReport struct {
	Role string `json:"role"`
	// Admits are the patterns of the subjects its statements for this
	// provider admit, in statement order, each once.
	Admits []string `json:"admits"`
	// ServiceAccounts are the service accounts in scope that can assume
	// it, by namespace and name.
	ServiceAccounts []Reach        `json:"serviceAccounts"`
	Findings        []diag.Finding `json:"findings"`
	// Statements summarises each statement (-o wide).
	Statements []StatementSummary `json:"statements,omitempty"`
}

// Via values of Reach.
const (
	ViaIRSA        = "irsa"
	ViaPodIdentity = "pod-identity"
)

// Reach is one service account that can assume the role.
type Reach struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Intended: annotated with the role or associated with it.
	Intended bool `json:"intended"`
	// Via is irsa (the trust policy admits its token) or pod-identity (an
	// EKS Pod Identity association names the role).
	Via string `json:"via"`
	// Statements are the indexes of the Allow statements that admit it.
	Statements []int `json:"statements,omitempty"`
}

// StatementSummary is one statement of the trust policy.
type StatementSummary struct {
	Index  int    `json:"index"`
	Sid    string `json:"sid,omitempty"`
	Effect string `json:"effect"`
	// Federated are the providers it names.
	Federated []string `json:"federated,omitempty"`
	// ThisProvider: it applies to this cluster's provider and
	// sts:AssumeRoleWithWebIdentity.
	ThisProvider bool      `json:"thisProvider"`
	Admits       []Pattern `json:"admits,omitempty"`
	// Admitted is how many service accounts in scope it admits.
	Admitted int `json:"admitted"`
	// DeadProviders are Federated providers missing from the account.
	DeadProviders []string `json:"deadProviders,omitempty"`
}

// index holds the service accounts sorted by subject, so a literal prefix
// finds its candidates by binary search.
type index struct {
	sas      []ServiceAccount
	subjects []string
	bySub    map[string]int
}

func newIndex(sas []ServiceAccount) *index {
	sorted := make([]ServiceAccount, len(sas))
	copy(sorted, sas)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Subject() < sorted[j].Subject() })
	ix := &index{sas: sorted, subjects: make([]string, len(sorted)), bySub: make(map[string]int, len(sorted))}
	for i, s := range sorted {
		ix.subjects[i] = s.Subject()
		ix.bySub[ix.subjects[i]] = i
	}
	return ix
}

// withPrefix returns the range of service accounts whose subject starts
// with prefix.
func (ix *index) withPrefix(prefix string) (lo, hi int) {
	lo = sort.SearchStrings(ix.subjects, prefix)
	hi = lo
	for hi < len(ix.subjects) && strings.HasPrefix(ix.subjects[hi], prefix) {
		hi++
	}
	return lo, hi
}

// Run audits every role of in. It never fails: what could not be read is
// an `unknown` finding.
func Run(in Input) Report {
	rep := Report{Issuer: in.Issuer, Items: []RoleReport{}, Findings: []diag.Finding{}}
	is, err := awsarn.ParseIssuer(in.Issuer)
	if err != nil {
		return rep
	}
	host := is.HostPath
	ix := newIndex(in.ServiceAccounts)
	rep.Stats.ServiceAccounts = len(ix.sas)
	intended := intendedRoles(in.ServiceAccounts)

	a := &auditor{in: in, host: host, subKey: host + ":sub", ix: ix, intended: intended, providers: providerSet(in.Providers)}
	roles := dedupeRoles(in.Roles)
	for _, r := range roles {
		item, ok := a.role(r)
		if !ok {
			continue
		}
		rep.Stats.Roles++
		rep.Stats.Statements += len(item.Statements)
		diag.SortFindings(item.Findings)
		rep.Items = append(rep.Items, item)
	}
	rep.Stats.Candidates = a.candidates
	rep.Findings = append(rep.Findings, accessFindings(in.Failed)...)
	rep.Findings = append(rep.Findings, unreferencedProviders(in, roles)...)
	diag.SortFindings(rep.Findings)
	return rep
}

// intendedRoles maps role ARN → service-account subject → how it names the
// role (annotation or association).
func intendedRoles(sas []ServiceAccount) map[string]map[string]string {
	out := map[string]map[string]string{}
	add := func(role, subject, via string) {
		if out[role] == nil {
			out[role] = map[string]string{}
		}
		if _, ok := out[role][subject]; !ok || via == ViaIRSA {
			out[role][subject] = via
		}
	}
	for _, s := range sas {
		if s.RoleARN != "" {
			add(strings.TrimSpace(s.RoleARN), s.Subject(), ViaIRSA)
		}
		for _, r := range s.PodIdentityRoles {
			add(r, s.Subject(), ViaPodIdentity)
		}
	}
	return out
}

// dedupeRoles keeps one entry per ARN, sorted; a role read by GetRole wins
// over its listing only when the listing has no document.
func dedupeRoles(in []Role) []Role {
	by := map[string]Role{}
	for _, r := range in {
		prev, ok := by[r.ARN]
		switch {
		case !ok:
			by[r.ARN] = r
		case prev.Err != nil && r.Err == nil:
			r.Listed = r.Listed || prev.Listed
			by[r.ARN] = r
		default:
			prev.Listed = prev.Listed || r.Listed
			by[r.ARN] = prev
		}
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Role, 0, len(keys))
	for _, k := range keys {
		out = append(out, by[k])
	}
	return out
}

func providerSet(l *facts.ProviderList) map[string]bool {
	if l == nil || l.Err != nil {
		return nil
	}
	out := make(map[string]bool, len(l.ARNs))
	for _, a := range l.ARNs {
		out[a] = true
	}
	return out
}

type auditor struct {
	in         Input
	host       string
	subKey     string
	ix         *index
	intended   map[string]map[string]string
	providers  map[string]bool // nil: unknown
	candidates int
}

// role audits one role. ok is false for a listed role whose trust policy
// does not apply to this cluster's provider: it is not this cluster's.
func (a *auditor) role(r Role) (RoleReport, bool) {
	item := RoleReport{Role: r.ARN, Admits: []string{}, ServiceAccounts: []Reach{}, Findings: []diag.Finding{}}
	intended := a.intended[r.ARN]
	if r.Err != nil {
		if len(intended) == 0 {
			return item, false
		}
		item.Findings = append(item.Findings, roleUnreadable(r))
		item.ServiceAccounts = podIdentityReach(intended, nil)
		return item, true
	}
	p, err := iampolicy.Parse(r.TrustPolicy)
	if err != nil {
		if len(intended) == 0 && !mentionsIssuer(r.TrustPolicy, a.host) {
			return item, false
		}
		item.Findings = append(item.Findings, unparsable(r, err))
		item.ServiceAccounts = podIdentityReach(intended, nil)
		return item, true
	}
	role, err := awsarn.ParseRoleARN(r.ARN)
	if err != nil {
		return item, false
	}
	provider := awsarn.ProviderARN(role.Partition, role.Account, a.host)
	exp := iampolicy.Expectation{ProviderARN: provider, IssuerHostPath: a.host, Audience: facts.DefaultAudience}
	// One evaluation without a subject says which statements name this
	// provider and allow the web-identity action.
	base := p.Evaluate(iampolicy.TrustRequest(exp))
	applies := false
	for i, s := range p.Statements {
		sr := base.Statements[i]
		if s.Effect == iampolicy.EffectAllow && sr.PrincipalMatch && sr.ActionMatch {
			applies = true
		}
	}
	if !applies && len(intended) == 0 {
		return item, false
	}

	var admitted []int
	item.ServiceAccounts, admitted = a.reach(p, base, exp, intended)
	item.Statements, item.Admits = a.statements(p, base, admitted)
	item.Findings = append(item.Findings, a.hygiene(r, p, exp, item)...)
	return item, true
}

// reach evaluates the prefilter's candidates, each once, and returns who
// can assume the role and how many service accounts each statement admits.
func (a *auditor) reach(p *iampolicy.Policy, base iampolicy.Result, exp iampolicy.Expectation, intended map[string]string) ([]Reach, []int) {
	// Prefilter: the candidates of each applicable Allow statement, from
	// its :sub values; then the evaluator decides each candidate once.
	cand := map[int]bool{}
	for i, s := range p.Statements {
		sr := base.Statements[i]
		if s.Effect == iampolicy.EffectAllow && sr.PrincipalMatch && sr.ActionMatch {
			a.statementCandidates(s, cand)
		}
	}
	// An intended service account is always judged, so AUDIT-SELF-001 can
	// say why it is denied.
	for subj := range intended {
		if i, ok := a.ix.bySub[subj]; ok {
			cand[i] = true
		}
	}
	order := make([]int, 0, len(cand))
	for i := range cand {
		order = append(order, i)
	}
	sort.Ints(order)
	a.candidates += len(order)

	admitted := make([]int, len(p.Statements))
	reached := map[string]bool{}
	out := []Reach{}
	for _, i := range order {
		sa := a.ix.sas[i]
		e := exp
		e.Subject, e.Audience = sa.Subject(), sa.audience()
		res := p.Evaluate(iampolicy.TrustRequest(e))
		var stmts []int
		for j, sr := range res.Statements {
			if sr.Applies && sr.Effect == iampolicy.EffectAllow {
				admitted[j]++
				stmts = append(stmts, sr.Index)
			}
		}
		if res.Decision != iampolicy.DecisionAllow {
			continue
		}
		_, isIntended := intended[sa.Subject()]
		reached[sa.Subject()] = true
		out = append(out, Reach{Namespace: sa.Namespace, Name: sa.Name, Intended: isIntended, Via: ViaIRSA, Statements: stmts})
	}
	out = append(out, podIdentityReach(intended, reached)...)
	sortReach(out)
	return out, admitted
}

// statements summarises each statement, and the role's patterns in
// statement order, each once.
func (a *auditor) statements(p *iampolicy.Policy, base iampolicy.Result, admitted []int) ([]StatementSummary, []string) {
	sums := make([]StatementSummary, 0, len(p.Statements))
	admits := []string{}
	seen := map[string]bool{}
	for i, s := range p.Statements {
		sr := base.Statements[i]
		sum := StatementSummary{Index: s.Index, Sid: s.Sid, Effect: s.Effect, Admitted: admitted[i]}
		if s.Principal != nil {
			sum.Federated = s.Principal.Federated
		}
		sum.ThisProvider = sr.PrincipalMatch && sr.ActionMatch
		if sum.ThisProvider && s.Effect == iampolicy.EffectAllow {
			sum.Admits = summarise(s, a.subKey)
			for _, pt := range sum.Admits {
				if k := pt.String(); !seen[k] {
					seen[k] = true
					admits = append(admits, k)
				}
			}
		}
		sum.DeadProviders = a.deadProviders(s)
		sums = append(sums, sum)
	}
	return sums, admits
}

// statementCandidates adds the service accounts one Allow statement can
// admit: those matching its positive :sub condition, or every one when
// nothing narrows :sub.
func (a *auditor) statementCandidates(s iampolicy.Statement, cand map[int]bool) {
	sc, ok := positiveSubCondition(s, a.subKey)
	if !ok {
		for i := range a.ix.sas {
			cand[i] = true
		}
		return
	}
	for _, v := range sc.values {
		lo, hi := a.ix.withPrefix(literalPrefix(v, sc.like))
		for i := lo; i < hi; i++ {
			cand[i] = true
		}
	}
}

// podIdentityReach lists the service accounts associated with the role
// through EKS Pod Identity that the trust policy did not already admit:
// EKS, not the OIDC provider, vouches for them.
func podIdentityReach(intended map[string]string, reached map[string]bool) []Reach {
	var out []Reach
	for subj, via := range intended {
		if via != ViaPodIdentity || reached[subj] {
			continue
		}
		ns, name, ok := facts.ParseServiceAccountSubject(subj)
		if !ok {
			continue
		}
		out = append(out, Reach{Namespace: ns, Name: name, Intended: true, Via: ViaPodIdentity})
	}
	sortReach(out)
	return out
}

func sortReach(rs []Reach) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].Namespace != rs[j].Namespace {
			return rs[i].Namespace < rs[j].Namespace
		}
		return rs[i].Name < rs[j].Name
	})
}

// mentionsIssuer is a cheap test for a document that does not parse: does
// it name this cluster's issuer at all?
func mentionsIssuer(doc, host string) bool {
	return host != "" && strings.Contains(doc, host)
}

// deadProviders are the OIDC providers a statement trusts that the
// caller's account does not hold. Providers of other accounts cannot be
// listed, so they are never called dead.
func (a *auditor) deadProviders(s iampolicy.Statement) []string {
	if a.providers == nil || s.Principal == nil {
		return nil
	}
	var out []string
	for _, f := range s.Principal.Federated {
		parsed, err := awsarn.Parse(f)
		if err != nil || parsed.Service != "iam" || !strings.HasPrefix(parsed.Resource, "oidc-provider/") || parsed.Account != a.in.Account {
			continue
		}
		if !a.providers[f] {
			out = append(out, f)
		}
	}
	return out
}
