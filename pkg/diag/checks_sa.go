package diag

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

func init() {
	register(
		Check{ID: "IRSA-SA-001", Severity: SeverityError, Title: "Service account exists",
			LooksAt: "pod.spec.serviceAccountName, serviceaccounts", Run: checkSAExists},
		Check{ID: "IRSA-SA-002", Severity: SeverityError, Title: "Service account has an eks.amazonaws.com/role-arn annotation",
			LooksAt: "serviceaccount annotations, pod env AWS_ROLE_ARN and Pod Identity env", Run: checkSAAnnotated},
		Check{ID: "IRSA-SA-003", Severity: SeverityError, Title: "No near-miss role-arn annotation keys",
			LooksAt: "serviceaccount and pod annotation keys", Run: checkAnnotationNearMiss},
		Check{ID: "IRSA-SA-004", Severity: SeverityError, Title: "Role ARN annotation is a valid IAM role ARN",
			LooksAt: "serviceaccount annotation eks.amazonaws.com/role-arn", Run: checkRoleARNValid},
		Check{ID: "IRSA-SA-005", Severity: SeverityWarning, Title: "Audience annotation is a plausible audience",
			LooksAt: "serviceaccount annotation eks.amazonaws.com/audience", Run: checkAudienceAnnotation},
		Check{ID: "IRSA-SA-006", Severity: SeverityWarning, Title: "sts-regional-endpoints annotation is a boolean",
			LooksAt: "serviceaccount annotation eks.amazonaws.com/sts-regional-endpoints", Run: checkRegionalAnnotation},
		Check{ID: "IRSA-SA-007", Severity: SeverityWarning, Title: "token-expiration annotations are integers in range",
			LooksAt: "serviceaccount and pod annotation eks.amazonaws.com/token-expiration", Run: checkExpirationAnnotation},
	)
}

func checkSAExists(s *Input, subj *facts.Subject) []Finding {
	obj := subjectRef(subj)
	if subj.ServiceAccountErr != nil {
		return []Finding{unknown(obj, "Could not read the service account: "+subj.ServiceAccountErr.Message,
			fmt.Sprintf("grant get on serviceaccounts in namespace %s", subj.Namespace))}
	}
	if subj.ServiceAccount != nil {
		return []Finding{pass(obj, "Service account exists")}
	}
	associated := len(associationsOf(s, subj)) > 0
	if associated && len(subj.Pods) == 0 {
		return nil // only a Pod Identity association names it: PODID-ASSOC-003
	}
	var pods []string
	for _, p := range subj.Pods {
		pods = append(pods, p.Pod.Name)
	}
	evs := []Evidence{ev("serviceAccountName", subj.ServiceAccountName, "pod.spec.serviceAccountName")}
	if len(pods) > 0 {
		evs = append(evs, ev("pods", strings.Join(pods, ","), "pods"))
	}
	fix := fmt.Sprintf("kubectl create serviceaccount %s -n %s && kubectl annotate serviceaccount %s -n %s %s=<ROLE_ARN>, then recreate the pods",
		subj.ServiceAccountName, subj.Namespace, subj.ServiceAccountName, subj.Namespace, facts.AnnotationRoleARN)
	if associated {
		// Its role comes from the association: no annotation to add.
		fix = fmt.Sprintf("kubectl create serviceaccount %s -n %s, then recreate the pods", subj.ServiceAccountName, subj.Namespace)
	}
	return []Finding{fail(obj, fmt.Sprintf("Service account %q does not exist in namespace %s", subj.ServiceAccountName, subj.Namespace), evs, fix)}
}

