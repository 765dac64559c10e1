package diag

import (
	"fmt"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

func init() {
	register(
		Check{ID: "PODID-ASSOC-001", Severity: SeverityError, Title: "Pods of an associated service account got the Pod Identity variables and token",
			LooksAt: "eks:ListPodIdentityAssociations / DescribePodIdentityAssociation createdAt; pod env AWS_CONTAINER_CREDENTIALS_FULL_URI, volume eks-pod-identity-token; creation time, Fargate, Windows, skip label and webhook selectors",
			Run:     checkAssociationMutated},
		Check{ID: "PODID-ASSOC-002", Severity: SeverityError, Title: "Pods that use Pod Identity have an association",
			LooksAt: "pod env AWS_CONTAINER_CREDENTIALS_FULL_URI pointing at the agent, eks:ListPodIdentityAssociations of the namespace", Run: checkAssociationExists},
		Check{ID: "PODID-ASSOC-003", Severity: SeverityWarning, Title: "A Pod Identity association names a service account that exists",
			LooksAt: "eks:ListPodIdentityAssociations, serviceaccounts", Run: checkAssociationServiceAccount},
		Check{ID: "PODID-MIX-001", Severity: SeverityWarning, Title: "A service account has either an IRSA role or a Pod Identity association, not both",
			LooksAt: "serviceaccount role-arn annotation (or the webhook's ConfigMap), eks:ListPodIdentityAssociations, pod env", Run: checkPodIdentityAndIRSA},
	)
}

// checkAssociationMutated judges the pods of a service account EKS has an
// association for: the webhook gives a pod the Pod Identity variables and
// token only when it is created, and only on EC2 Linux nodes
// (docs/behaviour.md#webhook-admission, #webhook-decision-flow,
// #pod-identity-restrictions).
func checkAssociationMutated(s *Input, subj *facts.Subject) []Finding {
	assocs := associationsOf(s, subj)
	if len(assocs) == 0 {
		return nil
	}
	a := assocs[0]
	_, irsa := facts.IntendedRoleARN(subj)
	var out []Finding
	for _, pf := range subj.Pods {
		switch {
		case facts.PodIdentityMutated(pf.Pod):
			out = append(out, mutatedPodContainers(pf)...)
		case setsContainerCredentials(pf.Pod):
			out = append(out, pass(podRef(pf.Pod), "The pod names its own container credentials endpoint instead of the agent (PODID-ENV-001 judges it)"))
		case irsa && podMutated(pf.Pod):
			// An IRSA pod of a service account that has both: a migration
			// PODID-MIX-001 describes, pod by pod.
			out = append(out, pass(podRef(pf.Pod), "The pod still uses IRSA; it gets Pod Identity once recreated (PODID-MIX-001)"))
		default:
			out = append(out, unmutatedPodIdentityPod(s, subj, pf, a))
		}
	}
	return out
}

// setsContainerCredentials reports a pod whose containers set
// AWS_CONTAINER_CREDENTIALS_FULL_URI, whatever it names.
func setsContainerCredentials(p *corev1.Pod) bool {
	for _, c := range facts.Containers(p) {
		if facts.HasEnv(c.Container, facts.EnvContainerCredentialsFull) {
			return true
		}
	}
	return false
}

// mutatedPodContainers reports the containers of a Pod Identity pod that
// lack the variables: skipped, early exit on their own variables, or added
// after the webhook ran (docs/behaviour.md#injected-environment).
func mutatedPodContainers(pf facts.PodFacts) []Finding {
	p := pf.Pod
	skip, _, _ := facts.SkipContainers(p)
	var out []Finding
	for _, c := range facts.Containers(p) {
		if facts.HasEnv(c.Container, facts.EnvContainerCredentialsFull) {
			continue
		}
		obj := containerRef(p, c)
		evs := []Evidence{ev("missing", facts.EnvContainerCredentialsFull+", "+facts.EnvContainerAuthTokenFile, containerField(c, "env"))}
		var f Finding
		switch {
		case skip.Has(c.Name):
			f = fail(obj, "Container is listed in "+facts.AnnotationSkipContainers+", so the webhook gave it no Pod Identity variables",
				append(evs, ev(facts.AnnotationSkipContainers, p.Annotations[facts.AnnotationSkipContainers], "pod.metadata.annotations")),
				"if this container calls AWS, remove it from "+facts.AnnotationSkipContainers+" in "+ownerText(pf)+", then "+RestartCommand(pf))
			f.Severity = SeverityWarning
		case facts.HasEnv(c.Container, facts.EnvContainerAuthTokenFile):
			f = fail(obj, "Container sets "+facts.EnvContainerAuthTokenFile+" itself; the webhook adds the container credential variables only when neither is present",
				evs, "remove "+facts.EnvContainerAuthTokenFile+" from the container's env in "+ownerText(pf)+", then "+RestartCommand(pf))
		default:
			f = fail(obj, "Container got no Pod Identity variables although the pod did: it was most likely added by another admission webhook after the pod identity webhook ran",
				evs, "if this container calls AWS, make the webhook that adds it run first (or set reinvocationPolicy: IfNeeded on it), then "+RestartCommand(pf))
			f.Severity = SeverityWarning
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		out = append(out, pass(podRef(p), "The pod got the Pod Identity variables and token"))
	}
	return out
}

// unmutatedPodIdentityPod explains why a pod of an associated service
// account has no Pod Identity at all, the cause that no restart fixes first.
func unmutatedPodIdentityPod(s *Input, subj *facts.Subject, pf facts.PodFacts, a facts.PodIdentityAssociation) Finding {
	p := pf.Pod
	created := p.CreationTimestamp.Time
	evs := append(associationEvidence(a), ev("pod created", ts(created), "pod.metadata.creationTimestamp"))
	if !a.CreatedAt.IsZero() {
		evs = append(evs, ev("association created", ts(a.CreatedAt), "eks:DescribePodIdentityAssociation"))
	}
	restart := RestartCommand(pf)
	obj := podRef(p)
	useIRSA := fmt.Sprintf("give the service account an IRSA role instead (kubectl annotate serviceaccount %s -n %s %s=<ROLE_ARN>, a role that trusts the cluster's OIDC provider), then %s; see %s",
		subj.ServiceAccountName, subj.Namespace, facts.AnnotationRoleARN, restart, podIdentityDocs)
	if why := facts.FargateReason(p); why != "" {
		return fail(obj, "Pod has no Pod Identity credentials: it runs on Fargate ("+why+"), where EKS Pod Identity is not available",
			append(evs, ev("fargate", why, "pod.spec")), "run it on EC2 nodes, or "+useIRSA)
	}
	if facts.IsWindows(p) {
		return fail(obj, "Pod has no Pod Identity credentials: it is scheduled to Windows nodes, where EKS Pod Identity is not available",
			append(evs, ev("nodeSelector", labels.Set(p.Spec.NodeSelector).String(), "pod.spec.nodeSelector")), "run it on Linux nodes, or "+useIRSA)
	}
	if _, ok := p.Labels[facts.LabelSkipWebhook]; ok {
		return fail(obj, "Pod has no Pod Identity credentials: it carries the label "+facts.LabelSkipWebhook+", which the pod identity webhook's objectSelector excludes",
			append(evs, ev("label", facts.LabelSkipWebhook+"="+p.Labels[facts.LabelSkipWebhook], "pod.metadata.labels")),
			"remove the label "+facts.LabelSkipWebhook+" from "+ownerText(pf)+", then "+restart)
	}
	if !a.CreatedAt.IsZero() && a.CreatedAt.After(created) {
		msg := fmt.Sprintf("Pod has no Pod Identity credentials: it was created at %s, before the association (%s), and the webhook acts only when a pod is created", ts(created), ts(a.CreatedAt))
		return fail(obj, msg, evs, restart)
	}
	if s.Webhooks.Err == nil {
		cfg, wh := facts.IRSAWebhook(s.Webhooks.Configs)
		if wh == nil {
			return fail(obj, "Pod has no Pod Identity credentials: no MutatingWebhookConfiguration registers the pod identity webhook, which injects them", evs,
				"on EKS the webhook is part of the control plane: check the cluster is EKS, then "+restart)
		}
		if why, field := webhookExclusion(s, wh, p); why != "" {
			return fail(obj, "Pod has no Pod Identity credentials: the pod identity webhook's "+field+" excludes it",
				append(evs, ev(field, why, "mutatingwebhookconfiguration/"+cfg)), "change "+ownerText(pf)+" (its labels, or its namespace's) so that the webhook selects it, then "+restart)
		}
	}
	when := "the association's creation time was not read"
	if !a.CreatedAt.IsZero() {
		when = "the association (" + ts(a.CreatedAt) + ") is older than the pod"
	}
	return fail(obj, "Pod has no Pod Identity credentials: the webhook did not give them when it was created, although "+when+": most often a webhook outage (failurePolicy Ignore) or an association deleted and created again",
		evs, restart)
}

// webhookExclusion says which of the webhook's rules or selectors leaves the
// pod out, with the selector as it reads, or "" when it selects the pod or
// the namespace could not be read (docs/behaviour.md#webhook-admission).
func webhookExclusion(s *Input, wh *admissionregistrationv1.MutatingWebhook, p *corev1.Pod) (why, field string) {
	if !rulesCoverPodCreate(wh.Rules) {
		return "no rule covers CREATE of pods", "rules"
	}
	if why, err := selectorExcludes(wh.ObjectSelector, p.Labels); err == nil && why != "" {
		return why, "objectSelector"
	}
	if sel := wh.NamespaceSelector; sel != nil {
		if ns, ok := s.Namespaces[p.Namespace]; ok {
			if why, err := selectorExcludes(sel, ns.Labels); err == nil && why != "" {
				return why, "namespaceSelector"
			}
		}
	}
	return "", ""
}

// checkAssociationExists judges pods that carry the agent's URI: EKS Auth
// answers ResourceNotFoundException for a service account without an
// association, and a restart removes the variables rather than restoring
// Pod Identity (docs/behaviour.md#pod-identity-flow).
func checkAssociationExists(s *Input, subj *facts.Subject) []Finding {
	p := podIdentityFacts(s)
	if p == nil {
		return nil
	}
	var using []facts.PodFacts
	for _, pf := range subj.Pods {
		if facts.PodUsesPodIdentity(pf.Pod) {
			using = append(using, pf)
		}
	}
	if len(using) == 0 {
		return nil
	}
	if assocs := p.For(subj.Namespace, subj.ServiceAccountName); len(assocs) > 0 {
		return []Finding{pass(subjectRef(subj), "An EKS Pod Identity association covers the service account", associationEvidence(assocs[0])...)}
	}
	if p.ListErr != nil {
		return []Finding{callUnknown(subjectRef(subj), "whether an EKS Pod Identity association covers "+subj.Key(), p.ListErr)}
	}
	if !p.Covers(subj.Namespace) {
		return nil
	}
	var out []Finding
	for _, pf := range using {
		out = append(out, fail(podRef(pf.Pod),
			"Pod uses EKS Pod Identity, but no association covers service account "+subj.Key()+" any more: every credential fetch fails with ResourceNotFoundException, and restarting the pod only removes its Pod Identity variables",
			[]Evidence{ev("associations for "+subj.Key(), "none", "eks:ListPodIdentityAssociations cluster "+p.Cluster+" namespace "+subj.Namespace),
				ev(facts.EnvContainerCredentialsFull, facts.PodIdentityFullURI, "pod.spec.containers[*].env")},
			createAssociationCommand(s, subj, "")+", then "+RestartCommand(pf)))
	}
	return out
}

// checkAssociationServiceAccount flags an association for a service account
// that does not exist: EKS accepts one (docs/behaviour.md#pod-identity-flow),
// and no pod can run as it until it is created.
func checkAssociationServiceAccount(s *Input, subj *facts.Subject) []Finding {
	assocs := associationsOf(s, subj)
	if len(assocs) == 0 || subj.ServiceAccountErr != nil {
		return nil
	}
	if subj.ServiceAccount != nil {
		return []Finding{pass(subjectRef(subj), "The associated service account exists", associationEvidence(assocs[0])...)}
	}
	var out []Finding
	for _, a := range assocs {
		out = append(out, fail(subjectRef(subj),
			"EKS Pod Identity association "+a.ID+" names service account "+subj.Key()+", which does not exist: no pod can run as it until it is created",
			associationEvidence(a),
			fmt.Sprintf("kubectl create serviceaccount %s -n %s  # or, if the association is stale: aws eks delete-pod-identity-association --cluster-name %s --association-id %s",
				subj.ServiceAccountName, subj.Namespace, shellQuote(podIdentityCluster(s)), shellQuote(a.ID))))
	}
	return out
}

// checkPodIdentityAndIRSA names both roles of a service account with an IRSA
// role and an association, and which pods use which: the webhook gives new
// pods Pod Identity, pods created before keep IRSA until recreated
// (docs/behaviour.md#webhook-decision-flow, #f10-pod-identity-and-irsa-mixed).
func checkPodIdentityAndIRSA(s *Input, subj *facts.Subject) []Finding {
	irsaRole, ok := facts.IntendedRoleARN(subj)
	assocs := associationsOf(s, subj)
	if !ok || len(assocs) == 0 {
		return nil
	}
	a := assocs[0]
	var podID, irsa, neither []facts.PodFacts
	for _, pf := range subj.Pods {
		switch {
		case facts.PodUsesPodIdentity(pf.Pod):
			podID = append(podID, pf)
		case podMutated(pf.Pod):
			irsa = append(irsa, pf)
		default:
			neither = append(neither, pf)
		}
	}
	key, _, annotated := facts.SubjectRoleAnnotation(subj)
	irsaFrom, irsaSrc := "annotation "+key, "serviceaccount.metadata.annotations"
	if !annotated && subj.WebhookConfig != nil {
		irsaFrom, irsaSrc = "ConfigMap "+configMapName(s)+" entry "+subj.WebhookConfig.Key, "configmap "+configMapName(s)+" data.config"
	}
	msg := fmt.Sprintf("Service account has both an IRSA role (%s, from its %s) and an EKS Pod Identity association (%s): the webhook gives new pods Pod Identity, and pods created before the association keep IRSA until they are recreated",
		irsaRole, irsaFrom, associationRoleText(a))
	var groups []string
	for _, g := range []struct {
		name string
		pods []facts.PodFacts
	}{{"Pod Identity", podID}, {"IRSA", irsa}, {"neither", neither}} {
		if len(g.pods) > 0 {
			groups = append(groups, g.name+": "+podNames(g.pods))
		}
	}
	if len(groups) > 0 {
		msg += " (" + strings.Join(groups, "; ") + ")"
	}
	evs := append([]Evidence{ev("IRSA role", irsaRole, irsaSrc)}, associationEvidence(a)...)
	keepPodID := fmt.Sprintf("keep Pod Identity: kubectl annotate serviceaccount %s -n %s %s-", subj.ServiceAccountName, subj.Namespace, key)
	if !annotated && subj.WebhookConfig != nil {
		keepPodID = "keep Pod Identity: remove entry " + subj.WebhookConfig.Key + " from ConfigMap " + configMapName(s)
	}
	if r := restartAll(irsa); r != "" {
		keepPodID += ", then " + r
	}
	keepIRSA := fmt.Sprintf("keep IRSA: aws eks delete-pod-identity-association --cluster-name %s --association-id %s", shellQuote(podIdentityCluster(s)), shellQuote(a.ID))
	if r := restartAll(podID); r != "" {
		keepIRSA += ", then " + r
	}
	return []Finding{fail(subjectRef(subj), msg, evs, "pick one. "+keepPodID+". Or "+keepIRSA)}
}

// restartAll is the restart of every distinct owner of the pods.
func restartAll(pods []facts.PodFacts) string {
	var cmds []string
	seen := map[string]bool{}
	for _, pf := range pods {
		if c := RestartCommand(pf); !seen[c] {
			seen[c] = true
			cmds = append(cmds, c)
		}
	}
	return strings.Join(cmds, "; ")
}
