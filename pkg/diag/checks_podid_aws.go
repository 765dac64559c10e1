package diag

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iampolicy"
)

func init() {
	register(
		Check{ID: "PODID-ROLE-001", Severity: SeverityError, Title: "The association's role and target role exist, in the right account, with permission policies",
			LooksAt: "eks:DescribePodIdentityAssociation roleArn and targetRoleArn; iam:GetRole, iam:ListAttachedRolePolicies, iam:ListRolePolicies; the cluster's account",
			Run:     checkPodIdentityRole},
		Check{ID: "PODID-TRUST-001", Severity: SeverityError, Title: "The association's role trusts pods.eks.amazonaws.com for sts:AssumeRole and sts:TagSession with this service account's session tags",
			LooksAt: "the role's trust policy evaluated with IAM semantics for Service pods.eks.amazonaws.com, aws:RequestTag/* session tags, aws:TagKeys, aws:SourceAccount, aws:SourceArn; disableSessionTags",
			Run:     checkPodIdentityTrust},
		Check{ID: "PODID-TRUST-002", Severity: SeverityError, Title: "The target role trusts the association's role with its external ID",
			LooksAt: "the target role's trust policy evaluated for Principal AWS = the association's role, sts:AssumeRole, sts:ExternalId = the association's externalId",
			Run:     checkPodIdentityTargetTrust},
	)
}

const actionAssumeRole, actionTagSession = "sts:AssumeRole", "sts:TagSession"

// describedAssociations are the subject's associations whose roles are
// known, with an unknown finding for each that could not be described.
func describedAssociations(s *Input, subj *facts.Subject) (described []facts.PodIdentityAssociation, unknowns []Finding) {
	for _, a := range associationsOf(s, subj) {
		switch {
		case a.Described:
			described = append(described, a)
		case a.DescribeErr != nil:
			unknowns = append(unknowns, callUnknown(subjectRef(subj), "which role association "+a.ID+" names", a.DescribeErr))
		}
	}
	return described, unknowns
}

// checkPodIdentityRole judges the association's roles with the checks IRSA
// roles get (roleExistence, rolePolicies), plus the rule that the
// association's role is in the cluster's account, another account's role
// being reached as the target role (docs/behaviour.md#pod-identity-trust-policy).
func checkPodIdentityRole(s *Input, subj *facts.Subject) []Finding {
	assocs, out := describedAssociations(s, subj)
	for _, a := range assocs {
		role, err := awsarn.ParseRoleARN(a.RoleARN)
		if err != nil {
			continue
		}
		cluster := shellQuote(podIdentityCluster(s))
		update := "aws eks update-pod-identity-association --cluster-name " + cluster + " --association-id " + shellQuote(a.ID)
		if acct := s.AWS.ClusterAccount; acct != "" && role.Account != acct {
			out = append(out, fail(roleRef(a.RoleARN), "The association's role is in account "+role.Account+", but EKS Pod Identity assumes roles in the cluster's account "+acct+" only",
				append(associationEvidence(a), ev("cluster account", acct, "cluster ARN")),
				update+" --role-arn <A_ROLE_IN_"+acct+"> --target-role-arn "+shellQuote(a.RoleARN)+"  # the other account's role becomes the target role"))
		}
		r := s.AWS.Roles[a.RoleARN]
		out = append(out, roleExistence(s, role, r, `EKS Auth answers AccessDeniedException ("EKS does not have permissions to assume the associated role")`,
			"point the association at an existing role: "+update+" --role-arn <ROLE_ARN>"))
		if a.TargetRoleARN == "" {
			if r.Found {
				out = append(out, warningPolicies(role, r, "assuming it works, but every AWS call the pod makes is denied"))
			}
			continue
		}
		target, err := awsarn.ParseRoleARN(a.TargetRoleARN)
		if err != nil {
			continue
		}
		t := s.AWS.Roles[a.TargetRoleARN]
		out = append(out, roleExistence(s, target, t, "EKS cannot assume it after the association's role, and the pod gets no credentials",
			"point the association at an existing target role: "+update+" --target-role-arn <ROLE_ARN>"))
		if r.Found && target.Account != role.Account {
			// Across accounts the first role's own policies must allow
			// sts:AssumeRole on the target, beside the target's trust.
			out = append(out, warningPolicies(role, r, "across accounts it needs a policy that allows sts:AssumeRole on the target role "+a.TargetRoleARN))
		}
		if t.Found {
			out = append(out, warningPolicies(target, t, "assuming it works, but every AWS call the pod makes is denied"))
		}
	}
	return out
}