func checkSAAnnotated(s *Input, subj *facts.Subject) []Finding {
	sa := subj.ServiceAccount
	if sa == nil {
		return nil
	}
	obj := subjectRef(subj)
	if f, found := roleConfigured(s, subj); found {
		return []Finding{f}
	}
	_, _, ok := facts.SubjectRoleAnnotation(subj)
	if assocs := associationsOf(s, subj); len(assocs) > 0 {
		// The association gives the role (docs/behaviour.md#eks-pod-identity):
		// no annotation is missing.
		return []Finding{{Status: StatusPass, Severity: SeverityInfo, Object: obj,
			Message:  "Service account has no role-arn annotation; its EKS Pod Identity association gives it " + associationRoleText(assocs[0]),
			Evidence: associationEvidence(assocs[0])}}
	}
	evs, podIdentity := podRoleEnv(subj)
	if len(subj.Pods) > 0 && podIdentity > 0 && len(evs) == 0 {
		return []Finding{{Status: StatusPass, Severity: SeverityInfo, Object: obj,
			Message: "Service account has no role-arn annotation; its pods use EKS Pod Identity instead"}}
	}
	msg := "Service account has no " + facts.AnnotationRoleARN + " annotation, so the webhook injects no IRSA credentials"
	if ok {
		msg = "Service account's " + facts.AnnotationRoleARN + " annotation is empty, so the webhook injects no IRSA credentials"
	}
	if cm := s.WebhookConfigMap; len(evs) > 0 && !ok && cm != nil && cm.Err != nil {
		// Pods carry a role the service account does not name: a webhook
		// with --watch-config-map may have given it, and its ConfigMap
		// could not be read.
		return []Finding{unknown(obj, "Service account has no role-arn annotation, yet its pods carry AWS_ROLE_ARN; the webhook's ConfigMap "+facts.WebhookConfigMapName+", which may give it the role, could not be read: "+cm.Err.Message,
			"grant "+cm.Err.Verb+" on configmaps ("+facts.WebhookConfigMapName+") to see it", evs...)}
	}
	if len(evs) > 0 {
		msg += " (its pods still carry AWS_ROLE_ARN: the annotation was removed after they were created, or the env is set by hand)"
	}
	fix := fmt.Sprintf("kubectl annotate serviceaccount %s -n %s %s=<ROLE_ARN> --overwrite, then restart the pods that use it",
		subj.ServiceAccountName, subj.Namespace, facts.AnnotationRoleARN)
	if name, role, why, ok := meantServiceAccount(s, subj); ok {
		msg += fmt.Sprintf("; did you mean service account %s (annotated with role %s)? %s", name, role, why)
		evs = append(evs, ev("serviceaccount "+name+" "+facts.AnnotationRoleARN, role, "serviceaccount.metadata.annotations"))
		fix = fmt.Sprintf("set serviceAccountName: %s in the pod template (or annotate %s: %s), then restart the pods", name, subj.ServiceAccountName, fix)
	}
	return []Finding{fail(obj, msg, evs, fix)}
}

// roleConfigured is IRSA-SA-002's pass when the webhook has a role for the
// subject: its annotation (under the prefix the webhook runs with), else,
// for a service account without one, an entry of the webhook's ConfigMap
// (docs/behaviour.md#webhook-inputs).
func roleConfigured(s *Input, subj *facts.Subject) (Finding, bool) {
	obj := subjectRef(subj)
	key, v, ok := facts.SubjectRoleAnnotation(subj)
	switch {
	case ok && strings.TrimSpace(v) != "" && key != facts.AnnotationRoleARN:
		return pass(obj, "Service account is annotated with a role ARN under the non-default prefix "+strings.TrimSuffix(key, "/role-arn")+", which its pods' AWS_ROLE_ARN shows the webhook runs with (--annotation-prefix)",
			ev(key, v, "serviceaccount.metadata.annotations")), true
	case ok && strings.TrimSpace(v) != "":
		return pass(obj, "Service account is annotated with a role ARN", ev(facts.AnnotationRoleARN, v, "serviceaccount.metadata.annotations")), true
	case !ok && subj.WebhookConfig != nil:
		e := subj.WebhookConfig
		return pass(obj, "Service account has no role-arn annotation; the webhook's ConfigMap "+configMapName(s)+" gives it role "+e.RoleARN,
			ev("entry "+e.Key, e.RoleARN, "configmap "+configMapName(s)+" data.config")), true
	}
	return Finding{}, false
}

