package diag

import (
	"fmt"
	"net"
	"path"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

func init() {
	register(
		Check{ID: "PODID-ENV-001", Severity: SeverityError, Title: "AWS_CONTAINER_CREDENTIALS_FULL_URI is an endpoint the SDKs accept",
			LooksAt: "container env AWS_CONTAINER_CREDENTIALS_FULL_URI: scheme and host", Run: checkContainerEndpoint},
		Check{ID: "PODID-ENV-002", Severity: SeverityWarning, Title: "Proxy variables exempt the Pod Identity agent",
			LooksAt: "container env HTTP_PROXY, HTTPS_PROXY, NO_PROXY (either case) of containers that use Pod Identity", Run: checkAgentProxy},
		Check{ID: "PODID-TOKEN-001", Severity: SeverityError, Title: "The Pod Identity token's audience is pods.eks.amazonaws.com",
			LooksAt: "pod volume eks-pod-identity-token, or the projected volume that serves AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: serviceAccountToken.audience",
			Run:     checkPodIdentityTokenAudience},
	)
}

// setEnvCommand is the kubectl set env that changes a container's env
// through its workload (which rolls the pods out), or the instruction for a
// pod that has none.
func setEnvCommand(pf facts.PodFacts, c facts.Container, assignments string) string {
	switch pf.Owner.Kind {
	case "Deployment", "StatefulSet", "DaemonSet":
		return fmt.Sprintf("kubectl set env %s -c %s %s -n %s", setEnvTarget(pf), c.Name, assignments, pf.Pod.Namespace)
	}
	return "change container " + c.Name + "'s env in " + ownerText(pf) + " (" + assignments + "), then " + RestartCommand(pf)
}

// checkContainerEndpoint judges a hand-set AWS_CONTAINER_CREDENTIALS_FULL_URI
// as the SDKs do: over http only loopback hosts and the ECS and EKS agent
// addresses are allowed; they refuse any other, they do not fall through to
// the next link (docs/behaviour.md#sdk-credential-chain).
func checkContainerEndpoint(_ *Input, subj *facts.Subject) []Finding {
	var out []Finding
	for _, pf := range subj.Pods {
		for _, c := range facts.Containers(pf.Pod) {
			uri, set, fromRef := facts.EnvValue(c.Container, facts.EnvContainerCredentialsFull)
			if !set || fromRef {
				continue
			}
			obj := containerRef(pf.Pod, c)
			src := ev(facts.EnvContainerCredentialsFull, uri, containerField(c, "env"))
			problem := facts.ContainerEndpointProblem(uri)
			if problem == "" {
				out = append(out, pass(obj, "AWS_CONTAINER_CREDENTIALS_FULL_URI is an endpoint the SDKs accept", src))
				continue
			}
			out = append(out, fail(obj, "The SDKs refuse AWS_CONTAINER_CREDENTIALS_FULL_URI "+uri+": "+problem+" (Go v2: \"invalid endpoint host, only loopback/ecs/eks hosts are allowed\")",
				[]Evidence{src},
				setEnvCommand(pf, c, facts.EnvContainerCredentialsFull+"-")+"  # for EKS Pod Identity the webhook sets "+facts.PodIdentityFullURI+" itself; otherwise use https or a loopback host"))
		}
	}
	return out
}

var (
	proxyVars   = []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"}
	noProxyVars = []string{"NO_PROXY", "no_proxy"}
)

// checkAgentProxy flags a proxy that would carry the SDK's request to the
// node-local agent: it must be exempted in NO_PROXY
// (docs/behaviour.md#pod-identity-restrictions).
func checkAgentProxy(_ *Input, subj *facts.Subject) []Finding {
	var out []Finding
	for _, pf := range subj.Pods {
		for _, c := range facts.Containers(pf.Pod) {
			if !facts.UsesPodIdentity(c.Container) {
				continue
			}
			var proxies []Evidence
			for _, name := range proxyVars {
				if origin := envOrigin(pf, c, name); origin != "" {
					proxies = append(proxies, ev(name, "<set>", containerField(c, origin)))
				}
			}
			if len(proxies) == 0 {
				continue
			}
			obj := containerRef(pf.Pod, c)
			exempt, unreadable, noProxy := noProxyExempts(pf, c)
			evs := append(slices.Clip(proxies), noProxy...)
			switch {
			case exempt:
				out = append(out, pass(obj, "NO_PROXY exempts the Pod Identity agent "+facts.PodIdentityAgentAddress, evs...))
			case unreadable != "":
				out = append(out, unknown(obj, "Could not tell whether NO_PROXY exempts the Pod Identity agent: "+unreadable,
					"make sure NO_PROXY and no_proxy list "+facts.PodIdentityAgentAddress, evs...))
			default:
				out = append(out, fail(obj, "Container uses EKS Pod Identity behind a proxy, but NO_PROXY does not list "+facts.PodIdentityAgentAddress+": the SDK may send its credential request to the proxy, which cannot reach the node's agent",
					evs, setEnvCommand(pf, c, "NO_PROXY="+noProxyWith(c, "NO_PROXY")+" no_proxy="+noProxyWith(c, "no_proxy"))))
			}
		}
	}
	return out
}

// noProxyExempts reads NO_PROXY and no_proxy: whether an entry covers the
// agent's address (the address, "*" or a CIDR block holding it), or why the
// values cannot be read.
func noProxyExempts(pf facts.PodFacts, c facts.Container) (exempt bool, unreadable string, evs []Evidence) {
	agent := net.ParseIP(facts.PodIdentityAgentAddress)
	for _, name := range noProxyVars {
		origin := envOrigin(pf, c, name)
		if origin == "" {
			continue
		}
		v, set, fromRef := facts.EnvValue(c.Container, name)
		if !set || fromRef || v == facts.RedactedEnvValue {
			if !set || fromRef {
				unreadable = name + " comes from " + origin + ", whose value is not read"
			} else {
				unreadable = name + " was not kept in the snapshot"
			}
			evs = append(evs, ev(name, "<not read>", containerField(c, origin)))
			continue
		}
		evs = append(evs, ev(name, v, containerField(c, "env")))
		for _, entry := range strings.Split(v, ",") {
			entry = strings.TrimSpace(entry)
			if host, _, err := net.SplitHostPort(entry); err == nil {
				entry = host
			}
			if entry == "*" {
				return true, "", evs
			}
			if ip := net.ParseIP(entry); ip != nil && ip.Equal(agent) {
				return true, "", evs
			}
			if _, block, err := net.ParseCIDR(entry); err == nil && block.Contains(agent) {
				return true, "", evs
			}
		}
	}
	return false, unreadable, evs
}

// noProxyWith is the container's literal value of name with the agent's
// address added.
func noProxyWith(c facts.Container, name string) string {
	v, set, fromRef := facts.EnvValue(c.Container, name)
	if !set || fromRef || strings.TrimSpace(v) == "" || v == facts.RedactedEnvValue {
		return facts.PodIdentityAgentAddress
	}
	return shellQuote(facts.PodIdentityAgentAddress + "," + v)
}

// checkPodIdentityTokenAudience judges the token the SDK sends to the agent:
// EKS Auth accepts only audience pods.eks.amazonaws.com
// (docs/behaviour.md#pod-identity-injection). The token is the
// eks-pod-identity-token volume's, or whichever projected volume serves the
// file AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE names.
func checkPodIdentityTokenAudience(_ *Input, subj *facts.Subject) []Finding {
	var out []Finding
	for _, pf := range subj.Pods {
		p := pf.Pod
		volumes := map[string]string{} // volume → where it was found
		if v, tok := facts.PodIdentityTokenVolume(p); v != nil && tok != nil {
			volumes[v.Name] = "pod.spec.volumes[" + v.Name + "]"
		}
		if !facts.IsWindows(p) {
			for _, c := range facts.Containers(p) {
				file, set, fromRef := facts.EnvValue(c.Container, facts.EnvContainerAuthTokenFile)
				if !set || fromRef {
					continue
				}
				if vol, ok := projectedTokenFiles(p, c)[path.Clean(file)]; ok {
					if _, seen := volumes[vol]; !seen {
						volumes[vol] = containerField(c, "env") + " " + facts.EnvContainerAuthTokenFile + "=" + file
					}
				}
			}
		}
		names := make([]string, 0, len(volumes))
		for n := range volumes {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			aud, ok := projectedAudience(p, name)
			if !ok {
				continue
			}
			src := ev("token audience", aud, "pod.spec.volumes["+name+"].projected.sources.serviceAccountToken.audience")
			found := ev("token volume", name, volumes[name])
			if aud == facts.PodIdentityAudience {
				out = append(out, pass(podRef(p), "The Pod Identity token's audience is "+facts.PodIdentityAudience, src, found))
				continue
			}
			shown := fmt.Sprintf("%q", aud)
			if aud == "" {
				shown = "empty (the token then carries the API server's own audience)"
			}
			out = append(out, fail(podRef(p), "The Pod Identity token in volume "+name+" has audience "+shown+", but the agent and EKS Auth accept only "+facts.PodIdentityAudience+": every credential fetch is refused",
				[]Evidence{src, found},
				"set audience: "+facts.PodIdentityAudience+" on volume "+name+" in "+ownerText(pf)+" (or remove the hand-made volume and "+facts.EnvContainerAuthTokenFile+" so that the webhook adds its own), then "+RestartCommand(pf)))
		}
	}
	return out
}

// projectedAudience is the audience of the volume's service-account token
// source.
func projectedAudience(p *corev1.Pod, volume string) (string, bool) {
	for _, v := range p.Spec.Volumes {
		if v.Name != volume || v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			if src.ServiceAccountToken != nil {
				return src.ServiceAccountToken.Audience, true
			}
		}
	}
	return "", false
}
