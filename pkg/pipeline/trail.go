package pipeline

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// TrailOptions ask a run to read CloudTrail (diagnose --cloudtrail,
// kubectl irsa events); nil in Request means it does not.
type TrailOptions struct {
	// Since is how far back to look: (0, 90 days].
	Since time.Duration `json:"since"`
	// MaxEvents bounds the events each lookup reads.
	MaxEvents int `json:"maxEvents"`
}

// DefaultTrailMaxEvents is --cloudtrail-max-events' default: 40 pages a
// lookup, 20 seconds at CloudTrail's pace.
const DefaultTrailMaxEvents = 2000

// Validate rejects a window CloudTrail cannot answer.
func (o TrailOptions) Validate() error {
	if o.Since <= 0 {
		return fmt.Errorf("--since must be a positive duration such as 1h or 30m, got %s", o.Since)
	}
	if o.Since > cloud.TrailMaxWindow {
		return fmt.Errorf("--since %s is beyond CloudTrail's 90 days (2160h) of event history", o.Since)
	}
	if o.MaxEvents <= 0 {
		return fmt.Errorf("--cloudtrail-max-events must be at least 1, got %d", o.MaxEvents)
	}
	return nil
}

// TrailReader is the part of an AWSSource that reads CloudTrail.
type TrailReader interface {
	ReadTrail(ctx context.Context, in cloud.TrailInput, progress Progress) *facts.TrailFacts
}

// ReadTrail reads CloudTrail through the AWS configuration chain.
func (a LiveAWS) ReadTrail(ctx context.Context, in cloud.TrailInput, progress Progress) *facts.TrailFacts {
	c, err := a.collector(ctx, nil)
	if err != nil {
		return &facts.TrailFacts{Since: in.Since, Until: in.Until, MaxEvents: in.MaxEvents, Unavailable: err.Error()}
	}
	c.OnCall = progress.AWSCalled
	regions := strings.Join(cloud.TrailRegions(in.Lookups), ", ")
	in.OnPage = func(region, eventName string, pages, events, kept int) {
		progress.Phase(fmt.Sprintf("reading CloudTrail (%s): %s in %s, %d pages, %d events; %d of this cluster", regions, eventName, region, pages, events, kept))
	}
	return c.ReadTrail(ctx, in)
}

// readTrail plans the lookups the subjects need, reads them and keeps the
// events of the subjects' namespaces. It runs after the AWS facts (it needs
// the issuer, the cluster and the caller's account) and before the probes,
// so a run never reads its own probe.
func readTrail(ctx context.Context, req Request, src Sources, snap *facts.Snapshot, progress Progress) *facts.TrailFacts {
	until := snap.Now
	if until.IsZero() {
		until = time.Now()
	}
	until = until.UTC().Truncate(time.Second)
	out := &facts.TrailFacts{Since: until.Add(-req.CloudTrail.Since), Until: until, MaxEvents: req.CloudTrail.MaxEvents}
	reader, ok := src.AWS.(TrailReader)
	switch {
	case !ok:
		out.Unavailable = "this source cannot read CloudTrail"
		return out
	case snap.AWS == nil:
		out.Unavailable = "the AWS half was skipped (--skip-aws)"
		return out
	case snap.AWS.Unavailable != "":
		out.Unavailable = snap.AWS.Unavailable
		return out
	case snap.AWS.Caller.Account == "":
		out.Unavailable = "the credentials' account is unknown (sts:GetCallerIdentity failed), and CloudTrail is read in that account"
		return out
	}
	plan := PlanTrail(snap)
	if len(plan.Lookups) == 0 {
		out.Unavailable = "no subject uses IRSA or Pod Identity"
		return out
	}
	if req.AWS.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.AWS.Timeout)
		defer cancel()
	}
	in := cloud.TrailInput{Since: out.Since, Until: out.Until, MaxEvents: out.MaxEvents, Lookups: plan.Lookups,
		Keep: func(e facts.TrailEvent) bool { return plan.keeps(e, req.Scope.AllNamespaces, namespacesOf(snap)) }}
	t := reader.ReadTrail(ctx, in, progress)
	t.Account = snap.AWS.Caller.Account
	annotateTrail(t, snap.AWS.PodIdentity)
	return t
}

// TrailPlan is where a cluster's token exchanges are logged.
type TrailPlan struct {
	Lookups []cloud.TrailLookupSpec
	// HostPath is the cluster's issuer as a provider names it ("" unknown).
	HostPath string
	// Cluster is the EKS cluster's name for Pod Identity ("" none).
	Cluster string
}

