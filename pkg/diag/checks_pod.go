package diag

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

func init() {
	register(
		Check{ID: "IRSA-POD-001", Severity: SeverityError, Title: "Every container got the IRSA env and token mount",
			LooksAt: "pod containers and init containers: env AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, aws-iam-token volume and mount; skip label, skip-containers, creation times, webhook configuration",
			Run:     checkContainersMutated},
		Check{ID: "IRSA-POD-002", Severity: SeverityError, Title: "The pod's AWS_ROLE_ARN matches the service account's annotation",
			LooksAt: "container env AWS_ROLE_ARN, serviceaccount annotation and its managedFields time", Run: checkStaleRoleARN},
		Check{ID: "IRSA-POD-003", Severity: SeverityWarning, Title: "Live pods run as the service account their workload names",
			LooksAt: "workload pod template serviceAccountName, live pods found through owner references", Run: checkWorkloadServiceAccount},
		Check{ID: "IRSA-POD-004", Severity: SeverityWarning, Title: "skip-containers annotation names real containers exactly",
			LooksAt: "pod annotation eks.amazonaws.com/skip-containers", Run: checkSkipContainers},
	)
}

// whyNotMutated explains why the webhook left a whole pod alone, most
// specific cause first, with evidence; fix is the extra step before a
// restart, and prevent what keeps it from coming back after it.
func whyNotMutated(s *Input, subj *facts.Subject, pf facts.PodFacts) (reason string, evs []Evidence, fix, prevent string) {
	p := pf.Pod
	created := p.CreationTimestamp.Time
	evs = append(evs, ev("pod created", ts(created), "pod.metadata.creationTimestamp"))
	if _, ok := p.Labels[facts.LabelSkipWebhook]; ok {
		return "the pod carries the label " + facts.LabelSkipWebhook + ", which the webhook's objectSelector excludes",
			append(evs, ev("label", facts.LabelSkipWebhook+"="+p.Labels[facts.LabelSkipWebhook], "pod.metadata.labels")),
			"remove the label " + facts.LabelSkipWebhook + " from " + ownerText(pf), ""
	}
	if at, mgr, ok := facts.AnnotationWrittenAt(subj.ServiceAccount, facts.AnnotationRoleARN); ok && at.After(created) {
		return fmt.Sprintf("the pod was created at %s, before the role-arn annotation was written at %s, and the webhook acts only when a pod is created", ts(created), ts(at)),
			append(evs, ev("annotation written", ts(at)+" by "+mgr, "serviceaccount.metadata.managedFields")), "", ""
	}
	if sa := subj.ServiceAccount; sa != nil && sa.CreationTimestamp.After(created) {
		return fmt.Sprintf("the service account was created at %s, after the pod", ts(sa.CreationTimestamp.Time)),
			append(evs, ev("serviceaccount created", ts(sa.CreationTimestamp.Time), "serviceaccount.metadata.creationTimestamp")), "", ""
	}
	if s.Webhooks.Err == nil {
		if _, wh := facts.IRSAWebhook(s.Webhooks.Configs); wh == nil {
			return "no MutatingWebhookConfiguration registers the pod identity webhook (see IRSA-WEBHOOK-001)", evs,
				"register the pod identity webhook", ""
		}
	}
	// With the webhook registered and selecting the pod, a pod that came
	// seconds after what it needed lost the race with the webhook's cache.
	if s.Webhooks.Err == nil {
		if _, wh := facts.IRSAWebhook(s.Webhooks.Configs); wh != nil && webhookIncludes(s, wh, p) {
			if reason, raceEvs, prevent, ok := cacheRace(subj, created); ok {
				return reason, append(evs, raceEvs...), "", prevent
			}
		}
	}
	// A service account created with nothing but a name has no managedFields,
	// so an annotation added later has no recorded time: the most common
	// cause then cannot be proven, only named first.
	return "the webhook did not mutate it when it was created: most often the role-arn annotation was added after the pod was created (the API server recorded no time for it), otherwise a webhook outage (failurePolicy Ignore), a selector (see IRSA-WEBHOOK-002) or a service account missing from the webhook's cache", evs, "", ""
}

