package diag

import (
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

func init() {
	register(
		Check{ID: "IRSA-WEBHOOK-001", Severity: SeverityWarning, Title: "The pod identity webhook is registered",
			LooksAt: "mutatingwebhookconfigurations", Run: checkWebhookPresent},
		Check{ID: "IRSA-WEBHOOK-002", Severity: SeverityError, Title: "The pod identity webhook's selectors and rules include the pod",
			LooksAt: "mutatingwebhookconfigurations objectSelector, namespaceSelector and rules; pod and namespace labels", Run: checkWebhookSelects},
	)
}

// podMutated reports whether the webhook touched the pod at all.
func podMutated(p *corev1.Pod) bool {
	if v, _ := facts.TokenVolume(p); v != nil {
		return true
	}
	for _, c := range facts.Containers(p) {
		if facts.HasEnv(c.Container, facts.EnvTokenFile) {
			return true
		}
	}
	return false
}

const webhookRBAC = "grant list on mutatingwebhookconfigurations.admissionregistration.k8s.io (kubectl auth can-i list mutatingwebhookconfigurations)"

func checkWebhookPresent(s *Input, subj *facts.Subject) []Finding {
	if _, ok := facts.IntendedRoleARN(subj); !ok {
		return nil
	}
	if s.Webhooks.Err != nil {
		return []Finding{unknown(subjectRef(subj), "Could not list mutating webhook configurations: "+s.Webhooks.Err.Message, webhookRBAC)}
	}
	name, wh := facts.IRSAWebhook(s.Webhooks.Configs)
	if wh != nil {
		return []Finding{pass(subjectRef(subj), "The pod identity webhook is registered",
			ev("mutatingwebhookconfiguration", name, "admissionregistration.k8s.io/v1 mutatingwebhookconfigurations"))}
	}
	unmutated := 0
	for _, pf := range subj.Pods {
		if !podMutated(pf.Pod) {
			unmutated++
		}
	}
	f := fail(subjectRef(subj), "No MutatingWebhookConfiguration registers the pod identity webhook ("+facts.IRSAWebhookName+"), so new pods get no IRSA credentials",
		[]Evidence{ev("mutatingwebhookconfigurations", fmt.Sprint(len(s.Webhooks.Configs)), "admissionregistration.k8s.io/v1 mutatingwebhookconfigurations")},
		"on EKS the webhook is part of the control plane: check the cluster is EKS; on a self-managed cluster deploy amazon-eks-pod-identity-webhook and its MutatingWebhookConfiguration")
	if unmutated > 0 {
		f.Severity = SeverityError
	} else if len(subj.Pods) > 0 {
		f.Severity = SeverityInfo
		f.Message = "No visible MutatingWebhookConfiguration registers the pod identity webhook, although the pods are mutated"
	}
	return []Finding{f}
}

// selectorExcludes explains why a label selector does not match, or "".
func selectorExcludes(sel *metav1.LabelSelector, set map[string]string) (string, error) {
	if sel == nil {
		return "", nil
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return "", fmt.Errorf("invalid selector: %w", err)
	}
	if s.Matches(labels.Set(set)) {
		return "", nil
	}
	return s.String(), nil
}

func rulesCoverPodCreate(rules []admissionregistrationv1.RuleWithOperations) bool {
	has := func(list []string, want string) bool {
		for _, v := range list {
			if v == want || v == "*" {
				return true
			}
		}
		return false
	}
	for _, r := range rules {
		ops := make([]string, 0, len(r.Operations))
		for _, o := range r.Operations {
			ops = append(ops, string(o))
		}
		if has(ops, string(admissionregistrationv1.Create)) && has(r.APIGroups, "") && has(r.Resources, "pods") {
			return true
		}
	}
	return false
}

// webhookIncludes reports whether the webhook's rules and selectors are
// known to include the pod: false when one excludes it or the namespace
// could not be read.
func webhookIncludes(s *Input, wh *admissionregistrationv1.MutatingWebhook, p *corev1.Pod) bool {
	if !rulesCoverPodCreate(wh.Rules) {
		return false
	}
	if why, err := selectorExcludes(wh.ObjectSelector, p.Labels); err != nil || why != "" {
		return false
	}
	if sel := wh.NamespaceSelector; sel != nil && len(sel.MatchLabels)+len(sel.MatchExpressions) > 0 {
		ns, ok := s.Namespaces[p.Namespace]
		if !ok {
			return false
		}
		if why, err := selectorExcludes(sel, ns.Labels); err != nil || why != "" {
			return false
		}
	}
	return true
}

func checkWebhookSelects(s *Input, subj *facts.Subject) []Finding {
	if _, ok := facts.IntendedRoleARN(subj); !ok || s.Webhooks.Err != nil {
		return nil
	}
	cfgName, wh := facts.IRSAWebhook(s.Webhooks.Configs)
	if wh == nil {
		return nil
	}
	var out []Finding
	src := "mutatingwebhookconfiguration/" + cfgName
	for _, pf := range subj.Pods {
		p := pf.Pod
		if podMutated(p) {
			continue
		}
		if !rulesCoverPodCreate(wh.Rules) {
			out = append(out, fail(podRef(p), "The pod identity webhook's rules do not cover CREATE of pods",
				[]Evidence{ev("webhook", wh.Name, src)}, "add a rule {operations: [CREATE], apiGroups: [\"\"], apiVersions: [v1], resources: [pods]} to "+src+", then "+RestartCommand(pf)))
			continue
		}
		if why, err := selectorExcludes(wh.ObjectSelector, p.Labels); err != nil || why != "" {
			out = append(out, fail(podRef(p), "The pod identity webhook's objectSelector excludes this pod",
				[]Evidence{ev("objectSelector", why, src+" webhooks["+wh.Name+"].objectSelector"), ev("pod labels", labels.Set(p.Labels).String(), "pod.metadata.labels")},
				"change the pod's labels in "+ownerText(pf)+" (or the objectSelector), then "+RestartCommand(pf)))
			continue
		}
		if wh.NamespaceSelector != nil && len(wh.NamespaceSelector.MatchLabels)+len(wh.NamespaceSelector.MatchExpressions) > 0 {
			ns, ok := s.Namespaces[p.Namespace]
			if !ok {
				msg := "namespace could not be read"
				if e := s.NamespaceErrs[p.Namespace]; e != nil {
					msg = e.Message
				}
				out = append(out, unknown(podRef(p), "Could not tell whether the webhook's namespaceSelector includes namespace "+p.Namespace+": "+msg, "grant get on namespaces"))
				continue
			}
			if why, err := selectorExcludes(wh.NamespaceSelector, ns.Labels); err != nil || why != "" {
				out = append(out, fail(podRef(p), "The pod identity webhook's namespaceSelector excludes namespace "+p.Namespace,
					[]Evidence{ev("namespaceSelector", why, src+" webhooks["+wh.Name+"].namespaceSelector"), ev("namespace labels", labels.Set(ns.Labels).String(), "namespace.metadata.labels")},
					"label namespace "+p.Namespace+" to match the namespaceSelector, then "+RestartCommand(pf)))
				continue
			}
		}
		out = append(out, pass(podRef(p), "The pod identity webhook's selectors and rules include the pod"))
	}
	return out
}
