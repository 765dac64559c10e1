package diag

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/useragent"
)

// The CloudTrail checks (diagnose --cloudtrail) judge what AWS recorded of
// the subjects' token exchanges: what did fail, not what would
// (docs/behaviour.md#cloudtrail). They say nothing without --cloudtrail.
func init() {
	register(
		Check{ID: "CLOUDTRAIL-READ-001", Severity: SeverityWarning, Title: "CloudTrail could be read for the service account's calls (--cloudtrail)",
			LooksAt: "cloudtrail:LookupEvents per region and event name, in the account that owns the role", Run: checkTrailRead},
		Check{ID: "CLOUDTRAIL-FAIL-001", Severity: SeverityError, Title: "No recent token exchange of the service account failed (--cloudtrail)",
			LooksAt: "CloudTrail AssumeRoleWithWebIdentity and AssumeRoleForPodIdentity events: errorCode, errorMessage, time", Run: checkTrailFailures},
		Check{ID: "CLOUDTRAIL-STALE-001", Severity: SeverityWarning, Title: "Pods ask for the role the service account names now (--cloudtrail)",
			LooksAt: "requestParameters.roleArn of CloudTrail AssumeRoleWithWebIdentity events against the role-arn annotation", Run: checkTrailStaleRole},
		Check{ID: "CLOUDTRAIL-SDK-001", Severity: SeverityWarning, Title: "The pods' AWS SDK is at least the version that supports IRSA (--cloudtrail)",
			LooksAt: "userAgent of CloudTrail AssumeRoleWithWebIdentity events against the EKS user guide's minimum SDK versions", Run: checkTrailSDK},
		Check{ID: "CLOUDTRAIL-GLOBAL-001", Severity: SeverityWarning, Title: "The pods call a regional STS endpoint (--cloudtrail)",
			LooksAt: "tlsDetails.clientProvidedHostHeader and awsRegion of CloudTrail AssumeRoleWithWebIdentity events", Run: checkTrailGlobalEndpoint},
		Check{ID: "CLOUDTRAIL-QUIET-001", Severity: SeverityInfo, Title: "Running pods of the service account got credentials in the window (--cloudtrail)",
			LooksAt: "successful CloudTrail events of the service account while its pods run", Run: checkTrailQuiet},
	)
}

const (
	sourceLookupEvents = "cloudtrail:LookupEvents"
	irsaSDKDocs        = "https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts-minimum-sdk.html"
	stsEndpointDocs    = "https://docs.aws.amazon.com/eks/latest/userguide/configure-sts-endpoint.html"
	// ownUserAgent marks this tool's own calls (--probe): they say
	// nothing about the pods' SDK.
	ownUserAgent = "kubectl-irsa/"
)

// stsCodeChecks are the offline checks that explain each STS error code of
// AssumeRoleWithWebIdentity (docs/behaviour.md#sts-validation-order), used
// beside what pkg/explain matched on the whole message.
var stsCodeChecks = map[string][]string{
	"AccessDenied":          {"IRSA-TRUST-001", "IRSA-ROLE-001"},
	"InvalidIdentityToken":  {"IRSA-ISSUER-001", "IRSA-OIDC-001", "IRSA-OIDC-002", "IRSA-OIDC-003", "IRSA-TOKEN-001"},
	"IDPCommunicationError": {"IRSA-ISSUER-001", "IRSA-OIDC-003"},
}

// eksAuthCode is EKS Auth's error code for the one CloudTrail records:
// CloudTrail logs its AccessDeniedException as AccessDenied.
func eksAuthCode(code string) string {
	if code == "AccessDenied" {
		return "AccessDeniedException"
	}
	return code
}

// trailSubject is what the CloudTrail checks know of one subject.
type trailSubject struct {
	t *facts.TrailFacts
	// role is the IRSA role the service account names ("" none).
	role string
	// podIdentity is true when the service account has an association.
	podIdentity bool
	// irsa and podid are its events of each kind, oldest first; podid
	// includes the cluster's refusals that came from its pods' nodes.
	irsa, podid []facts.TrailEvent
	// nodeRefusals is how many of podid were matched by node only.
	nodeRefusals int
}

// trailMemo indexes a run's events once: the checks of every subject look
// them up by service account instead of scanning them all.
type trailMemo struct {
	byKey map[string][]facts.TrailEvent
	// refusals are the Pod Identity refusals that name no service account.
	refusals []facts.TrailEvent
	subjects map[*facts.Subject]trailSubject
}