// warningPolicies is rolePolicies at IRSA-ROLE-002's severity: a role
// without permissions still issues credentials.
func warningPolicies(role awsarn.RoleARN, r facts.Role, consequence string) Finding {
	f := rolePolicies(role, r, consequence)
	if f.Status == StatusFail {
		f.Severity = SeverityWarning
	}
	return f
}

// trustAsk is one trust-policy question: may principal perform actions on
// the role, with this request context?
type trustAsk struct {
	role          awsarn.RoleARN
	fact          facts.Role
	principalType string
	principal     string
	actions       []string
	context       map[string][]string
	// absent says why the request carries no value for key: definite when
	// it never does (a tag EKS does not send, session tags off), not when
	// the facts lack the value or kubectl-irsa does not model the key, in
	// which case a condition on it is not judged.
	absent func(key string) (why string, definite bool)
	// fresh is the statement to suggest when none comes close.
	fresh statementJSON
}

// trustVerdict is the answer, explained.
type trustVerdict struct {
	allowed bool
	// unknown says why no verdict is given.
	unknown   string
	sentence  string
	statement int
	original  string
	corrected string
}

// statementJSON is a trust statement as it is written.
type statementJSON struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Principal map[string]any            `json:"Principal"`
	Action    any                       `json:"Action"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// judgeTrust evaluates the role's trust policy for every action with
// pkg/iampolicy and, when one is denied, names the statement and condition
// that deny it and writes the statement that would allow it.
func judgeTrust(s *Input, ask trustAsk) (trustVerdict, error) {
	v := trustVerdict{statement: -1}
	pol, err := parsedTrustPolicy(s, ask.role.String(), ask.fact.TrustPolicy)
	if err != nil {
		return v, err
	}
	for _, action := range ask.actions {
		res := pol.Evaluate(iampolicy.Request{PrincipalType: ask.principalType, Principal: ask.principal, Action: action, Context: ask.context})
		if res.Decision == iampolicy.DecisionAllow {
			continue
		}
		explainDenial(pol, res, action, ask, &v)
		return v, nil
	}
	v.allowed = true
	return v, nil
}

// parsedTrustPolicy parses a role's trust policy once per run.
func parsedTrustPolicy(s *Input, arn, doc string) (*iampolicy.Policy, error) {
	if s.memo == nil {
		s.memo = newRunMemo()
	}
	pp, seen := s.memo.policies[arn]
	if !seen {
		pp.policy, pp.err = iampolicy.Parse(doc)
		s.memo.policies[arn] = pp
	}
	return pp.policy, pp.err
}

func explainDenial(pol *iampolicy.Policy, res iampolicy.Result, action string, ask trustAsk, v *trustVerdict) {
	var candidate *iampolicy.StatementResult
	for i := range res.Statements {
		sr := &res.Statements[i]
		switch {
		case sr.Effect == iampolicy.EffectDeny && sr.Applies:
			v.statement = sr.Index
			v.sentence = fmt.Sprintf("statement %d denies %s", sr.Index, action)
			v.original = rawStatement(ask.fact.TrustPolicy, sr.Index)
			v.corrected = ""
			return
		case sr.Effect != iampolicy.EffectAllow || !sr.PrincipalMatch:
		case candidate == nil, sr.ActionMatch && !candidate.ActionMatch:
			candidate = sr
		}
	}
	if candidate == nil {
		v.sentence = "no statement allows " + ask.principalType + " " + ask.principal
		if mentionsFederated(pol) && ask.principalType == iampolicy.PrincipalService {
			v.sentence += " (the policy is written for IRSA: its principal is an OIDC provider)"
		}
		v.corrected = prettyStatement(ask.fresh)
		return
	}
	v.statement = candidate.Index
	v.original = rawStatement(ask.fact.TrustPolicy, candidate.Index)
	fixed := correctedStatement(*candidate, ask)
	v.corrected = prettyStatement(fixed)
	if !candidate.ActionMatch {
		v.sentence = fmt.Sprintf("statement %d allows %s %s, but not %s", candidate.Index, ask.principalType, ask.principal, action)
		return
	}
	var why, unknownWhy []string
	for _, c := range candidate.Conditions {
		if c.Matched {
			continue
		}
		if !c.KeyPresent {
			reason, definite := ask.absent(c.Key)
			if !definite {
				unknownWhy = append(unknownWhy, c.Key+": "+reason)
				continue
			}
			why = append(why, fmt.Sprintf("%s %s %q fails: %s", c.Operator, c.Key, c.Values, reason))
			continue
		}
		why = append(why, fmt.Sprintf("%s %s %q does not match %q", c.Operator, c.Key, c.Values, c.RequestValues))
	}
	if len(why) == 0 && len(unknownWhy) > 0 {
		// Only conditions whose request value is not known fail: no verdict.
		v.unknown = fmt.Sprintf("statement %d has conditions on keys whose values are not known (%s)", candidate.Index, strings.Join(unknownWhy, "; "))
		return
	}
	v.sentence = fmt.Sprintf("statement %d's condition %s", candidate.Index, strings.Join(why, "; and "))
}

func mentionsFederated(p *iampolicy.Policy) bool {
	for _, st := range p.Statements {
		if st.Principal != nil && len(st.Principal.Federated) > 0 {
			return true
		}
	}
	return false
}

// correctedStatement rewrites the closest statement so that it admits the
// request: the principal and actions asked for, and each failing condition
// widened to the request's values (a positive string operator gains them,
// any other is replaced by StringEquals), or dropped when the request
// cannot carry its key. Conditions that hold are kept as written.
func correctedStatement(sr iampolicy.StatementResult, ask trustAsk) statementJSON {
	out := ask.fresh
	out.Sid = sr.Sid
	out.Condition = map[string]map[string]any{}
	put := func(op, key string, values []string) {
		if out.Condition[op] == nil {
			out.Condition[op] = map[string]any{}
		}
		if len(values) == 1 {
			out.Condition[op][key] = values[0]
		} else {
			out.Condition[op][key] = values
		}
	}
	for _, c := range sr.Conditions {
		switch {
		case c.Matched:
			put(c.Operator, c.Key, c.Values)
		case !c.KeyPresent:
			// The request does not carry it (a tag EKS does not send,
			// session tags off): keeping it would keep the denial.
		case positiveStringOperator(c.Operator):
			put(c.Operator, c.Key, union(c.Values, c.RequestValues))
		default:
			put("StringEquals", c.Key, c.RequestValues)
		}
	}
	for op, keys := range ask.fresh.Condition {
		for k, val := range keys {
			if _, ok := out.Condition[op][k]; !ok {
				if out.Condition[op] == nil {
					out.Condition[op] = map[string]any{}
				}
				out.Condition[op][k] = val
			}
		}
	}
	if len(out.Condition) == 0 {
		out.Condition = nil
	}
	return out
}

func positiveStringOperator(op string) bool {
	base := op
	if _, rest, ok := strings.Cut(op, ":"); ok {
		base = rest
	}
	base = strings.TrimSuffix(base, "IfExists")
	return base == "StringEquals" || base == "StringLike" || base == "StringEqualsIgnoreCase"
}

// union is a followed by the values of b it lacks.
func union(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, v := range b {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// rawStatement is statement index of the document as written, indented.
func rawStatement(doc string, index int) string {
	var d struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if json.Unmarshal([]byte(doc), &d) != nil {
		return ""
	}
	var list []json.RawMessage
	if json.Unmarshal(d.Statement, &list) != nil {
		list = []json.RawMessage{d.Statement}
	}
	if index < 0 || index >= len(list) {
		return ""
	}
	return prettyJSON(string(list[index]))
}

func prettyStatement(st statementJSON) string {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}

// trustRemediation pastes the statement to change and the one to use.
func trustRemediation(role awsarn.RoleARN, v trustVerdict) string {
	cmd := "aws iam update-assume-role-policy --role-name " + shellQuote(role.Name) + " --policy-document file://trust.json"
	if v.original == "" {
		return "add this statement to the role's trust policy (" + cmd + "):\n" + v.corrected
	}
	if v.corrected == "" {
		return fmt.Sprintf("remove or narrow statement %d of the role's trust policy (%s):\n%s", v.statement, cmd, v.original)
	}
	return fmt.Sprintf("replace statement %d of the role's trust policy (%s):\n%s\nwith:\n%s", v.statement, cmd, v.original, v.corrected)
}

// sessionTags are the tags EKS adds to the role session, by tag key
// ("" when the facts do not hold the value), docs/behaviour.md#pod-identity-trust-evaluation.
func sessionTags(s *Input, subj *facts.Subject) map[string]string {
	tags := map[string]string{
		"eks-cluster-arn":            "",
		"eks-cluster-name":           podIdentityClusterKnown(s),
		"kubernetes-namespace":       subj.Namespace,
		"kubernetes-service-account": subj.ServiceAccountName,
		"kubernetes-pod-name":        "",
		"kubernetes-pod-uid":         "",
	}
	if c := s.AWS.Cluster; c != nil && c.Err == nil {
		tags["eks-cluster-arn"] = c.ARN
	}
	if len(subj.Pods) > 0 {
		p := subj.Pods[0].Pod
		tags["kubernetes-pod-name"], tags["kubernetes-pod-uid"] = p.Name, string(p.UID)
	}
	return tags
}

func podIdentityClusterKnown(s *Input) string {
	if c := podIdentityCluster(s); c != "<CLUSTER>" {
		return c
	}
	return ""
}

// requestContext is what EKS's sts:AssumeRole carries for the association
// (docs/behaviour.md#pod-identity-trust-evaluation): the session tags unless
// they are disabled, aws:TagKeys, aws:SourceAccount and aws:SourceArn.
func requestContext(s *Input, subj *facts.Subject, a facts.PodIdentityAssociation) (ctx map[string][]string, absent func(string) (string, bool), summary []string) {
	ctx = map[string][]string{}
	unknownKeys := map[string]string{}
	set := func(key, value, why string) {
		if value == "" {
			unknownKeys[strings.ToLower(key)] = why
			return
		}
		ctx[key] = []string{value}
		summary = append(summary, key+"="+value)
	}
	if !a.DisableSessionTags {
		tags := sessionTags(s, subj)
		keys := make([]string, 0, len(tags))
		for k := range tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			why := "eks:DescribeCluster did not give the cluster's ARN"
			if strings.HasPrefix(k, "kubernetes-pod") {
				why = "no pod runs as the service account"
			}
			set("aws:RequestTag/"+k, tags[k], why)
		}
		ctx["aws:TagKeys"] = keys
	}
	arn := ""
	if c := s.AWS.Cluster; c != nil && c.Err == nil {
		arn = c.ARN
	}
	set("aws:SourceAccount", s.AWS.ClusterAccount, "the cluster's account is not known")
	set("aws:SourceArn", arn, "eks:DescribeCluster did not give the cluster's ARN")
	absent = func(key string) (string, bool) {
		k := strings.ToLower(key)
		if why, ok := unknownKeys[k]; ok {
			return why, false
		}
		if strings.HasPrefix(k, "aws:requesttag/") {
			if a.DisableSessionTags {
				return "the association disables session tags, so EKS sends none", true
			}
			return "EKS Pod Identity sends no such session tag", true
		}
		if k == "aws:tagkeys" && a.DisableSessionTags {
			return "the association disables session tags, so EKS sends none", true
		}
		return "kubectl-irsa does not know what EKS sends for it", false
	}
	return ctx, absent, summary
}

// checkPodIdentityTrust evaluates the association's role's trust policy as
// EKS's sts:AssumeRole (and sts:TagSession while session tags are on) with
// the service account's session tags, so that an ABAC condition that leaves
// out this namespace or service account is caught
// (docs/behaviour.md#pod-identity-trust-policy, #pod-identity-trust-evaluation).
func checkPodIdentityTrust(s *Input, subj *facts.Subject) []Finding {
	assocs, _ := describedAssociations(s, subj)
	var out []Finding
	for _, a := range assocs {
		r := s.AWS.Roles[a.RoleARN]
		role, err := awsarn.ParseRoleARN(a.RoleARN)
		if err != nil || !r.Found {
			continue // PODID-ROLE-001 reports it
		}
		ctx, absent, summary := requestContext(s, subj, a)
		actions := []string{actionAssumeRole, actionTagSession}
		if a.DisableSessionTags {
			actions = actions[:1]
		}
		ask := trustAsk{role: role, fact: r, principalType: iampolicy.PrincipalService, principal: facts.PodIdentityServicePrincipal,
			actions: actions, context: ctx, absent: absent,
			fresh: statementJSON{Effect: "Allow", Principal: map[string]any{"Service": facts.PodIdentityServicePrincipal}, Action: []string{actionAssumeRole, actionTagSession}}}
		obj := roleRef(a.RoleARN)
		evs := []Evidence{ev("request", strings.Join(summary, ", "), "EKS Pod Identity's sts:AssumeRole for "+subj.Key())}
		if a.DisableSessionTags {
			evs = append(evs, ev("disableSessionTags", "true", "eks:DescribePodIdentityAssociation"))
		}
		v, err := judgeTrust(s, ask)
		switch {
		case err != nil:
			out = append(out, fail(obj, "The role's trust policy cannot be parsed: "+err.Error(), nil, "fix the trust policy JSON"))
		case v.allowed:
			out = append(out, pass(obj, "The trust policy lets "+facts.PodIdentityServicePrincipal+" assume the role for "+subj.Key()+" ("+strings.Join(actions, " and ")+")", evs...))
		case v.unknown != "":
			out = append(out, unknown(obj, "Could not tell whether the trust policy lets "+facts.PodIdentityServicePrincipal+" assume the role for "+subj.Key()+": "+v.unknown,
				"check those conditions by hand: aws iam get-role --role-name "+shellQuote(role.Name)+" --query Role.AssumeRolePolicyDocument", append(evs, ev("trust policy", prettyJSON(r.TrustPolicy), "iam:GetRole AssumeRolePolicyDocument, URL-decoded"))...))
		default:
			msg := "The trust policy does not let " + facts.PodIdentityServicePrincipal + " assume the role for " + subj.Key() + ": " + v.sentence +
				"; EKS Auth answers AccessDeniedException (\"EKS does not have permissions to assume the associated role\")"
			out = append(out, fail(obj, msg, append(evs, ev("trust policy", prettyJSON(r.TrustPolicy), "iam:GetRole AssumeRolePolicyDocument, URL-decoded")), trustRemediation(role, v)))
		}
	}
	return out
}

// checkPodIdentityTargetTrust evaluates the target role's trust policy for
// the association's role, with the association's external ID
// (docs/behaviour.md#pod-identity-trust-evaluation).
func checkPodIdentityTargetTrust(s *Input, subj *facts.Subject) []Finding {
	assocs, _ := describedAssociations(s, subj)
	var out []Finding
	for _, a := range assocs {
		if a.TargetRoleARN == "" {
			continue
		}
		t := s.AWS.Roles[a.TargetRoleARN]
		target, err := awsarn.ParseRoleARN(a.TargetRoleARN)
		source, serr := awsarn.ParseRoleARN(a.RoleARN)
		if err != nil || serr != nil || !t.Found {
			continue // PODID-ROLE-001 reports it
		}
		// The session tags are transitive: the second sts:AssumeRole
		// carries them too.
		ctx, firstAbsent, _ := requestContext(s, subj, a)
		delete(ctx, "aws:SourceAccount")
		delete(ctx, "aws:SourceArn")
		ctx["aws:PrincipalArn"], ctx["aws:PrincipalAccount"] = []string{a.RoleARN}, []string{source.Account}
		if a.ExternalID != "" {
			ctx["sts:ExternalId"] = []string{a.ExternalID}
		}
		absent := func(key string) (string, bool) {
			switch strings.ToLower(key) {
			case "sts:externalid":
				return "the association's externalId was not read", false
			case "aws:sourceaccount", "aws:sourcearn":
				return "kubectl-irsa does not know what EKS sends for it", false
			}
			return firstAbsent(key)
		}
		fresh := statementJSON{Effect: "Allow", Principal: map[string]any{"AWS": a.RoleARN}, Action: actionAssumeRole}
		if a.ExternalID != "" {
			fresh.Condition = map[string]map[string]any{"StringEquals": {"sts:ExternalId": a.ExternalID}}
		}
		ask := trustAsk{role: target, fact: t, principalType: iampolicy.PrincipalAWS, principal: a.RoleARN, actions: []string{actionAssumeRole},
			context: ctx, absent: absent, fresh: fresh}
		obj := roleRef(a.TargetRoleARN)
		evs := []Evidence{ev("principal", a.RoleARN, "eks:DescribePodIdentityAssociation roleArn"), ev("sts:ExternalId", a.ExternalID, "eks:DescribePodIdentityAssociation externalId")}
		v, err := judgeTrust(s, ask)
		switch {
		case err != nil:
			out = append(out, fail(obj, "The target role's trust policy cannot be parsed: "+err.Error(), nil, "fix the trust policy JSON"))
		case v.allowed:
			out = append(out, pass(obj, "The target role's trust policy lets the association's role assume it with the association's external ID", evs...))
		case v.unknown != "":
			out = append(out, unknown(obj, "Could not tell whether the target role trusts the association's role: "+v.unknown, "run again once the association can be described", evs...))
		default:
			out = append(out, fail(obj, "The target role's trust policy does not let "+a.RoleARN+" assume it with external ID "+a.ExternalID+": "+v.sentence+"; the pod gets no credentials",
				append(evs, ev("trust policy", prettyJSON(t.TrustPolicy), "iam:GetRole AssumeRolePolicyDocument, URL-decoded")), trustRemediation(target, v)))
		}
	}
	return out
}
