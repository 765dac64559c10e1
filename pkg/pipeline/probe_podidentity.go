package pipeline

import (
	"context"
	"maps"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/probe"
)

// PodIdentityProber is the part of a Prober that probes Pod Identity: what
// the eks-pod-identity-agent does for a pod (--probe).
type PodIdentityProber interface {
	ProbePodIdentity(ctx context.Context, in PodIdentityProbeInput) *facts.PodIdentityProbe
}

// PodIdentityProbeInput is one subject's Pod Identity probe.
type PodIdentityProbeInput struct {
	probe.PodIdentityInput
	// Region is the cluster's region, where EKS Auth answers.
	Region string
}

// runPodIdentityProbes probes every subject EKS has a described association
// for, once each.
func runPodIdentityProbes(ctx context.Context, req Request, snap *facts.Snapshot, prober PodIdentityProber) map[string]*facts.PodIdentityProbe {
	if snap.AWS == nil || snap.AWS.PodIdentity == nil {
		return nil
	}
	cluster := snap.AWS.PodIdentity.Cluster
	region := req.AWS.Region
	if c := snap.AWS.Cluster; c != nil && c.Region != "" {
		region = c.Region
	} else if region == "" {
		region = req.Hint.Region
	}
	out := map[string]*facts.PodIdentityProbe{}
	for _, subj := range snap.Subjects {
		var assoc *facts.PodIdentityAssociation
		for _, a := range snap.AWS.PodIdentity.For(subj.Namespace, subj.ServiceAccountName) {
			if a.Described {
				assoc = &a
			}
		}
		if assoc == nil || subj.ServiceAccount == nil {
			continue
		}
		in := PodIdentityProbeInput{Region: region, PodIdentityInput: probe.PodIdentityInput{Cluster: cluster, Namespace: subj.Namespace, ServiceAccount: subj.ServiceAccountName}}
		if len(subj.Pods) > 0 {
			p := subj.Pods[0].Pod
			in.Pod = &probe.BoundPod{Name: p.Name, UID: string(p.UID)}
		}
		if f := prober.ProbePodIdentity(ctx, in); f != nil {
			if f.AssumedRoleARN != "" && f.SessionTags == nil && !assoc.DisableSessionTags {
				f.SessionTags = sessionTags(snap.AWS.Cluster, cluster, in)
			}
			out[subj.Key()] = f
		}
	}
	return out
}

// PodIdentityProbeFacts turns a Pod Identity probe's result into facts, with
// EKS Auth's error mapped to the checks that explain it.
func PodIdentityProbeFacts(r probe.PodIdentityResult) *facts.PodIdentityProbe {
	f := &facts.PodIdentityProbe{}
	if r.TokenErr != nil {
		f.TokenErr = &facts.ReadError{Verb: "create", Resource: "serviceaccounts/token", Forbidden: apierrors.IsForbidden(r.TokenErr), Message: oneLine(r.TokenErr)}
		return f
	}
	c := r.Claims
	f.Claims = facts.ProbeClaims{Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience, Expiry: c.Expiry}
	f.AssumedRoleARN, f.Code, f.Message, f.Err = r.Answer.AssumedRoleARN, r.Code, r.Message, r.Err
	if len(r.Answer.SessionTags) > 0 {
		f.SessionTags = maps.Clone(r.Answer.SessionTags)
	}
	if f.Code != "" {
		f.Explanation = explanationOf(f.Code, f.Message)
	}
	return f
}

// sessionTags are the tags EKS puts on a Pod Identity session
// (docs/behaviour.md#pod-identity-trust-policy). EKS Auth's answer does not
// carry them, so they are derived from the cluster, the association's
// subject and the pod the token was bound to.
func sessionTags(c *facts.Cluster, cluster string, in PodIdentityProbeInput) map[string]string {
	tags := map[string]string{"eks-cluster-name": cluster, "kubernetes-namespace": in.Namespace, "kubernetes-service-account": in.ServiceAccount}
	if c != nil && c.ARN != "" {
		tags["eks-cluster-arn"] = c.ARN
	}
	if in.Pod != nil {
		tags["kubernetes-pod-name"], tags["kubernetes-pod-uid"] = in.Pod.Name, in.Pod.UID
	}
	return tags
}

// The optional parts of the sources are found by type assertion; these make
// a lost method a build failure instead of a silently skipped step.
var (
	_ PodIdentityProber = LiveProber{}
	_ PodIdentityProber = snapshotProber{}
	_ AssociationLister = LiveAWS{}
	_ AssociationLister = snapshotAWS{}
)
