package facts

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// How a pod spec shows EKS Pod Identity (docs/behaviour.md#pod-identity-injection)
// and where a pod runs (docs/behaviour.md#pod-identity-restrictions).
const (
	// PodIdentityTokenPath is the AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
	// the webhook injects on Linux.
	PodIdentityTokenPath = PodIdentityMountPath + "/" + PodIdentityVolumeName
	// FargateScheduler is the scheduler EKS gives pods that a Fargate
	// profile selects.
	FargateScheduler = "fargate-scheduler"
	// LabelFargateProfile is the label EKS puts on Fargate pods.
	LabelFargateProfile = "eks.amazonaws.com/fargate-profile"
	// RedactedEnvValue is what a snapshot holds in place of an env value it
	// does not keep (every literal value but those of the AWS_ variables
	// that hold no credential; pkg/pipeline writes it): such a value cannot
	// be judged.
	RedactedEnvValue = "<redacted>"
)

// IsPodIdentityAgentURI reports whether an AWS_CONTAINER_CREDENTIALS_FULL_URI
// value is the eks-pod-identity-agent: http, 169.254.170.23 or
// [fd00:ec2::23], port 80 (docs/behaviour.md#pod-identity-flow).
func IsPodIdentityAgentURI(uri string) bool {
	u, err := url.Parse(strings.TrimSpace(uri))
	if err != nil || u.Scheme != "http" {
		return false
	}
	if p := u.Port(); p != "" && p != "80" {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && (ip.Equal(net.ParseIP(PodIdentityAgentAddress)) || ip.Equal(net.ParseIP(PodIdentityAgentIPv6)))
}

// UsesPodIdentity reports whether the container's own env points the SDK's
// container credential provider at the Pod Identity agent.
func UsesPodIdentity(c corev1.Container) bool {
	v, set, fromRef := EnvValue(c, EnvContainerCredentialsFull)
	return set && !fromRef && IsPodIdentityAgentURI(v)
}

// PodUsesPodIdentity reports whether some container of the pod uses Pod Identity.
func PodUsesPodIdentity(pod *corev1.Pod) bool {
	for _, c := range Containers(pod) {
		if UsesPodIdentity(c.Container) {
			return true
		}
	}
	return false
}

// ContainerEndpointProblem says why the SDKs refuse an
// AWS_CONTAINER_CREDENTIALS_FULL_URI, or "" when they accept it. Over http
// the host must be a loopback address or exactly 169.254.170.2,
// 169.254.170.23 or fd00:ec2::23; over https any host will do
// (docs/behaviour.md#sdk-credential-chain). Of host names only localhost
// is accepted everywhere: botocore compares the name itself, and Go v2
// accepts another only when every address it resolves to is allowed.
func ContainerEndpointProblem(uri string) string {
	u, err := url.Parse(strings.TrimSpace(uri))
	if err != nil {
		return "it is not a URL: " + err.Error()
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
	default:
		return "its scheme is " + strconv.Quote(u.Scheme) + "; only http and https are used"
	}
	host := u.Hostname()
	switch {
	case host == "":
		return "it names no host"
	case strings.EqualFold(host, "localhost"):
		return ""
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return "its host " + host + " is a name: over http botocore accepts no name but localhost, and Go v2 one only if every address it resolves to is a loopback address or 169.254.170.2, 169.254.170.23 or fd00:ec2::23"
	}
	for _, ok := range []string{"169.254.170.2", PodIdentityAgentAddress, PodIdentityAgentIPv6} {
		if ip.Equal(net.ParseIP(ok)) {
			return ""
		}
	}
	if ip.IsLoopback() {
		return ""
	}
	return "over http the SDKs accept only loopback hosts and 169.254.170.2, 169.254.170.23 or fd00:ec2::23, not " + host
}

// PodIdentityTokenVolume returns the pod's eks-pod-identity-token projected
// service-account token source, if any.
func PodIdentityTokenVolume(pod *corev1.Pod) (*corev1.Volume, *corev1.ServiceAccountTokenProjection) {
	return projectedTokenVolume(pod, PodIdentityVolumeName)
}

// PodIdentityMutated reports whether the webhook gave the pod Pod Identity:
// the eks-pod-identity-token volume, or a container pointed at the agent.
func PodIdentityMutated(pod *corev1.Pod) bool {
	if v, _ := PodIdentityTokenVolume(pod); v != nil {
		return true
	}
	return PodUsesPodIdentity(pod)
}

// FargateReason says why the pod runs on Fargate, or "" when nothing says
// so: its scheduler, its node's name or the label EKS puts on Fargate pods.
func FargateReason(pod *corev1.Pod) string {
	switch {
	case pod.Spec.SchedulerName == FargateScheduler:
		return "spec.schedulerName is " + FargateScheduler
	case strings.HasPrefix(pod.Spec.NodeName, "fargate-"):
		return "it runs on node " + pod.Spec.NodeName
	}
	if p, ok := pod.Labels[LabelFargateProfile]; ok {
		return "it carries the label " + LabelFargateProfile + "=" + p
	}
	return ""
}

// podIdentityMinPlatform is the lowest EKS platform version, per Kubernetes
// minor version of 1.x, that supports Pod Identity; later minors all do
// (docs/behaviour.md#pod-identity-cluster-versions).
var podIdentityMinPlatform = map[int]int{24: 13, 25: 10, 26: 9, 27: 8, 28: 4, 29: 1, 30: 2, 31: 4}

// PodIdentityClusterSupport judges a cluster's Kubernetes and platform
// versions ("1.28", "eks.4"): supported, the minimum that applies
// ("1.28 eks.4", "1.24"), and known false when a version cannot be read.
func PodIdentityClusterSupport(version, platform string) (supported bool, minimum string, known bool) {
	major, minorText, ok := strings.Cut(strings.TrimSpace(version), ".")
	minor, err := strconv.Atoi(minorText)
	if !ok || major != "1" || err != nil {
		return false, "", false
	}
	want, listed := podIdentityMinPlatform[minor]
	switch {
	case minor < 24:
		return false, "1.24", true
	case !listed:
		return true, "", true
	}
	minimum = "1." + minorText + " eks." + strconv.Itoa(want)
	got, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(platform), "eks."))
	if err != nil || !strings.HasPrefix(strings.TrimSpace(platform), "eks.") {
		return false, minimum, false
	}
	return got >= want, minimum, true
}