func (s *Input) trailMemo() *trailMemo {
	if s.memo == nil {
		s.memo = newRunMemo()
	}
	if s.memo.trail == nil {
		m := &trailMemo{byKey: map[string][]facts.TrailEvent{}, subjects: map[*facts.Subject]trailSubject{}}
		for _, e := range s.CloudTrail.Events {
			if k := e.Key(); k != "" {
				m.byKey[k] = append(m.byKey[k], e)
			} else if e.Name == facts.EventAssumeRoleForPodIdentity && e.Failed() {
				m.refusals = append(m.refusals, e)
			}
		}
		s.memo.trail = m
	}
	return s.memo.trail
}

func trailFor(s *Input, subj *facts.Subject) (trailSubject, bool) {
	t := s.CloudTrail
	if t == nil {
		return trailSubject{}, false
	}
	m := s.trailMemo()
	if tr, ok := m.subjects[subj]; ok {
		return tr, tr.t != nil
	}
	tr := trailSubject{t: t}
	if r, ok := facts.IntendedRoleARN(subj); ok {
		tr.role = r
	}
	tr.podIdentity = len(associationsOf(s, subj)) > 0
	if tr.role == "" && !tr.podIdentity {
		m.subjects[subj] = trailSubject{}
		return trailSubject{}, false
	}
	for _, e := range m.byKey[subj.Key()] {
		if e.Name == facts.EventAssumeRoleWithWebIdentity {
			tr.irsa = append(tr.irsa, e)
		} else {
			tr.podid = append(tr.podid, e)
		}
	}
	if tr.podIdentity {
		nodes := map[string]bool{}
		for _, pf := range subj.Pods {
			if ip := pf.Pod.Status.HostIP; ip != "" {
				nodes[ip] = true
			}
		}
		for _, e := range m.refusals {
			// EKS Auth logs a refusal without its subject; the agent
			// calls from the node, so the node's address narrows it.
			if nodes[e.SourceIP] {
				tr.podid = append(tr.podid, e)
				tr.nodeRefusals++
			}
		}
		facts.SortTrailEvents(tr.podid)
	}
	m.subjects[subj] = tr
	return tr, true
}

// window is "the last 1h" for messages.
func (tr trailSubject) window() string {
	return "the last " + formatWindow(tr.t.Until.Sub(tr.t.Since))
}

// formatWindow prints a duration the way a user wrote it: 30m, 1h, 7d.
func formatWindow(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
	return d.String()
}

// lookupsFor are the passes a subject's events come from.
func (tr trailSubject) lookupsFor() []facts.TrailLookup {
	var out []facts.TrailLookup
	for _, l := range tr.t.Lookups {
		if tr.role != "" && l.EventName == facts.EventAssumeRoleWithWebIdentity || tr.podIdentity && (l.EventName == facts.EventAssumeRoleForPodIdentity || l.EventName == facts.EventAssumeRole) {
			out = append(out, l)
		}
	}
	return out
}

// readable reports whether every pass the subject needs was read: the
// other CloudTrail checks only judge complete facts, and
// CLOUDTRAIL-READ-001 says what is missing.
func (tr trailSubject) readable() bool {
	if tr.t.Unavailable != "" || tr.otherAccount() != "" {
		return false
	}
	ls := tr.lookupsFor()
	for _, l := range ls {
		if l.Err != nil {
			return false
		}
	}
	return len(ls) > 0
}

// otherAccount is the account of the IRSA role when it is not the one whose
// trail was read: CloudTrail logs the call in the role's account.
func (tr trailSubject) otherAccount() string {
	if tr.role == "" || tr.t.Account == "" {
		return ""
	}
	r, err := awsarn.ParseRoleARN(tr.role)
	if err != nil || r.Account == tr.t.Account {
		return ""
	}
	return r.Account
}