// podRoleEnv is the AWS_ROLE_ARN the subject's pods carry, as evidence, and
// how many of their containers use Pod Identity.
func podRoleEnv(subj *facts.Subject) (evs []Evidence, podIdentity int) {
	for _, pf := range subj.Pods {
		for _, c := range facts.Containers(pf.Pod) {
			if arn, set, _ := facts.EnvValue(c.Container, facts.EnvRoleARN); set {
				evs = append(evs, ev("pod "+pf.Pod.Name+" "+facts.EnvRoleARN, arn, containerField(c, "env")))
			}
			if facts.HasEnv(c.Container, facts.EnvContainerCredentialsFull) {
				podIdentity++
			}
		}
	}
	return evs, podIdentity
}

// meantServiceAccount finds the annotated service account an unannotated
// subject was probably meant to be: the one its workload's template names,
// else the annotated one of its namespace whose name is closest to it.
func meantServiceAccount(s *Input, subj *facts.Subject) (name, role, why string, ok bool) {
	annotated := s.RoleServiceAccounts[subj.Namespace]
	for _, w := range subj.Workloads {
		if t := w.TemplateServiceAccount; t != subj.ServiceAccountName {
			if r, found := annotated[t]; found {
				return t, r, fmt.Sprintf("%s/%s names it in its pod template.", strings.ToLower(w.Kind), w.Name), true
			}
		}
	}
	best := -1
	for _, n := range sortedKeys(annotated) {
		if n == subj.ServiceAccountName {
			continue
		}
		if d := levenshtein(strings.ToLower(n), strings.ToLower(subj.ServiceAccountName)); best < 0 || d < best {
			best, name, role = d, n, annotated[n]
		}
	}
	if best < 0 {
		return "", "", "", false
	}
	return name, role, "It is annotated in the same namespace.", true
}