// cacheRaceWindow is how soon after its service account (or its role-arn
// annotation) a pod can be created and still miss it: the webhook looks
// service accounts up in an informer cache that lags the API server, and on
// a miss admits the pod unmutated (docs/behaviour.md#webhook-decision-flow).
const cacheRaceWindow = 10 * time.Second

// cacheRace names the webhook's cache race when the pod came seconds after
// the service account or the annotation it needed.
func cacheRace(subj *facts.Subject, created time.Time) (reason string, evs []Evidence, prevent string, ok bool) {
	// Only a recorded annotation time proves the role was there when the pod
	// came: a service account created seconds before the pod may have been
	// annotated only later, which is the other, likelier cause.
	written, mgr, found := facts.AnnotationWrittenAt(subj.ServiceAccount, facts.AnnotationRoleARN)
	if lag := created.Sub(written); !found || lag < 0 || lag > cacheRaceWindow {
		return "", nil, "", false
	}
	what := "role-arn annotation was written"
	if sa := subj.ServiceAccount; !sa.CreationTimestamp.Time.Before(written) {
		what = "service account was created with its role-arn annotation"
	}
	return fmt.Sprintf("the pod was created %s after the %s (%s): the webhook reads service accounts from a cache that had not seen it yet, and admits such pods unmutated",
			created.Sub(written).Round(time.Second), what, ts(written)), []Evidence{ev("annotation written", ts(written)+" by "+mgr, "serviceaccount.metadata.managedFields")},
		"to keep it from coming back, create the service account with its annotation before the workload (a Helm pre-install hook or an Argo CD sync wave)", true
}

// unmutatedFinding is IRSA-POD-001 for a container of a pod the webhook
// left alone: why, and the restart with what must come before and after it.
func unmutatedFinding(s *Input, subj *facts.Subject, pf facts.PodFacts, obj ObjectRef, evs []Evidence, restart string) Finding {
	reason, more, fix, prevent := whyNotMutated(s, subj, pf)
	remedy := restart
	if fix != "" {
		remedy = fix + ", then " + restart
	}
	if prevent != "" {
		remedy += "; " + prevent
	}
	return fail(obj, "Container has no IRSA credentials: "+reason, append(evs, more...), remedy)
}

func checkContainersMutated(s *Input, subj *facts.Subject) []Finding {
	if _, ok := facts.IntendedRoleARN(subj); !ok {
		return nil
	}
	// With an association the webhook gives new pods Pod Identity, not IRSA
	// (docs/behaviour.md#webhook-decision-flow): a container without IRSA
	// env is then PODID-ASSOC-001's to judge.
	associated := len(associationsOf(s, subj)) > 0
	var out []Finding
	for _, pf := range subj.Pods {
		p := pf.Pod
		vol, _ := facts.TokenVolume(p)
		skip, _, _ := facts.SkipContainers(p)
		mutated := podMutated(p)
		failed := false
		leftToPodIdentity := map[string]int{}
		for _, c := range facts.Containers(p) {
			_, roleSet, _ := facts.EnvValue(c.Container, facts.EnvRoleARN)
			_, tokenSet, _ := facts.EnvValue(c.Container, facts.EnvTokenFile)
			_, mounted := facts.MountOf(c.Container, facts.TokenVolumeName)
			missing := missingIRSA(roleSet, tokenSet, mounted)
			if why := podIdentityContainer(c, associated, len(missing) < 3); why != "" {
				leftToPodIdentity[why]++
				continue
			}
			if len(missing) == 0 {
				continue
			}
			failed = true
			obj := containerRef(p, c)
			evs := []Evidence{ev("missing", strings.Join(missing, ", "), containerField(c, "env/volumeMounts"))}
			restart := RestartCommand(pf)
			var f Finding
			switch {
			case skip.Has(c.Name):
				f = fail(obj, "Container is listed in "+facts.AnnotationSkipContainers+", so the webhook gave it no IRSA credentials",
					append(evs, ev(facts.AnnotationSkipContainers, p.Annotations[facts.AnnotationSkipContainers], "pod.metadata.annotations")),
					"if this container calls AWS, remove it from "+facts.AnnotationSkipContainers+" in "+ownerText(pf)+", then "+restart)
				f.Severity = SeverityWarning
			case facts.EarlyExit(c.Container) && !mounted:
				// After mutation a partly configured container also has a region
				// and the STS variable; only a real early exit lacks the mount.
				f = fail(obj, "Container sets a web-identity variable, a region and AWS_STS_REGIONAL_ENDPOINTS itself, so the webhook left it untouched (no token file, no mount)",
					evs, "remove AWS_ROLE_ARN/AWS_WEB_IDENTITY_TOKEN_FILE from the container's env in "+ownerText(pf)+" and let the webhook inject them, then "+restart)
			case roleSet != tokenSet:
				set := facts.EnvRoleARN
				if tokenSet {
					set = facts.EnvTokenFile
				}
				f = fail(obj, "Container sets "+set+" itself; the webhook adds the web-identity variables only when neither is present",
					evs, "remove "+set+" from the container's env in "+ownerText(pf)+", then "+restart)
			case !mutated:
				f = unmutatedFinding(s, subj, pf, obj, evs, restart)
			case vol != nil && !roleSet && !tokenSet && !mounted:
				f = fail(obj, "Container got nothing although the pod was mutated: it was most likely added by another admission webhook after the pod identity webhook ran",
					evs, "if this container calls AWS, make the webhook that adds it run first (or set reinvocationPolicy: IfNeeded on it), then "+restart)
				f.Severity = SeverityWarning
			default:
				f = fail(obj, "Container is only partly mutated", evs, restart)
			}
			out = append(out, f)
		}
		if !failed {
			out = append(out, mutatedPass(p, leftToPodIdentity))
		}
	}
	return out
}