func checkTrailRead(s *Input, subj *facts.Subject) []Finding {
	tr, ok := trailFor(s, subj)
	if !ok {
		return nil
	}
	obj := subjectRef(subj)
	fix := "allow " + sourceLookupEvents + " to the credentials kubectl irsa runs with, then run again"
	if tr.t.Unavailable != "" {
		return []Finding{unknown(obj, "CloudTrail was not read: "+tr.t.Unavailable, fix)}
	}
	if acct := tr.otherAccount(); acct != "" {
		return []Finding{unknown(obj, "CloudTrail logs this role's calls in account "+acct+", and the credentials are for account "+tr.t.Account,
			"run again with credentials of account "+acct+" (--aws-profile), which owns "+tr.role,
			ev("role", tr.role, "eks.amazonaws.com/role-arn"), ev("credentials' account", tr.t.Account, "sts:GetCallerIdentity"))}
	}
	var evs []Evidence
	var failed []string
	truncated := ""
	for _, l := range tr.lookupsFor() {
		v := count(l.Pages, "page") + ", " + count(l.Events, "event")
		if l.Truncated {
			v += ", stopped at --cloudtrail-max-events back to " + ts(l.Oldest)
			truncated = "; the newest " + strconv.Itoa(tr.t.MaxEvents) + " events of a region were read, back to " + ts(l.Oldest)
		}
		if l.Err != nil {
			v += ", failed: " + l.Err.Message
			failed = append(failed, l.EventName+" in "+l.Region+": "+l.Err.Message)
		}
		evs = append(evs, ev(l.EventName+" "+l.Region, v, sourceLookupEvents))
	}
	if tr.t.Malformed > 0 {
		evs = append(evs, ev("unreadable events", strconv.Itoa(tr.t.Malformed)+" skipped (CloudTrailEvent not JSON or incomplete)", sourceLookupEvents))
	}
	if len(failed) > 0 {
		return []Finding{unknown(obj, "CloudTrail could not be read: "+strings.Join(failed, "; "), fix, evs...)}
	}
	if len(evs) == 0 {
		return []Finding{unknown(obj, "CloudTrail was not read for this service account's mechanism", fix)}
	}
	n := len(tr.irsa) + len(tr.podid)
	return []Finding{pass(obj, fmt.Sprintf("Read CloudTrail for %s: %s of this service account%s", tr.window(), count(n, "event"), truncated), evs...)}
}

// failureGroup is the failures with one error code and message.
type failureGroup struct {
	code, message string
	first, last   time.Time
	count         int
	roles         []string
}

func groupFailures(evs []facts.TrailEvent) []*failureGroup {
	var out []*failureGroup
	byKey := map[string]*failureGroup{}
	for _, e := range evs {
		if !e.Failed() {
			continue
		}
		k := facts.ExplanationKey(e.ErrorCode, e.ErrorMessage)
		g := byKey[k]
		if g == nil {
			g = &failureGroup{code: e.ErrorCode, message: e.ErrorMessage, first: e.Time}
			byKey[k] = g
			out = append(out, g)
		}
		g.count++
		g.last = e.Time
		if e.RoleARN != "" && !slices.Contains(g.roles, e.RoleARN) {
			g.roles = append(g.roles, e.RoleARN)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].count > out[j].count })
	return out
}

// currentEvents are the events that asked for the role the subject names
// now (all Pod Identity events: EKS Auth picks the role per call).
func (tr trailSubject) currentEvents() []facts.TrailEvent {
	var out []facts.TrailEvent
	for _, e := range tr.irsa {
		if e.RoleARN == tr.role || e.RoleARN == "" {
			out = append(out, e)
		}
	}
	out = append(out, tr.podid...)
	facts.SortTrailEvents(out)
	return out
}

func checkTrailFailures(s *Input, subj *facts.Subject) []Finding {
	tr, ok := trailFor(s, subj)
	if !ok || !tr.readable() {
		return nil
	}
	obj := subjectRef(subj)
	evs := tr.currentEvents()
	groups := groupFailures(evs)
	succeeded := len(evs)
	for _, g := range groups {
		succeeded -= g.count
	}
	if len(groups) == 0 {
		return []Finding{pass(obj, fmt.Sprintf("No token exchange failed in %s (%d succeeded)", tr.window(), succeeded))}
	}
	var out []Finding
	lastSuccess := time.Time{}
	for _, e := range evs {
		if !e.Failed() {
			lastSuccess = e.Time
		}
	}
	for _, g := range groups {
		out = append(out, tr.failureFinding(s, subj, obj, g, lastSuccess))
	}
	return out
}

