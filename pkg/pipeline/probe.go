package pipeline

import (
	"context"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/explain"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/probe"
)

// ProbeInput is one subject's probe: what to mint and where to present it.
type ProbeInput struct {
	probe.Input
	// Region is the STS region the pod would call; "" when nothing names one.
	Region string
}

// runProbes does for each IRSA subject what its pods would do: mint a token,
// verify it like STS and present it to STS. Only claims and verdicts are kept.
func runProbes(ctx context.Context, snap *facts.Snapshot, prober Prober) map[string]*facts.ProbeFacts {
	out := map[string]*facts.ProbeFacts{}
	for _, subj := range snap.Subjects {
		in, ok := probeInput(snap, subj)
		if !ok {
			continue
		}
		if f := prober.Probe(ctx, in); f != nil {
			out[subj.Key()] = f
		}
	}
	return out
}

// probeInput binds the token to the subject's first pod, as the kubelet does,
// and picks the region that pod's SDK would call: its AWS_REGION, else the
// issuer's region.
func probeInput(snap *facts.Snapshot, subj *facts.Subject) (ProbeInput, bool) {
	roleARN, ok := facts.IntendedRoleARN(subj)
	if !ok || subj.ServiceAccount == nil {
		return ProbeInput{}, false
	}
	role, err := awsarn.ParseRoleARN(roleARN)
	if err != nil {
		return ProbeInput{}, false
	}
	aud, _ := facts.TokenAudience(subj)
	in := ProbeInput{Input: probe.Input{Namespace: subj.Namespace, ServiceAccount: subj.ServiceAccountName, RoleARN: roleARN, Audience: aud}}
	if len(subj.Pods) > 0 {
		p := subj.Pods[0].Pod
		in.Pod = &probe.BoundPod{Name: p.Name, UID: string(p.UID)}
	}
	if snap.AWS != nil && snap.AWS.Issuer.URL != "" {
		if arn, ok := facts.ExpectedProviderARN(role, snap.AWS.Issuer.URL); ok {
			if p := snap.AWS.Providers[arn]; p.Found {
				in.ProviderURL, in.ClientIDs = p.URL, p.ClientIDs
			}
		}
		if is, err := awsarn.ParseIssuer(snap.AWS.Issuer.URL); err == nil {
			in.Region = is.Region
		}
	}
	if len(subj.Pods) > 0 {
		for _, c := range facts.Containers(subj.Pods[0].Pod) {
			if v, set, _ := facts.EnvValue(c.Container, facts.EnvRegion); set && v != "" {
				in.Region = v // the pod calls its own regional endpoint
			}
		}
	}
	return in, true
}

// ProbeFacts turns a probe's result into facts: claims, verification steps
// and STS's verdict, with the STS error mapped to the checks that explain it.
// The token itself never leaves probe.Run.
func ProbeFacts(aud string, r probe.Result) *facts.ProbeFacts {
	f := &facts.ProbeFacts{Audience: aud}
	if r.TokenErr != nil {
		f.TokenErr = &facts.ReadError{Verb: "create", Resource: "serviceaccounts/token", Forbidden: apierrors.IsForbidden(r.TokenErr), Message: oneLine(r.TokenErr)}
		return f
	}
	c := r.Verification.Claims
	f.Claims = facts.ProbeClaims{Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience, Expiry: c.Expiry}
	for _, s := range r.Verification.Steps {
		f.Steps = append(f.Steps, facts.ProbeStep{Name: s.Name, OK: s.OK, Detail: s.Detail})
	}
	f.AssumedRoleARN, f.STSCode, f.STSMessage, f.STSErr = r.STS.AssumedRoleARN, r.STS.Code, r.STS.Message, r.STS.Err
	if f.AssumedRoleARN == "" && f.STSErr == "" && f.STSCode == "" {
		f.STSErr = "no STS client (no AWS region: pass --region)"
	}
	if f.STSCode != "" {
		f.Explanation = explanationOf(f.STSCode, f.STSMessage)
	}
	return f
}

// explanationOf maps an AWS error to its likely cause and to every cause's
// checks, most likely first: the probe finding names whichever of them fails
// offline. nil when pkg/explain does not know the error.
func explanationOf(code, message string) *facts.ProbeExplanation {
	e, ok := explain.Explain(code + ": " + message)
	if !ok || len(e.Causes) == 0 {
		return nil
	}
	var ids []string
	for _, c := range e.Causes {
		for _, id := range c.CheckIDs {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return &facts.ProbeExplanation{ID: e.ID, Cause: e.Causes[0].Summary, CheckIDs: ids}
}
