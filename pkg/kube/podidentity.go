package kube

import (
	"context"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// discoverPodIdentity adds the service accounts EKS has a Pod Identity
// association for (whether or not they exist: an association may name one
// that is yet to be created) and those used by pods that carry
// AWS_CONTAINER_CREDENTIALS_FULL_URI, with the pods that use them
// (docs/behaviour.md#pod-identity-flow).
func (b *subjectBuilder) discoverPodIdentity() {
	for _, key := range b.associated {
		ns, sa, ok := strings.Cut(key, "/")
		if !ok || !b.inListedNamespace(ns) {
			continue
		}
		b.subject(ns, sa)
		for _, p := range b.ns.podsBySA[key] {
			b.addPod(p)
		}
	}
	for i := range b.ns.pods {
		p := &b.ns.pods[i]
		if podClaimsContainerCredentials(p) {
			for _, q := range b.ns.podsBySA[p.Namespace+"/"+serviceAccountOf(&p.Spec)] {
				b.addPod(q)
			}
		}
	}
}

// inListedNamespace keeps discovery to the namespaces that were listed: an
// association elsewhere has no pods or service account read to judge it by.
func (b *subjectBuilder) inListedNamespace(ns string) bool {
	if b.ns.listed[""] {
		return true
	}
	return b.ns.listed[ns]
}

func podClaimsContainerCredentials(p *corev1.Pod) bool {
	for _, c := range facts.Containers(p) {
		if _, set, _ := facts.EnvValue(c.Container, facts.EnvContainerCredentialsFull); set {
			return true
		}
	}
	return false
}

// usesPodIdentity reports whether some subject has, or is meant to have, Pod
// Identity credentials: only then is the agent worth a request (and an RBAC
// rule).
func usesPodIdentity(subjects []*facts.Subject, associated []string) bool {
	keys := map[string]bool{}
	for _, k := range associated {
		keys[k] = true
	}
	for _, s := range subjects {
		if keys[s.Key()] {
			return true
		}
		for _, pf := range s.Pods {
			if podClaimsContainerCredentials(pf.Pod) {
				return true
			}
		}
	}
	return false
}

// collectPodIdentityAgent reads the eks-pod-identity-agent DaemonSet with one
// GET (get daemonsets in kube-system) and keeps what the checks judge: its
// presence, its status counts, its image tag, its arguments and whether it
// runs on the host network.
func (c *Collector) collectPodIdentityAgent(ctx context.Context) *facts.PodIdentityAgent {
	ds, err := c.Client.AppsV1().DaemonSets(facts.PodIdentityAgentNamespace).Get(ctx, facts.PodIdentityAgentName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return &facts.PodIdentityAgent{}
	case err != nil:
		return &facts.PodIdentityAgent{Err: readError("get", "daemonsets", facts.PodIdentityAgentNamespace, facts.PodIdentityAgentName, err)}
	}
	return agentFacts(ds)
}

func agentFacts(ds *appsv1.DaemonSet) *facts.PodIdentityAgent {
	out := &facts.PodIdentityAgent{
		Found:       true,
		HostNetwork: ds.Spec.Template.Spec.HostNetwork,
		Desired:     ds.Status.DesiredNumberScheduled,
		Ready:       ds.Status.NumberReady,
		Available:   ds.Status.NumberAvailable,
	}
	cs := ds.Spec.Template.Spec.Containers
	if len(cs) == 0 {
		return out
	}
	agent := cs[0]
	for _, ctr := range cs {
		if ctr.Name == facts.PodIdentityAgentName {
			agent = ctr
		}
	}
	out.Image = agent.Image
	out.Version = imageTag(agent.Image)
	out.Args = append(append([]string(nil), agent.Command...), agent.Args...)
	return out
}

// imageTag is the tag of an image reference ("" for a digest-only or
// untagged one).
func imageTag(image string) string {
	image, _, _ = strings.Cut(image, "@")
	slash := strings.LastIndex(image, "/")
	if i := strings.LastIndex(image, ":"); i > slash {
		return image[i+1:]
	}
	return ""
}