// missingIRSA lists what a container lacks of the IRSA mutation.
func missingIRSA(roleSet, tokenSet, mounted bool) []string {
	var missing []string
	for _, m := range []struct {
		have bool
		name string
	}{{roleSet, facts.EnvRoleARN}, {tokenSet, facts.EnvTokenFile}, {mounted, facts.TokenVolumeName + " mount"}} {
		if !m.have {
			missing = append(missing, m.name)
		}
	}
	return missing
}

// podIdentityContainer says why IRSA-POD-001 leaves a container to the Pod
// Identity checks, or "": it gets Pod Identity credentials (the agent's URI
// and no web identity, which every SDK would use first and which is then
// judged here as before), or it has no IRSA env at all while the service
// account has an association, so the webhook would give it Pod Identity.
func podIdentityContainer(c facts.Container, associated, anyIRSA bool) string {
	switch {
	case podIdentityOnly(c):
		return "uses"
	case associated && !anyIRSA:
		return "associated"
	}
	return ""
}

// mutatedPass is IRSA-POD-001's pass for a pod without a missing container.
func mutatedPass(p *corev1.Pod, leftToPodIdentity map[string]int) Finding {
	switch {
	case leftToPodIdentity["uses"] > 0:
		return pass(podRef(p), "No container is missing IRSA env: the pod uses EKS Pod Identity, which the webhook gives precedence over IRSA (PODID-MIX-001)")
	case leftToPodIdentity["associated"] > 0:
		return pass(podRef(p), "No container is missing IRSA env: the service account has an EKS Pod Identity association, which the webhook gives precedence over IRSA (PODID-ASSOC-001 judges the pod)")
	}
	return pass(podRef(p), "Every container has AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE and the aws-iam-token mount")
}

