package diag_test

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

// The EKS Pod Identity world: service account shop/app without an
// annotation, associated with piRole in cluster prod, the agent on every
// node, and pods the webhook gave Pod Identity.
const (
	piRole       = "arn:aws:iam::111122223333:role/pi-app"
	piTarget     = "arn:aws:iam::444455556666:role/pi-target"
	piCluster    = "prod"
	piClusterARN = "arn:aws:eks:us-west-2:111122223333:cluster/prod"
	piExternalID = "ext-1234"
)

// piTrust is the documented Pod Identity trust policy with extra statement
// text (a Condition block) spliced in.
func piTrust(condition string) string {
	c := ""
	if condition != "" {
		c = `,"Condition":` + condition
	}
	return `{"Version":"2012-10-17","Statement":[{"Sid":"AllowEksAuthToAssumeRoleForPodIdentity","Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]` + c + `}]}`
}

// podIdentityPod is a pod the webhook mutated for Pod Identity
// (docs/behaviour.md#pod-identity-injection), its token of audience aud.
func podIdentityPod(name, aud string) *corev1.Pod {
	p := pod(name, "app").
		Env("app", facts.EnvContainerCredentialsFull, facts.PodIdentityFullURI).
		Env("app", facts.EnvContainerAuthTokenFile, facts.PodIdentityTokenPath).
		Mount("app", facts.PodIdentityVolumeName, facts.PodIdentityMountPath).Build()
	return withTokenVolume(p, facts.PodIdentityVolumeName, aud, facts.PodIdentityVolumeName)
}

// withTokenVolume adds a projected service-account token volume.
func withTokenVolume(p *corev1.Pod, name, aud, file string) *corev1.Pod {
	exp := int64(86400)
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Audience: aud, ExpirationSeconds: &exp, Path: file}}}}}})
	return p
}

// piAWS is the AWS side of a healthy Pod Identity world.
func piAWS() *facts.AWSFacts {
	return &facts.AWSFacts{
		Caller:         facts.Caller{Account: "111122223333"},
		ClusterAccount: "111122223333",
		Cluster:        &facts.Cluster{Name: piCluster, Region: "us-west-2", ARN: piClusterARN, Version: "1.30", PlatformVersion: "eks.5", IPFamily: "ipv4"},
		Roles: map[string]facts.Role{piRole: {ARN: piRole, Name: "pi-app", Path: "/", Found: true, TrustPolicy: piTrust(""),
			AttachedPolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}}},
		PodIdentity: &facts.PodIdentityFacts{Cluster: piCluster, Namespaces: []string{ns}, Associations: []facts.PodIdentityAssociation{piAssociation()}},
	}
}

func piAssociation() facts.PodIdentityAssociation {
	return facts.PodIdentityAssociation{ID: "a-1", Namespace: ns, ServiceAccount: "app", Described: true, RoleARN: piRole, CreatedAt: testutil.T0}
}

func piAgent() *facts.PodIdentityAgent {
	return &facts.PodIdentityAgent{Found: true, Image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/eks-pod-identity-agent:v0.1.37", Version: "v0.1.37",
		Args:        []string{"/go-runner", "/eks-pod-identity-agent", "server", "--port", "80", "--cluster-name", piCluster, "-b", facts.PodIdentityAgentAddress},
		HostNetwork: true, Desired: 3, Ready: 3, Available: 3}
}

// piScenario is the healthy Pod Identity world with pods, its snapshot
// edited by edit.
func piScenario(pods []*corev1.Pod, edit func(*facts.Snapshot)) *facts.Snapshot {
	sc := scenario{sa: sa("app").Build(), pods: pods, mutate: func(s *facts.Snapshot) {
		s.AWS = piAWS()
		s.PodIdentityAgent = piAgent()
		if edit != nil {
			edit(s)
		}
	}}
	return sc.snapshot()
}

func healthyPI() *facts.Snapshot {
	return piScenario([]*corev1.Pod{podIdentityPod("web", facts.PodIdentityAudience)}, nil)
}

// setEnv sets a literal env var on the pod's first container.
func setEnv(p *corev1.Pod, k, v string) {
	c := &p.Spec.Containers[0]
	for i := range c.Env {
		if c.Env[i].Name == k {
			c.Env[i].Value = v
			return
		}
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: k, Value: v})
}