// nearMissKey reports whether an annotation key looks like a botched
// eks.amazonaws.com/role-arn (docs/behaviour.md#f6-pod-not-mutated: eks.amazon.com/role-arn,
// wrong case, spaces, role_arn).
func nearMissKey(k string) bool {
	if k == facts.AnnotationRoleARN {
		return false
	}
	norm := strings.ToLower(strings.Join(strings.Fields(k), ""))
	norm = strings.ReplaceAll(norm, "_", "-")
	if norm == facts.AnnotationRoleARN {
		return true
	}
	prefix, name, found := strings.Cut(norm, "/")
	if !found {
		return false
	}
	switch name {
	case "role-arn", "rolearn", "iam-role-arn", "iam-role", "role":
		if strings.Contains(prefix, "eks") || strings.Contains(prefix, "amazon") || strings.Contains(prefix, "aws") {
			return true
		}
	}
	return levenshtein(norm, facts.AnnotationRoleARN) <= 3
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func checkAnnotationNearMiss(_ *Input, subj *facts.Subject) []Finding {
	var out []Finding
	webhookKey, _, _ := facts.SubjectRoleAnnotation(subj)
	if sa := subj.ServiceAccount; sa != nil {
		for _, k := range sortedKeys(sa.Annotations) {
			if nearMissKey(k) && k != webhookKey {
				out = append(out, fail(subjectRef(subj), fmt.Sprintf("Annotation key %q is not %s; the webhook ignores it", k, facts.AnnotationRoleARN),
					[]Evidence{ev("annotation", k+"="+sa.Annotations[k], "serviceaccount.metadata.annotations")},
					fmt.Sprintf("kubectl annotate serviceaccount %s -n %s %s=%s %s-, then restart the pods that use it",
						subj.ServiceAccountName, subj.Namespace, facts.AnnotationRoleARN, strings.TrimSpace(sa.Annotations[k]), strings.TrimSpace(k))))
			}
		}
	}
	for _, pf := range subj.Pods {
		for _, k := range sortedKeys(pf.Pod.Annotations) {
			if k == facts.AnnotationRoleARN || nearMissKey(k) {
				out = append(out, fail(podRef(pf.Pod), fmt.Sprintf("Pod carries annotation %q, but the webhook reads the role ARN only from the service account", k),
					[]Evidence{ev("annotation", k+"="+pf.Pod.Annotations[k], "pod.metadata.annotations")},
					fmt.Sprintf("kubectl annotate serviceaccount %s -n %s %s=%s, then %s", subj.ServiceAccountName, subj.Namespace,
						facts.AnnotationRoleARN, strings.TrimSpace(pf.Pod.Annotations[k]), RestartCommand(pf))))
			}
		}
	}
	if len(out) == 0 && subj.ServiceAccount != nil {
		out = append(out, pass(subjectRef(subj), "No near-miss role-arn annotation keys"))
	}
	return out
}

func checkRoleARNValid(_ *Input, subj *facts.Subject) []Finding {
	key, v, ok := facts.SubjectRoleAnnotation(subj)
	if !ok || v == "" {
		return nil
	}
	src := ev(key, v, "serviceaccount.metadata.annotations")
	if _, err := awsarn.ParseRoleARN(v); err != nil {
		return []Finding{fail(subjectRef(subj), "Role ARN annotation is not a valid IAM role ARN: "+err.Error(), []Evidence{src},
			fmt.Sprintf("kubectl annotate serviceaccount %s -n %s %s=arn:<PARTITION>:iam::<12-DIGIT-ACCOUNT>:role/<NAME> --overwrite, then restart the pods that use it",
				subj.ServiceAccountName, subj.Namespace, facts.AnnotationRoleARN))}
	}
	return []Finding{pass(subjectRef(subj), "Role ARN annotation is a valid IAM role ARN", src)}
}

// audienceProblem explains why an audience value will not work, or "".
func audienceProblem(v string) string {
	switch {
	case v == "":
		return "is empty"
	case strings.TrimSpace(v) != v || strings.ContainsFunc(v, unicode.IsSpace):
		return "contains white space"
	case strings.ContainsFunc(v, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsPrint(r) }):
		return "contains non-ASCII or control characters"
	case v == "sts.amazonaws.com.cn":
		return "is the China STS host; the audience is sts.amazonaws.com in every partition, China included"
	case v == "sts.amazon.com" || v == "sts.amazonaws.co" || v == "sts.amazonaws":
		return "looks like a typo of sts.amazonaws.com"
	case strings.HasPrefix(v, "https://") && strings.Contains(v, "sts."):
		return "is an STS endpoint URL; audiences are plain strings such as sts.amazonaws.com"
	}
	return ""
}

func checkAudienceAnnotation(_ *Input, subj *facts.Subject) []Finding {
	sa := subj.ServiceAccount
	if sa == nil {
		return nil
	}
	key := facts.AnnotationPrefixOf(subj) + "/audience"
	v, ok := sa.Annotations[key]
	if !ok {
		return nil
	}
	src := ev(key, v, "serviceaccount.metadata.annotations")
	if v == "" {
		// The webhook uses the annotation whenever it is present, so the
		// token is projected with no audience and the API server gives it
		// its own (docs/behaviour.md#webhook-inputs): STS rejects it.
		f := fail(subjectRef(subj), "Audience annotation is empty: the webhook then projects the token with no audience, so it carries the API server's own audience and STS answers \"Incorrect token audience\"",
			[]Evidence{src}, fmt.Sprintf("kubectl annotate serviceaccount %s -n %s %s- (the default is %s), then restart the pods that use it",
				subj.ServiceAccountName, subj.Namespace, facts.AnnotationAudience, facts.DefaultAudience))
		f.Severity = SeverityError
		return []Finding{f}
	}
	if p := audienceProblem(v); p != "" {
		return []Finding{fail(subjectRef(subj), fmt.Sprintf("Audience annotation %q %s; STS answers \"Incorrect token audience\" unless the IAM OIDC provider lists exactly this value", v, p),
			[]Evidence{src}, fmt.Sprintf("kubectl annotate serviceaccount %s -n %s %s=%s --overwrite (or remove it to use the default), then restart the pods that use it",
				subj.ServiceAccountName, subj.Namespace, facts.AnnotationAudience, facts.DefaultAudience))}
	}
	return []Finding{pass(subjectRef(subj), "Audience annotation is a plausible audience", src)}
}