func (tr trailSubject) failureFinding(s *Input, subj *facts.Subject, obj ObjectRef, g *failureGroup, lastSuccess time.Time) Finding {
	call := "token exchange"
	switch {
	case tr.role != "" && !tr.podIdentity:
		call = facts.EventAssumeRoleWithWebIdentity
	case tr.role == "" && tr.podIdentity:
		call = facts.EventAssumeRoleForPodIdentity
	}
	msg := fmt.Sprintf("%d %s calls failed in %s: %s: %s", g.count, call, tr.window(), g.code, g.message)
	if g.count == 1 {
		msg = fmt.Sprintf("1 %s call failed in %s: %s: %s", call, tr.window(), g.code, g.message)
	}
	evs := []Evidence{
		ev("error", g.code+": "+g.message, sourceLookupEvents),
		ev("count", strconv.Itoa(g.count), sourceLookupEvents),
		ev("first", ts(g.first), sourceLookupEvents),
		ev("last", ts(g.last), sourceLookupEvents),
	}
	if len(g.roles) > 0 {
		evs = append(evs, ev("role", strings.Join(g.roles, ", "), "requestParameters.roleArn"))
	}
	if tr.nodeRefusals > 0 && tr.role == "" {
		evs = append(evs, ev("matched by node", strconv.Itoa(tr.nodeRefusals)+" refusals name no service account; they came from nodes that run this service account's pods", "sourceIPAddress"))
	}
	fix := "kubectl irsa explain '" + g.code + ": " + g.message + "'"
	var explainedBy []string
	if x := tr.t.Explanations[facts.ExplanationKey(g.code, g.message)]; x != nil {
		evs = append(evs, ev("likely cause", x.Cause, "kubectl irsa explain ("+x.ID+")"))
		explainedBy = failingChecks(s, subj, x.CheckIDs)
		if len(x.CheckIDs) > 0 {
			fix = "see " + strings.Join(x.CheckIDs, ", ") + "; " + fix
		}
	}
	if ids, ok := eksAuthChecks[eksAuthCode(g.code)]; ok && tr.podIdentity {
		explainedBy = appendNew(explainedBy, failingChecks(s, subj, ids)...)
	}
	if ids, ok := stsCodeChecks[g.code]; ok && tr.role != "" {
		// CloudTrail often keeps less than STS said ("An unknown error
		// occurred" for AccessDenied): the code alone names the checks.
		explainedBy = appendNew(explainedBy, failingChecks(s, subj, ids)...)
	}
	if len(explainedBy) > 0 {
		msg += "; offline, " + strings.Join(explainedBy, ", ") + " explains it"
	} else {
		msg += "; no offline check explains it (the configuration may have changed since, or the cause is outside what kubectl irsa reads)"
	}
	f := fail(obj, msg, evs, fix)
	if lastSuccess.After(g.last) {
		// The exchange works again: history, not the present.
		f.Severity = SeverityWarning
		f.Message += "; calls have succeeded since, the last at " + ts(lastSuccess)
	}
	return f
}

// count is "1 call", "2 calls".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func appendNew(xs []string, ys ...string) []string {
	for _, y := range ys {
		if !slices.Contains(xs, y) {
			xs = append(xs, y)
		}
	}
	return xs
}

func checkTrailStaleRole(s *Input, subj *facts.Subject) []Finding {
	tr, ok := trailFor(s, subj)
	if !ok || tr.role == "" || !tr.readable() {
		return nil
	}
	obj := subjectRef(subj)
	type stale struct {
		role        string
		count       int
		first, last time.Time
	}
	var olds []*stale
	byRole := map[string]*stale{}
	for _, e := range tr.irsa {
		if e.RoleARN == "" || e.RoleARN == tr.role {
			continue
		}
		st := byRole[e.RoleARN]
		if st == nil {
			st = &stale{role: e.RoleARN, first: e.Time}
			byRole[e.RoleARN] = st
			olds = append(olds, st)
		}
		st.count++
		st.last = e.Time
	}
	if len(olds) == 0 {
		return []Finding{pass(obj, "Every call in "+tr.window()+" asked for the annotated role "+tr.role)}
	}
	var out []Finding
	written, _, known := facts.AnnotationWrittenAt(subj.ServiceAccount, facts.AnnotationPrefixOf(subj)+"/role-arn")
	for _, st := range olds {
		evs := []Evidence{
			ev("role asked for", st.role, "requestParameters.roleArn"),
			ev("calls", strconv.Itoa(st.count), sourceLookupEvents),
			ev("first", ts(st.first), sourceLookupEvents),
			ev("last", ts(st.last), sourceLookupEvents),
			ev("annotated role", tr.role, "eks.amazonaws.com/role-arn"),
		}
		if known {
			evs = append(evs, ev("annotation written", ts(written), "metadata.managedFields"))
		}
		pods, restarts := podsWithRole(subj, st.role)
		msg := fmt.Sprintf("Pods still ask for role %s, not the annotated %s: %s since %s, the last at %s", st.role, tr.role, count(st.count, "call"), ts(st.first), ts(st.last))
		if len(pods) > 0 {
			msg += "; the webhook set AWS_ROLE_ARN when " + strings.Join(pods, ", ") + " were created, and pods never re-read the annotation"
			out = append(out, fail(obj, msg, evs, strings.Join(restarts, "; ")))
			continue
		}
		f := fail(obj, msg+"; no running pod in scope has that role now (the callers are gone, or run outside the pods read)", evs,
			"find the callers: kubectl get pods -A -o json | grep -l "+shellQuote(st.role)+"; restart them through their owner")
		f.Severity = SeverityInfo
		if known && st.last.Before(written) {
			f.Message = fmt.Sprintf("Before the annotation changed at %s, pods asked for role %s (%s, the last at %s); none since", ts(written), st.role, count(st.count, "call"), ts(st.last))
			f.Status = StatusPass
		}
		out = append(out, f)
	}
	return out
}