func checkStaleRoleARN(_ *Input, subj *facts.Subject) []Finding {
	want, ok := facts.IntendedRoleARN(subj)
	if !ok {
		return nil
	}
	var out []Finding
	for _, pf := range subj.Pods {
		p := pf.Pod
		stale := false
		for _, c := range facts.Containers(p) {
			got, set, fromRef := facts.EnvValue(c.Container, facts.EnvRoleARN)
			if !set || fromRef || got == want {
				continue
			}
			stale = true
			evs := []Evidence{ev("pod "+facts.EnvRoleARN, got, containerField(c, "env")), ev("serviceaccount "+facts.AnnotationRoleARN, want, "serviceaccount.metadata.annotations"),
				ev("pod created", ts(p.CreationTimestamp.Time), "pod.metadata.creationTimestamp")}
			fix := RestartCommand(pf)
			if at, mgr, ok := facts.AnnotationWrittenAt(subj.ServiceAccount, facts.AnnotationRoleARN); ok {
				evs = append(evs, ev("annotation written", ts(at)+" by "+mgr, "serviceaccount.metadata.managedFields"))
				if !at.After(p.CreationTimestamp.Time) {
					fix = "the annotation predates the pod, so the container sets " + facts.EnvRoleARN + " itself: change it in " + ownerText(pf) + ", then " + RestartCommand(pf)
				}
			}
			out = append(out, fail(containerRef(p, c), "Container's AWS_ROLE_ARN differs from the service account's annotation: the pod is stale or sets the role by hand", evs, fix))
		}
		if !stale {
			out = append(out, pass(podRef(p), "AWS_ROLE_ARN matches the service account's annotation"))
		}
	}
	return out
}

func checkWorkloadServiceAccount(_ *Input, subj *facts.Subject) []Finding {
	var out []Finding
	for _, w := range subj.Workloads {
		obj := ObjectRef{Kind: w.Kind, Namespace: subj.Namespace, Name: w.Name}
		mismatch := false
		for _, p := range w.Pods {
			if p.ServiceAccount == w.TemplateServiceAccount {
				continue
			}
			mismatch = true
			restart := fmt.Sprintf("kubectl rollout restart %s/%s -n %s", strings.ToLower(w.Kind), w.Name, subj.Namespace)
			if w.Kind == "Job" || w.Kind == "CronJob" || w.Kind == "ReplicaSet" {
				restart = fmt.Sprintf("kubectl delete pod %s -n %s", p.Name, subj.Namespace)
			}
			out = append(out, fail(ObjectRef{Kind: "Pod", Namespace: subj.Namespace, Name: p.Name},
				fmt.Sprintf("Pod runs as service account %q, but %s/%s's template names %q", p.ServiceAccount, strings.ToLower(w.Kind), w.Name, w.TemplateServiceAccount),
				[]Evidence{ev("pod serviceAccountName", p.ServiceAccount, "pod.spec.serviceAccountName"),
					ev("template serviceAccountName", w.TemplateServiceAccount, strings.ToLower(w.Kind)+".spec.template.spec.serviceAccountName")},
				"the pod comes from an older template: "+restart))
		}
		if !mismatch {
			out = append(out, pass(obj, "Live pods run as the service account the template names", ev("serviceAccountName", w.TemplateServiceAccount, strings.ToLower(w.Kind)+".spec.template.spec.serviceAccountName")))
		}
	}
	return out
}

func checkSkipContainers(_ *Input, subj *facts.Subject) []Finding {
	var out []Finding
	for _, pf := range subj.Pods {
		p := pf.Pod
		names, present, err := facts.SkipContainers(p)
		if !present {
			continue
		}
		raw := p.Annotations[facts.AnnotationSkipContainers]
		src := ev(facts.AnnotationSkipContainers, raw, "pod.metadata.annotations")
		if err != nil {
			out = append(out, fail(podRef(p), "skip-containers annotation is not one CSV record, so the webhook skips no container: "+err.Error(), []Evidence{src},
				"write it as a comma-separated list without spaces, e.g. sidecar,metrics, in "+ownerText(pf)))
			continue
		}
		inPod := map[string]bool{}
		for _, c := range facts.Containers(p) {
			inPod[c.Name] = true
		}
		var problems []string
		for _, n := range sets.List(names) {
			switch {
			case inPod[n]:
			case inPod[strings.TrimSpace(n)]:
				problems = append(problems, fmt.Sprintf("%q has white space, so container %q is NOT skipped", n, strings.TrimSpace(n)))
			default:
				problems = append(problems, fmt.Sprintf("%q names no container of this pod", n))
			}
		}
		if len(problems) > 0 {
			out = append(out, fail(podRef(p), "skip-containers annotation: "+strings.Join(problems, "; "), []Evidence{src},
				"write the names exactly, comma-separated without spaces, in "+ownerText(pf)+", then "+RestartCommand(pf)))
		} else {
			out = append(out, pass(podRef(p), "skip-containers annotation names real containers", src))
		}
	}
	return out
}
