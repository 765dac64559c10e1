// Package pipeline runs a diagnosis: resolve and collect the Kubernetes facts,
// collect the AWS and network facts, then judge. Every command calls it, with
// no cobra in sight; each step reads the world through a small Source, so the
// same code judges a live cluster or a saved snapshot (snapshot.go). How the
// pieces fit: docs/design.md.
package pipeline

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/kube"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
)

// Request is what one diagnosis is asked to do.
type Request struct {
	Scope kube.Scope `json:"scope"`
	AWS   AWSOptions `json:"aws"`
	// Probe mints a token per subject and presents it to STS (--probe).
	Probe bool `json:"probe,omitempty"`
	// CloudTrail reads the subjects' recent token exchanges (--cloudtrail);
	// nil means it does not.
	CloudTrail *TrailOptions `json:"cloudTrail,omitempty"`
	// Hint is what the kubeconfig context says about its EKS cluster.
	Hint kube.ClusterHint `json:"-"`
	// DropPassed keeps, of the passed findings, only the notices and the
	// number of the others (Result.Passed), for a caller that shows no
	// other pass (diagnose without --show-passed): the verdicts then take
	// memory in proportion to what is shown, not to the pods (judge.go).
	DropPassed bool `json:"-"`
}

// AWSOptions are the AWS half's settings (diagnose's AWS flags).
type AWSOptions struct {
	Skip        bool          `json:"skip,omitempty"`
	Region      string        `json:"-"`
	Profile     string        `json:"-"`
	Cluster     string        `json:"-"`
	Issuer      string        `json:"-"`
	Concurrency int           `json:"-"`
	Timeout     time.Duration `json:"-"`
}

// KubeSource answers the Kubernetes side.
type KubeSource interface {
	// Collect resolves the scope to subjects and reads everything the checks
	// need about them. An error means the diagnosis cannot run at all.
	Collect(ctx context.Context, scope kube.Scope, progress Progress) (*facts.Snapshot, error)
	// DiscoverIssuer asks the API server for its service-account issuer.
	DiscoverIssuer(ctx context.Context) (string, error)
}

// AWSSource answers the AWS side. It never fails: a failed call is a fact.
type AWSSource interface {
	Gather(ctx context.Context, in cloud.GatherInput, progress Progress) *facts.AWSFacts
}

// AssociationLister is the part of an AWSSource that lists the cluster's
// EKS Pod Identity associations (cluster is "" when no EKS cluster is known;
// a live source then lists nothing). It runs before the Kubernetes side is
// collected, because an associated service account is a subject even
// without an annotation. It never fails: nil means nothing was listed (no
// AWS configuration), and a failed call is kept in the facts.
type AssociationLister interface {
	ListAssociations(ctx context.Context, cluster string, namespaces []string, progress Progress) *facts.PodIdentityFacts
}

// TLSInspector reads the TLS chains an issuer serves.
type TLSInspector interface {
	Inspect(ctx context.Context, issuer string) (thumbprint.Report, error)
}

// Prober does what a subject's pods would do with their token (--probe).
type Prober interface {
	Probe(ctx context.Context, in ProbeInput) *facts.ProbeFacts
}

// Sources are where one run reads the world from.
type Sources struct {
	Kube   KubeSource
	AWS    AWSSource
	TLS    TLSInspector
	Prober Prober
	// Progress, when set, is told what the run is doing.
	Progress Progress
}

// Progress is told what a run is doing, for a status line.
type Progress interface {
	Listed(resource, namespace string, n int)
	AWSStarted(roles int)
	AWSCalled(op string)
	RoleDone(arn string)
	Phase(text string)
}

type noProgress struct{}

func (noProgress) Listed(string, string, int) {}
func (noProgress) AWSStarted(int)             {}
func (noProgress) AWSCalled(string)           {}
func (noProgress) RoleDone(string)            {}
func (noProgress) Phase(string)               {}

// Result is a finished diagnosis: the facts it judged and the verdicts.
type Result struct {
	Snapshot  *facts.Snapshot
	Diagnoses []diag.Diagnosis
	// Passed is how many passed findings Request.DropPassed left out.
	Passed int
}

