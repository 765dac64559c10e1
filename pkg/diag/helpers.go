package diag

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

func fail(obj ObjectRef, msg string, ev []Evidence, fix string) Finding {
	return Finding{Status: StatusFail, Object: obj, Message: msg, Evidence: ev, Remediation: fix}
}

func pass(obj ObjectRef, msg string, ev ...Evidence) Finding {
	return Finding{Status: StatusPass, Object: obj, Message: msg, Evidence: ev}
}

func unknown(obj ObjectRef, msg, fix string, ev ...Evidence) Finding {
	return Finding{Status: StatusUnknown, Object: obj, Message: msg, Evidence: ev, Remediation: fix}
}

func ev(key, value, source string) Evidence {
	return Evidence{Key: key, Value: value, Source: source}
}

func podRef(p *corev1.Pod) ObjectRef {
	return ObjectRef{Kind: "Pod", Namespace: p.Namespace, Name: p.Name}
}

func containerRef(p *corev1.Pod, c facts.Container) ObjectRef {
	r := podRef(p)
	r.Container = c.Name
	return r
}

// containerField names a container's place in the pod spec for evidence.
func containerField(c facts.Container, field string) string {
	list := "containers"
	if c.Init {
		list = "initContainers"
	}
	return fmt.Sprintf("pod.spec.%s[%s].%s", list, c.Name, field)
}

func ts(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// RestartCommand is what recreates a pod's containers through its owner, so
// that the webhook runs again (it acts on CREATE only, docs/behaviour.md#webhook-admission).
func RestartCommand(pf facts.PodFacts) string {
	ns := pf.Pod.Namespace
	switch pf.Owner.Kind {
	case "Deployment", "StatefulSet", "DaemonSet":
		return fmt.Sprintf("kubectl rollout restart %s/%s -n %s", strings.ToLower(pf.Owner.Kind), pf.Owner.Name, ns)
	case "ReplicaSet", "ReplicationController":
		return fmt.Sprintf("kubectl delete pod %s -n %s  # %s/%s recreates it", pf.Pod.Name, ns, strings.ToLower(pf.Owner.Kind), pf.Owner.Name)
	case "Job":
		return fmt.Sprintf("kubectl get job %s -n %s -o yaml | kubectl replace --force -f -", pf.Owner.Name, ns)
	case "CronJob":
		return fmt.Sprintf("kubectl create job %s-irsa-rerun --from=cronjob/%s -n %s  # later runs pick it up by themselves", pf.Owner.Name, pf.Owner.Name, ns)
	case "":
		return fmt.Sprintf("kubectl get pod %s -n %s -o yaml | kubectl replace --force -f -", pf.Pod.Name, ns)
	}
	return fmt.Sprintf("kubectl delete pod %s -n %s  # %s/%s recreates it", pf.Pod.Name, ns, strings.ToLower(pf.Owner.Kind), pf.Owner.Name)
}

// ownerText names what to change for a pod: its workload's template or the pod.
func ownerText(pf facts.PodFacts) string {
	if pf.Owner.Kind == "" {
		return "pod/" + pf.Pod.Name
	}
	return "the pod template of " + strings.ToLower(pf.Owner.Kind) + "/" + pf.Owner.Name
}

// envKeysFromSources lists env var names a container gets through envFrom,
// with where each came from; unreadable sources are returned separately.
func envKeysFromSources(pf facts.PodFacts, c facts.Container) (keys map[string]string, unreadable []facts.EnvSource) {
	keys = map[string]string{}
	for _, ef := range c.EnvFrom {
		var id string
		switch {
		case ef.SecretRef != nil:
			id = "Secret/" + ef.SecretRef.Name
		case ef.ConfigMapRef != nil:
			id = "ConfigMap/" + ef.ConfigMapRef.Name
		default:
			continue
		}
		src, ok := pf.EnvSources[id]
		if !ok {
			continue
		}
		if src.Err != nil {
			unreadable = append(unreadable, src)
			continue
		}
		for _, k := range src.Keys {
			keys[ef.Prefix+k] = id
		}
	}
	return keys, unreadable
}

// envOrigin says where a container gets an env var: "env", "envFrom Secret/x", or "".
func envOrigin(pf facts.PodFacts, c facts.Container, name string) string {
	if facts.HasEnv(c.Container, name) {
		return "env"
	}
	keys, _ := envKeysFromSources(pf, c)
	if src, ok := keys[name]; ok {
		return "envFrom " + src
	}
	return ""
}