// PlanTrail says where to look (docs/behaviour.md#cloudtrail): IRSA calls
// are logged by STS in the region of the endpoint the pod used, which is
// its configured region or, for the global endpoint of the aws partition,
// us-east-1; Pod Identity calls by EKS Auth in the cluster's region. The
// plan grows with the distinct regions, never with the subjects.
func PlanTrail(snap *facts.Snapshot) TrailPlan {
	var p TrailPlan
	aws := snap.AWS
	if aws == nil {
		return p
	}
	issuerRegion := ""
	if is, err := awsarn.ParseIssuer(aws.Issuer.URL); err == nil {
		p.HostPath, issuerRegion = is.HostPath, is.Region
	}
	clusterRegion := ""
	if aws.Cluster != nil {
		clusterRegion = aws.Cluster.Region
	}
	irsa, podIdentity := false, false
	partition := ""
	regions := map[string]bool{}
	for _, subj := range snap.Subjects {
		if role, ok := facts.IntendedRoleARN(subj); ok {
			irsa = true
			if r, err := awsarn.ParseRoleARN(role); err == nil && partition == "" {
				partition = r.Partition
			}
			podRegions(subj, regions)
		}
		if len(aws.PodIdentity.For(subj.Namespace, subj.ServiceAccountName)) > 0 {
			podIdentity = true
		}
	}
	if irsa {
		// A pod that names no region gets the webhook's default, the
		// cluster's region: the EKS issuer's host names it too.
		for _, r := range []string{clusterRegion, issuerRegion} {
			if r != "" {
				regions[r] = true
			}
		}
		if partition == "" || partition == "aws" {
			// The global endpoint, sts.amazonaws.com, logs in us-east-1;
			// the other partitions have none.
			regions[globalSTSRegion] = true
		}
		for _, r := range sortedKeys(regions) {
			p.Lookups = append(p.Lookups, cloud.TrailLookupSpec{Region: r, EventName: facts.EventAssumeRoleWithWebIdentity})
		}
	}
	if podIdentity && clusterRegion != "" {
		p.Cluster = aws.PodIdentity.Cluster
		if p.Cluster == "" && aws.Cluster != nil {
			p.Cluster = aws.Cluster.Name
		}
		// EKS Auth's record names no service account; EKS's AssumeRole
		// behind a success does, in its session tags.
		p.Lookups = append(p.Lookups, cloud.TrailLookupSpec{Region: clusterRegion, EventName: facts.EventAssumeRoleForPodIdentity},
			cloud.TrailLookupSpec{Region: clusterRegion, EventName: facts.EventAssumeRole})
	}
	return p
}

// podRegions adds the regions the subject's containers name.
func podRegions(subj *facts.Subject, regions map[string]bool) {
	for _, pf := range subj.Pods {
		for _, c := range facts.Containers(pf.Pod) {
			for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
				if v, _, _ := facts.EnvValue(c.Container, name); validRegion(v) {
					regions[v] = true
				}
			}
		}
	}
}

// keeps says whether an event is this cluster's and in the run's scope. A
// Pod Identity refusal names no service account: it is kept for the
// cluster, and the checks match it to the nodes of the subjects' pods.
func (p TrailPlan) keeps(e facts.TrailEvent, allNamespaces bool, namespaces map[string]bool) bool {
	switch e.Name {
	case facts.EventAssumeRoleWithWebIdentity:
		if p.HostPath == "" || cloud.ProviderHostPath(e.Provider) != p.HostPath {
			return false
		}
	case facts.EventAssumeRoleForPodIdentity, facts.EventAssumeRole:
		if p.Cluster == "" || e.Cluster != p.Cluster {
			return false
		}
		if e.Namespace == "" {
			// EKS Auth's own record: only its refusals say what the
			// AssumeRole events cannot.
			return e.Failed()
		}
	default:
		return false
	}
	return allNamespaces || namespaces[e.Namespace]
}

// globalSTSRegion is where the aws partition's global STS endpoint,
// sts.amazonaws.com, logs its calls (docs/behaviour.md#cloudtrail).
const globalSTSRegion = "us-east-1"

// regionName is the shape of a region name ("us-west-2", "us-gov-east-1").
var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

// validRegion accepts a region of a known partition; an env value such as
// "$(REGION)" or a typo is not looked up.
func validRegion(v string) bool {
	_, ok := awsarn.PartitionForRegion(v)
	return ok && regionName.MatchString(v)
}

func namespacesOf(snap *facts.Snapshot) map[string]bool {
	out := map[string]bool{}
	for _, s := range snap.Subjects {
		out[s.Namespace] = true
	}
	return out
}

// annotateTrail fills what the events leave out: the role of a Pod
// Identity call (its association's), and the explanation of each failure.
func annotateTrail(t *facts.TrailFacts, assoc *facts.PodIdentityFacts) {
	roles := map[string]string{}
	if assoc != nil {
		for _, a := range assoc.Associations {
			if a.RoleARN != "" {
				roles[a.ID] = a.RoleARN
			}
		}
	}
	tried := map[string]bool{}
	for i := range t.Events {
		e := &t.Events[i]
		if e.RoleARN == "" && e.AssociationID != "" {
			e.RoleARN = roles[e.AssociationID]
		}
		if !e.Failed() {
			continue
		}
		k := facts.ExplanationKey(e.ErrorCode, e.ErrorMessage)
		if tried[k] {
			continue
		}
		tried[k] = true
		if x := explanationOf(e.ErrorCode, e.ErrorMessage); x != nil {
			if t.Explanations == nil {
				t.Explanations = map[string]*facts.ProbeExplanation{}
			}
			t.Explanations[k] = x
		}
	}
}