// Diagnose runs the pipeline. The order never goes back: Kubernetes facts,
// then AWS facts (skipped with no role to look up), the issuer's TLS chains
// (only once a provider was found), CloudTrail when asked, the probes, and
// the judge. It fails only
// when the Kubernetes side cannot be read at all; every other failure is a
// fact the checks turn into an `unknown` finding.
func Diagnose(ctx context.Context, req Request, src Sources) (Result, error) {
	progress := src.Progress
	if progress == nil {
		progress = noProgress{}
	}
	associations := listAssociations(ctx, req, src.AWS, progress)
	scope := req.Scope
	scope.Associated = associations.Keys()
	snap, err := src.Kube.Collect(ctx, scope, progress)
	if err != nil {
		return Result{}, err
	}
	res := Result{Snapshot: snap}
	if len(snap.Subjects) == 0 {
		return res, nil
	}
	if !req.AWS.Skip && src.AWS != nil {
		snap.AWS = collectAWS(ctx, req, src, snap, associations, progress)
		if req.CloudTrail != nil {
			snap.CloudTrail = readTrail(ctx, req, src, snap, progress)
		}
	}
	if req.Probe && src.Prober != nil {
		progress.Phase(fmt.Sprintf("probing %d service accounts with sts:AssumeRoleWithWebIdentity", len(snap.Subjects)))
		snap.Probes = runProbes(ctx, snap, src.Prober)
		if pi, ok := src.Prober.(PodIdentityProber); ok {
			snap.PodIdentityProbes = runPodIdentityProbes(ctx, req, snap, pi)
		}
	}
	progress.Phase(fmt.Sprintf("judging %d service accounts", len(snap.Subjects)))
	res.Diagnoses, res.Passed = judge(snap, req.DropPassed)
	return res, nil
}

// clusterName is the EKS cluster the run is about: --cluster, else what the
// kubeconfig context says.
func clusterName(req Request) (name, source string) {
	if req.AWS.Cluster != "" {
		return req.AWS.Cluster, "--cluster"
	}
	return req.Hint.Name, req.Hint.Source
}

// listAssociations lists the Pod Identity associations of the namespaces in
// scope (of the cluster with -A), within the AWS time limit. Without an EKS
// cluster name there are none to list: a self-managed cluster has no
// associations, which is no error.
func listAssociations(ctx context.Context, req Request, source any, progress Progress) *facts.PodIdentityFacts {
	lister, ok := source.(AssociationLister)
	if req.AWS.Skip || !ok {
		return nil
	}
	cluster, _ := clusterName(req)
	if req.AWS.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.AWS.Timeout)
		defer cancel()
	}
	var namespaces []string
	if !req.Scope.AllNamespaces {
		namespaces = []string{req.Scope.Namespace}
	}
	return lister.ListAssociations(ctx, cluster, namespaces, progress)
}

// collectAWS asks for the facts of every distinct role, within the AWS time
// limit, then reads the issuer's chains when a provider exists to judge them
// against.
func collectAWS(ctx context.Context, req Request, src Sources, snap *facts.Snapshot, associations *facts.PodIdentityFacts, progress Progress) *facts.AWSFacts {
	roles := facts.RoleARNs(snap.Subjects)
	inScope := map[string]bool{}
	associated := false
	for _, s := range snap.Subjects {
		inScope[s.Key()] = true
		associated = associated || len(associations.For(s.Namespace, s.ServiceAccountName)) > 0
	}
	if len(roles) == 0 && !associated {
		return &facts.AWSFacts{PodIdentity: associations}
	}
	if req.AWS.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.AWS.Timeout)
		defer cancel()
	}
	in := cloud.GatherInput{Issuer: req.AWS.Issuer, RoleARNs: roles, PodIdentity: associations, InScope: inScope}
	in.ClusterName, in.ClusterSource = clusterName(req)
	if src.Kube != nil {
		in.DiscoverIssuer = src.Kube.DiscoverIssuer
	}
	aws := src.AWS.Gather(ctx, in, progress)
	aws.ClusterAccount = req.Hint.Account
	if aws.Cluster != nil {
		if a, ok := awsarn.ParseEKSClusterARN(aws.Cluster.ARN); ok {
			aws.ClusterAccount = a.Account
		}
	}
	if src.TLS != nil {
		aws.TLS = readChains(ctx, src.TLS, aws)
	}
	return aws
}

// readChains reads the issuer's TLS chains once, when some provider was
// found; diag judges them against each provider.
func readChains(ctx context.Context, tls TLSInspector, aws *facts.AWSFacts) *facts.TLSFacts {
	if aws.Issuer.URL == "" {
		return nil
	}
	found := false
	for _, p := range aws.Providers {
		found = found || p.Found
	}
	if !found {
		return nil
	}
	report, err := tls.Inspect(ctx, aws.Issuer.URL)
	t := &facts.TLSFacts{Report: report}
	if err != nil {
		t.Err = oneLine(err)
	}
	return t
}

// oneLine keeps errors on one line in findings.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