// podsWithRole lists the pods whose containers were given role by the
// webhook, with the command that recreates each through its owner.
func podsWithRole(subj *facts.Subject, role string) (pods, restarts []string) {
	for _, pf := range subj.Pods {
		for _, c := range facts.Containers(pf.Pod) {
			if v, _, _ := facts.EnvValue(c.Container, "AWS_ROLE_ARN"); v == role {
				pods = append(pods, "pod/"+pf.Pod.Name)
				restarts = appendNew(restarts, RestartCommand(pf))
				break
			}
		}
	}
	return pods, restarts
}

// sdkUse is the calls of one SDK at one version.
type sdkUse struct {
	sdk   useragent.SDK
	count int
	last  time.Time
}

func checkTrailSDK(s *Input, subj *facts.Subject) []Finding {
	tr, ok := trailFor(s, subj)
	if !ok || tr.role == "" || !tr.readable() {
		return nil
	}
	obj := subjectRef(subj)
	var uses []*sdkUse
	byKey := map[string]*sdkUse{}
	unknownAgents := map[string]int{}
	for _, e := range tr.irsa {
		if e.UserAgent == "" || strings.Contains(e.UserAgent, ownUserAgent) {
			continue
		}
		sdk, ok := useragent.Parse(e.UserAgent)
		if !ok {
			unknownAgents[e.UserAgent]++
			continue
		}
		k := sdk.ID + " " + sdk.Version
		u := byKey[k]
		if u == nil {
			u = &sdkUse{sdk: sdk}
			byKey[k] = u
			uses = append(uses, u)
		}
		u.count++
		u.last = e.Time
	}
	sort.SliceStable(uses, func(i, j int) bool { return uses[i].sdk.ID+uses[i].sdk.Version < uses[j].sdk.ID+uses[j].sdk.Version })
	var out []Finding
	var fine []string
	for _, u := range uses {
		atLeast, minimum, known := useragent.AtLeast(u.sdk, useragent.IRSA)
		name := u.sdk.Name + " " + u.sdk.Version
		evs := []Evidence{ev("sdk", name, "userAgent"), ev("calls", strconv.Itoa(u.count), sourceLookupEvents), ev("last", ts(u.last), sourceLookupEvents)}
		switch {
		case !known:
			f := fail(obj, fmt.Sprintf("%s made %s; kubectl irsa knows no IRSA minimum for it, so it is not judged", name, count(u.count, "call")), evs, "see "+irsaSDKDocs)
			f.Severity = SeverityInfo
			out = append(out, f)
		case !atLeast:
			evs = append(evs, ev("minimum", minimum, irsaSDKDocs))
			out = append(out, fail(obj, fmt.Sprintf("%s made %s; IRSA needs at least %s", name, count(u.count, "call"), minimum), evs,
				"upgrade "+u.sdk.Name+" to "+minimum+" or later in the image of the pods of this service account; see "+irsaSDKDocs))
		default:
			fine = append(fine, name+" ("+strconv.Itoa(u.count)+" calls)")
		}
	}
	agents := make([]string, 0, len(unknownAgents))
	for ua := range unknownAgents {
		agents = append(agents, ua)
	}
	sort.Strings(agents)
	for _, ua := range agents {
		f := fail(obj, fmt.Sprintf("%s came from a user agent kubectl irsa does not recognise, so their SDK is not judged: %q", count(unknownAgents[ua], "call"), truncate(ua, 120)),
			[]Evidence{ev("userAgent", ua, sourceLookupEvents)}, "check the SDK and version in the image against "+irsaSDKDocs)
		f.Severity = SeverityInfo
		out = append(out, f)
	}
	if len(out) == 0 && len(fine) > 0 {
		out = append(out, pass(obj, "The calls come from SDKs that support IRSA: "+strings.Join(fine, ", ")))
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// globalSTSHost is the aws partition's global STS endpoint; the other
// partitions have none (docs/behaviour.md#cloudtrail).
const globalSTSHost = "sts.amazonaws.com"

func checkTrailGlobalEndpoint(s *Input, subj *facts.Subject) []Finding {
	tr, ok := trailFor(s, subj)
	if !ok || tr.role == "" || !tr.readable() {
		return nil
	}
	obj := subjectRef(subj)
	calls := 0
	var first, last time.Time
	for _, e := range tr.irsa {
		if e.Host != globalSTSHost || strings.Contains(e.UserAgent, ownUserAgent) {
			continue
		}
		if calls == 0 {
			first = e.Time
		}
		calls++
		last = e.Time
	}
	if calls == 0 {
		if len(tr.irsa) == 0 {
			return nil
		}
		return []Finding{pass(obj, "The calls in "+tr.window()+" went to regional STS endpoints")}
	}
	evs := []Evidence{ev("endpoint", globalSTSHost, "tlsDetails.clientProvidedHostHeader"), ev("calls", strconv.Itoa(calls), sourceLookupEvents),
		ev("first", ts(first), sourceLookupEvents), ev("last", ts(last), sourceLookupEvents)}
	fix := "annotate the service account and restart its pods: kubectl annotate serviceaccount " + subj.ServiceAccountName + " -n " + subj.Namespace +
		" eks.amazonaws.com/sts-regional-endpoints=true --overwrite (or set AWS_STS_REGIONAL_ENDPOINTS=regional and AWS_REGION in the pods); see " + stsEndpointDocs
	msg := fmt.Sprintf("%s went to the global STS endpoint %s (logged in us-east-1), not the regional one: they depend on us-east-1 and fail where only a regional STS VPC endpoint is reachable", count(calls, "call"), globalSTSHost)
	f := fail(obj, msg, evs, fix)
	if r, err := awsarn.ParseRoleARN(tr.role); err == nil && r.Partition != "aws" {
		f.Severity = SeverityError
		f.Message = fmt.Sprintf("%s went to the global STS endpoint %s, which partition %s does not have: they cannot succeed", count(calls, "call"), globalSTSHost, r.Partition)
	}
	return []Finding{f}
}

func checkTrailQuiet(s *Input, subj *facts.Subject) []Finding {
	tr, ok := trailFor(s, subj)
	if !ok || !tr.readable() {
		return nil
	}
	obj := subjectRef(subj)
	var running []facts.PodFacts
	for _, pf := range subj.Pods {
		if pf.Pod.Status.Phase == "Running" {
			running = append(running, pf)
		}
	}
	if len(running) == 0 {
		return nil
	}
	evs := tr.currentEvents()
	for i := len(evs) - 1; i >= 0; i-- {
		if e := evs[i]; !e.Failed() && !strings.Contains(e.UserAgent, ownUserAgent) {
			return []Finding{pass(obj, "The service account's pods got credentials in "+tr.window()+", the last at "+ts(e.Time))}
		}
	}
	msg := fmt.Sprintf("%s of this service account got no credentials from it in %s (%s)", count(len(running), "running pod"), tr.window(), podNames(running))
	why := "they may not use it at all: an SDK that never reads the token falls back to the node's role, or the application has credentials of its own; SDKs also cache credentials for up to an hour, so widen --since if the window is short"
	if r, err := awsarn.ParseRoleARN(tr.role); err == nil && r.Partition != "aws" {
		why += "; in " + r.Partition + " a pod without AWS_REGION or AWS_DEFAULT_REGION calls the aws partition's global endpoint, whose answers this account's CloudTrail never sees"
	}
	for _, l := range tr.lookupsFor() {
		if l.Truncated {
			// The newest events of a busy account may all be other callers'.
			why += "; the " + l.EventName + " lookup in " + l.Region + " stopped at --cloudtrail-max-events, back to " + ts(l.Oldest) + ", so older calls were not read"
		}
	}
	f := fail(obj, msg+": "+why, []Evidence{ev("running pods", strconv.Itoa(len(running)), "pod.status.phase")},
		"check which credentials the containers get (CREDS-001 with --show-passed) and the SDK in the image")
	return []Finding{f}
}
