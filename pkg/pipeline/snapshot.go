package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/kube"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
)

// The snapshot document's type. A new field is added compatibly; anything
// else bumps the version, and Load refuses versions it does not know.
const (
	SnapshotAPIVersion = "irsa.kubectl.io/v1alpha1"
	SnapshotKind       = "Snapshot"
)

// Snapshot is every fact one diagnosis collected, as saved by
// --save-snapshot and judged again by --from-snapshot. It is made to be
// attached to a public bug report: no Secret or ConfigMap values (only
// keys were ever read), no token, no credential, no managedFields but the
// annotation times the checks use (docs/design.md#snapshots).
type Snapshot struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// CollectedAt is when the facts were read; replay judges with this clock.
	CollectedAt time.Time `json:"collectedAt"`
	// ToolVersion is the kubectl-irsa version that collected the facts.
	ToolVersion string `json:"toolVersion,omitempty"`
	// Redacted is true when account ids, names and namespaces were replaced.
	Redacted bool            `json:"redacted,omitempty"`
	Request  Request         `json:"request"`
	Facts    *facts.Snapshot `json:"facts"`
}

// NewSnapshot makes the document for a finished collection, with secrets
// and unused fields stripped. It copies: the run's facts are not changed.
func NewSnapshot(req Request, snap *facts.Snapshot, toolVersion string) (*Snapshot, error) {
	raw, err := json.Marshal(snap)
	if err != nil {
		return nil, fmt.Errorf("encoding the snapshot: %w", err)
	}
	var clean facts.Snapshot
	if err := json.Unmarshal(raw, &clean); err != nil {
		return nil, fmt.Errorf("encoding the snapshot: %w", err)
	}
	sanitize(&clean)
	return &Snapshot{APIVersion: SnapshotAPIVersion, Kind: SnapshotKind, CollectedAt: snap.Now.UTC(), ToolVersion: toolVersion,
		Request: req, Facts: &clean}, nil
}

// Write writes the document as indented JSON.
func (s *Snapshot) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(s)
}

// LoadSnapshot reads a document written by Write.
func LoadSnapshot(r io.Reader) (*Snapshot, error) {
	var s Snapshot
	dec := json.NewDecoder(r)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("not a kubectl-irsa snapshot: %w", err)
	}
	if s.Kind != SnapshotKind || s.APIVersion != SnapshotAPIVersion {
		return nil, fmt.Errorf("not a kubectl-irsa snapshot: apiVersion %q kind %q, want %s %s", s.APIVersion, s.Kind, SnapshotAPIVersion, SnapshotKind)
	}
	if s.Facts == nil {
		return nil, errors.New("the snapshot holds no facts")
	}
	s.Facts.Now = s.CollectedAt
	return &s, nil
}

// Sources answers every source from the document, so Diagnose runs exactly
// the steps of the live run with no cluster and no AWS.
func (s *Snapshot) Sources() Sources {
	return Sources{Kube: snapshotKube{s}, AWS: snapshotAWS{s}, TLS: snapshotTLS{s}, Prober: snapshotProber{s}}
}

type snapshotKube struct{ s *Snapshot }

func (k snapshotKube) Collect(context.Context, kube.Scope, Progress) (*facts.Snapshot, error) {
	// A copy without the later steps' facts, as the live collector returns.
	c := *k.s.Facts
	c.AWS, c.Probes, c.PodIdentityProbes, c.CloudTrail = nil, nil, nil, nil
	return &c, nil
}

func (k snapshotKube) DiscoverIssuer(context.Context) (string, error) {
	return "", errors.New("replaying a snapshot: no API server to ask")
}

type snapshotAWS struct{ s *Snapshot }

func (a snapshotAWS) Gather(context.Context, cloud.GatherInput, Progress) *facts.AWSFacts {
	if a.s.Facts.AWS == nil {
		return &facts.AWSFacts{Unavailable: "the snapshot was saved without AWS facts (--skip-aws)"}
	}
	c := *a.s.Facts.AWS
	c.TLS = nil
	return &c
}