// AgentBindsIPv6 reports whether the agent's command line lets it bind its
// IPv6 address: it binds 169.254.170.23 and [fd00:ec2::23] unless
// --bind-hosts (-b) names only IPv4 hosts, and it exits when a bind fails
// (docs/behaviour.md#pod-identity-agent-ipv6). hosts are the bind hosts
// the arguments name, nil for the default.
func AgentBindsIPv6(args []string) (binds bool, hosts []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		var v string
		switch {
		case a == "-b" || a == "--bind-hosts":
			if i+1 >= len(args) {
				continue
			}
			i++
			v = args[i]
		case strings.HasPrefix(a, "--bind-hosts="):
			v = strings.TrimPrefix(a, "--bind-hosts=")
		case strings.HasPrefix(a, "-b=") || (strings.HasPrefix(a, "-b") && len(a) > 2 && !strings.HasPrefix(a, "--")):
			v = strings.TrimPrefix(strings.TrimPrefix(a, "-b"), "=")
		default:
			continue
		}
		hosts = append(hosts, v)
	}
	if len(hosts) == 0 {
		return true, nil
	}
	for _, h := range hosts {
		h = strings.Trim(h, "[]")
		if ip := net.ParseIP(h); ip == nil || ip.To4() == nil {
			return true, hosts
		}
	}
	return false, hosts
}