func checkRegionalAnnotation(_ *Input, subj *facts.Subject) []Finding {
	sa := subj.ServiceAccount
	if sa == nil {
		return nil
	}
	v, ok := sa.Annotations[facts.AnnotationRegionalSTS]
	if !ok {
		return nil
	}
	src := ev(facts.AnnotationRegionalSTS, v, "serviceaccount.metadata.annotations")
	if _, err := strconv.ParseBool(v); err != nil {
		return []Finding{fail(subjectRef(subj), fmt.Sprintf("Annotation %s=%q is not a boolean, so the webhook ignores it", facts.AnnotationRegionalSTS, v),
			[]Evidence{src}, fmt.Sprintf("kubectl annotate serviceaccount %s -n %s %s=true --overwrite, then restart the pods that use it",
				subj.ServiceAccountName, subj.Namespace, facts.AnnotationRegionalSTS))}
	}
	return []Finding{pass(subjectRef(subj), "sts-regional-endpoints annotation is a boolean", src)}
}

// expirationProblem judges a token-expiration value as the webhook parses it.
func expirationProblem(v string) (msg string, sev Severity) {
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err != nil:
		return fmt.Sprintf("%q is not an integer, so the webhook ignores it and uses %d seconds", v, facts.DefaultTokenExpiration), SeverityWarning
	case n < facts.MinTokenExpiration:
		return fmt.Sprintf("%d seconds is below the minimum; the webhook raises it to %d", n, facts.MinTokenExpiration), SeverityInfo
	case n > facts.DefaultTokenExpiration:
		return fmt.Sprintf("%d seconds is above 24 hours; the API server may cap it at --service-account-max-token-expiration", n), SeverityInfo
	}
	return "", ""
}

func checkExpirationAnnotation(_ *Input, subj *facts.Subject) []Finding {
	var out []Finding
	if sa := subj.ServiceAccount; sa != nil {
		if v, ok := sa.Annotations[facts.AnnotationTokenExpiration]; ok {
			src := ev(facts.AnnotationTokenExpiration, v, "serviceaccount.metadata.annotations")
			if msg, sev := expirationProblem(v); msg != "" {
				f := fail(subjectRef(subj), "Token-expiration annotation: "+msg, []Evidence{src},
					fmt.Sprintf("kubectl annotate serviceaccount %s -n %s %s=%d --overwrite", subj.ServiceAccountName, subj.Namespace, facts.AnnotationTokenExpiration, facts.DefaultTokenExpiration))
				f.Severity = sev
				out = append(out, f)
			} else {
				out = append(out, pass(subjectRef(subj), "Token-expiration annotation is in range", src))
			}
		}
	}
	for _, pf := range subj.Pods {
		if v, ok := pf.Pod.Annotations[facts.AnnotationTokenExpiration]; ok {
			if msg, sev := expirationProblem(v); msg != "" {
				f := fail(podRef(pf.Pod), "Pod token-expiration annotation: "+msg,
					[]Evidence{ev(facts.AnnotationTokenExpiration, v, "pod.metadata.annotations")},
					"set "+facts.AnnotationTokenExpiration+" to an integer between 600 and 86400 in "+ownerText(pf))
				f.Severity = sev
				out = append(out, f)
			}
		}
	}
	return out
}

// configMapName is namespace/name of the webhook's ConfigMap, as read.
func configMapName(s *Input) string {
	if cm := s.WebhookConfigMap; cm != nil && cm.Namespace != "" {
		return cm.Namespace + "/" + facts.WebhookConfigMapName
	}
	return facts.WebhookConfigMapName
}