// ListAssociations answers with the saved associations, as described: the
// replay's Gather returns the same ones.
func (a snapshotAWS) ListAssociations(context.Context, string, []string, Progress) *facts.PodIdentityFacts {
	if a.s.Facts.AWS == nil {
		return nil
	}
	return a.s.Facts.AWS.PodIdentity
}

// ReadTrail answers with the saved CloudTrail facts; a snapshot saved
// without --cloudtrail has none to give.
func (a snapshotAWS) ReadTrail(_ context.Context, in cloud.TrailInput, _ Progress) *facts.TrailFacts {
	if t := a.s.Facts.CloudTrail; t != nil {
		return t
	}
	return &facts.TrailFacts{Since: in.Since, Until: in.Until, MaxEvents: in.MaxEvents, Unavailable: "the snapshot was saved without --cloudtrail"}
}

type snapshotTLS struct{ s *Snapshot }

func (t snapshotTLS) Inspect(context.Context, string) (thumbprint.Report, error) {
	if t.s.Facts.AWS == nil || t.s.Facts.AWS.TLS == nil {
		return thumbprint.Report{}, errors.New("the snapshot holds no TLS chain")
	}
	tls := t.s.Facts.AWS.TLS
	if tls.Err != "" {
		return tls.Report, errors.New(tls.Err)
	}
	return tls.Report, nil
}

type snapshotProber struct{ s *Snapshot }

func (p snapshotProber) Probe(_ context.Context, in ProbeInput) *facts.ProbeFacts {
	return p.s.Facts.Probes[in.Namespace+"/"+in.ServiceAccount]
}

func (p snapshotProber) ProbePodIdentity(_ context.Context, in PodIdentityProbeInput) *facts.PodIdentityProbe {
	return p.s.Facts.PodIdentityProbes[in.Namespace+"/"+in.ServiceAccount]
}

// secretEnv are the AWS variables that hold credentials. Checks read the
// values of the other AWS_ variables (role, token file, region, profile, ...)
// and only the names of these; every non-AWS literal value is replaced too,
// so a credential or a password pasted into a manifest never reaches the file.
var secretEnv = map[string]bool{
	"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true,
	"AWS_SECURITY_TOKEN": true, "AWS_CONTAINER_AUTHORIZATION_TOKEN": true,
}

// keepsEnvValue reports whether a snapshot keeps a literal env value.
func keepsEnvValue(name string) bool {
	return strings.HasPrefix(name, "AWS_") && !secretEnv[name] || proxyExemptions[name]
}

// proxyExemptions are the proxy variables whose values a check reads
// (PODID-ENV-002: is the Pod Identity agent exempt?). They list hosts, never
// credentials; HTTP_PROXY and HTTPS_PROXY may embed a password and are
// replaced like any other value.
var proxyExemptions = map[string]bool{"NO_PROXY": true, "no_proxy": true}

// RedactedValue stands in for an env value the snapshot does not keep; the
// checks know it (facts.RedactedEnvValue) and say `unknown` rather than
// judge it.
const RedactedValue = facts.RedactedEnvValue

// sanitize strips the objects with the functions the live LIST used
// (kube.StripPod and the rest), so the file holds what the run judged, even
// for objects that were read with a GET; then it blanks the env values.
func sanitize(s *facts.Snapshot) {
	for _, subj := range s.Subjects {
		if subj.ServiceAccount != nil {
			kube.StripServiceAccount(subj.ServiceAccount)
		}
		for _, pf := range subj.Pods {
			kube.StripPod(pf.Pod)
			cleanEnv(pf.Pod.Spec.InitContainers)
			cleanEnv(pf.Pod.Spec.Containers)
		}
	}
	for _, ns := range s.Namespaces {
		kube.StripMeta(&ns.ObjectMeta)
	}
	for i := range s.Webhooks.Configs {
		kube.StripMeta(&s.Webhooks.Configs[i].ObjectMeta)
	}
}

func cleanEnv(cs []corev1.Container) {
	for i := range cs {
		for j := range cs[i].Env {
			e := &cs[i].Env[j]
			if e.Value != "" && !keepsEnvValue(e.Name) {
				e.Value = RedactedValue
			}
		}
	}
}
