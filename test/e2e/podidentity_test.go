//go:build e2e

package e2e

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/webhook"
)

// The EKS cluster the Pod Identity scenarios name with --cluster; its fake
// lives in the scenario's account A, in us-west-2.
const (
	eksCluster    = "e2e"
	eksClusterARN = "arn:aws:eks:us-west-2:" + acctA + ":cluster/" + eksCluster
)

// eksFlags point diagnose at the scenario's EKS cluster.
var eksFlags = []string{"--cluster", eksCluster}

// liveAssociations is what the suite's webhook knows of Pod Identity
// associations, as the EKS control plane keeps the real webhook's
// container-credentials file up to date: the union of every scenario's
// fake, each world's share replaced whenever its associations change.
type liveAssociations struct {
	mu      sync.Mutex
	byWorld map[string][]webhook.Association
	set     *webhook.AssociationSet
}

func newLiveAssociations() *liveAssociations {
	return &liveAssociations{byWorld: map[string][]webhook.Association{}, set: webhook.NewAssociationSet()}
}

func (l *liveAssociations) update(world string, as []fakeaws.Association) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var mine []webhook.Association
	for _, a := range as {
		mine = append(mine, webhook.Association{Namespace: a.Namespace, ServiceAccount: a.ServiceAccount})
	}
	l.byWorld[world] = mine
	var all []webhook.Association
	for _, k := range sortedWorlds(l.byWorld) {
		all = append(all, l.byWorld[k]...)
	}
	l.set.Set(all)
}

func sortedWorlds(m map[string][]webhook.Association) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// eks makes the scenario's AWS an EKS cluster of kubernetes version and
// platform, whose issuer is the API server's, seen by credentials of
// account A; the webhook follows the world's associations from now on.
func (w *world) eks(version, platform string) {
	w.t.Helper()
	w.aws.SetCaller(fakeaws.Caller{ARN: "arn:aws:iam::" + acctA + ":user/e2e"})
	w.aws.AddCluster(fakeaws.Cluster{Name: eksCluster, ARN: eksClusterARN, Version: version, PlatformVersion: platform, Issuer: w.issuer})
	stop := w.aws.OnAssociationsChanged(func(as []fakeaws.Association) { w.associations.update(w.ns, as) })
	w.t.Cleanup(func() {
		stop()
		w.associations.update(w.ns, nil)
	})
}

// podIdentityTrust is the trust statement the EKS console writes for Pod
// Identity; actions default to sts:AssumeRole and sts:TagSession.
func podIdentityTrust(cond map[string]map[string]any, actions ...string) statement {
	if len(actions) == 0 {
		actions = []string{"sts:AssumeRole", "sts:TagSession"}
	}
	st := statement{"Effect": "Allow", "Principal": map[string]any{"Service": facts.PodIdentityServicePrincipal}, "Action": actions}
	if cond != nil {
		st["Condition"] = cond
	}
	return st
}

// podIdentityRole creates role name in account A trusted by Pod Identity
// (statements default to podIdentityTrust) with a permission policy.
func (w *world) podIdentityRole(name string, sts ...statement) string {
	if len(sts) == 0 {
		sts = []statement{podIdentityTrust(nil)}
	}
	return w.role(acctA, name, w.policy(sts...))
}

// associate creates the association of service account sa with roleARN,
// edited by edit when given.
func (w *world) associate(sa, roleARN string, edit func(*fakeaws.Association)) fakeaws.Association {
	a := fakeaws.Association{ClusterName: eksCluster, Namespace: w.ns, ServiceAccount: sa, RoleARN: roleARN}
	if edit != nil {
		edit(&a)
	}
	return w.aws.AddAssociation(a)
}

// healthyPodIdentity is a service account sa (no annotation) associated with
// a role that trusts Pod Identity, on a cluster that supports it.
func (w *world) healthyPodIdentity(sa, role string) string {
	w.eks("1.31", "eks.4")
	arn := w.podIdentityRole(role)
	w.associate(sa, arn, nil)
	w.sa(w.newSA(sa))
	return arn
}

// assertPodIdentityMutated fails unless the webhook gave the pod's
// containers the Pod Identity variables and token.
func assertPodIdentityMutated(w *world, pod *corev1.Pod) {
	w.t.Helper()
	if !facts.PodIdentityMutated(pod) {
		w.t.Fatalf("pod %s was not given Pod Identity by the webhook: %+v", pod.Name, pod.Spec.Containers[0].Env)
	}
}

// credsMessage is the CREDS-001 message of container on pod.
func credsMessage(w *world, fs []finding, pod, container string) string {
	w.t.Helper()
	for _, f := range fs {
		if f.ID == "CREDS-001" && f.Object.Name == pod && f.Object.Container == container {
			return f.Message
		}
	}
	w.t.Fatalf("no CREDS-001 finding for %s[%s]", pod, container)
	return ""
}

func podIdentityScenarios() []scenario {
	return []scenario{
		{name: "Pod Identity: healthy, the container gets the association's role", ns: "e2e-pi-healthy", code: 0, flags: eksFlags,
			setup: func(w *world) string {
				arn := w.healthyPodIdentity("app", "pi-app")
				assertPodIdentityMutated(w, w.pod(w.newPod("web", "app").Container("sidecar")))
				w.t.Logf("role %s", arn)
				return ""
			},
			check: func(w *world, fs []finding) {
				for _, c := range []string{"app", "sidecar"} {
					mentions(w.t, finding{ID: "CREDS-001"}, "message", credsMessage(w, fs, "web", c), "Pod Identity")
					mentions(w.t, finding{ID: "CREDS-001"}, "message", credsMessage(w, fs, "web", c), "role/pi-app")
				}
				for _, f := range fs {
					if strings.HasPrefix(f.ID, "IRSA-") && f.Status != "pass" {
						w.t.Errorf("an IRSA check misreads a Pod Identity pod: %s %s: %s", f.ID, f.Status, f.Message)
					}
				}
			}},
		{name: "Pod Identity: --probe presents a pod-bound token to EKS Auth", ns: "e2e-pi-probe", code: 0, flags: append([]string{"--probe", "--show-passed"}, eksFlags...),
			setup: func(w *world) string {
				w.healthyPodIdentity("app", "pi-app")
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "PODID-PROBE-001", "pass")
				var evs []string
				for _, e := range f.Evidence {
					evs = append(evs, e.Key+"="+e.Value)
				}
				mentions(w.t, f, "evidence", strings.Join(evs, " "), "assumed role=arn:aws:sts::"+acctA+":assumed-role/pi-app/eks-"+eksCluster+"-web-")
				mentions(w.t, f, "evidence", strings.Join(evs, " "), "kubernetes-namespace=e2e-pi-probe")
				if w.aws.Count("eks-auth:AssumeRoleForPodIdentity") != 1 {
					w.t.Errorf("EKS Auth calls: %d, want 1", w.aws.Count("eks-auth:AssumeRoleForPodIdentity"))
				}
			}},
		{name: "Pod Identity: --probe without eks-auth:AssumeRoleForPodIdentity is unknown", ns: "e2e-pi-probe-denied", code: 0,
			flags: append([]string{"--probe"}, eksFlags...), unknown: []string{"PODID-PROBE-001"},
			setup: func(w *world) string {
				w.healthyPodIdentity("app", "pi-app")
				w.aws.Fail("eks-auth:AssumeRoleForPodIdentity", "", "AccessDeniedException",
					"User: arn:aws:iam::"+acctA+":user/e2e is not authorized to perform: eks-auth:AssumeRoleForPodIdentity on resource: "+eksClusterARN, 0)
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			}},
		{name: "Pod Identity: the association came after the pod", ns: "e2e-pi-late", fail: []string{"PODID-ASSOC-001"}, code: 2, flags: eksFlags,
			setup: func(w *world) string {
				w.eks("1.31", "eks.4")
				w.sa(w.newSA("app"))
				_, pods := w.deploymentRS("web", "app", 1)
				// Associations are dated to the second, like the pod.
				time.Sleep(time.Until(pods[0].CreationTimestamp.Add(1100 * time.Millisecond)))
				w.associate("app", w.podIdentityRole("pi-app"), nil)
				return ""
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "PODID-ASSOC-001", "fail")
				mentions(w.t, f, "message", f.Message, "before")
				mentions(w.t, f, "remediation", f.Remediation, "kubectl rollout restart deployment/web -n e2e-pi-late")
			}},
		{name: "Pod Identity: the pod's association was deleted", ns: "e2e-pi-deleted", fail: []string{"PODID-ASSOC-002"}, code: 2, flags: eksFlags,
			setup: func(w *world) string {
				w.eks("1.31", "eks.4")
				w.sa(w.newSA("app"))
				a := w.associate("app", w.podIdentityRole("pi-app"), nil)
				assertPodIdentityMutated(w, w.pod(w.newPod("web", "app")))
				w.aws.DeleteAssociation(a.ID)
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "PODID-ASSOC-002", "fail")
				mentions(w.t, f, "message", f.Message, "ResourceNotFoundException")
			}},
		{name: "Pod Identity: an association for a service account that does not exist", ns: "e2e-pi-nosa", fail: []string{"PODID-ASSOC-003"}, code: 0, flags: eksFlags,
			setup: func(w *world) string {
				w.eks("1.31", "eks.4")
				w.associate("ghost", w.podIdentityRole("pi-app"), nil)
				return ""
			}},
		{name: "Pod Identity: a Fargate pod gets no Pod Identity", ns: "e2e-pi-fargate", fail: []string{"PODID-ASSOC-001"}, code: 2, flags: eksFlags,
			setup: func(w *world) string {
				w.healthyPodIdentity("app", "pi-app")
				// The webhook mutates it (it cannot tell); EKS Fargate has no
				// agent, so the pod is built as Fargate's admission leaves it.
				w.pod(w.newPod("web", "app").SchedulerName("fargate-scheduler").Label(webhook.LabelSkipWebhook, "true"))
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "PODID-ASSOC-001", "fail")
				mentions(w.t, f, "message", f.Message, "Fargate")
			}},
		{name: "Pod Identity: a hostNetwork pod", ns: "e2e-pi-hostnet", fail: []string{"PODID-AGENT-003"}, code: 0, flags: eksFlags,
			setup: func(w *world) string {
				w.healthyPodIdentity("app", "pi-app")
				assertPodIdentityMutated(w, w.pod(w.newPod("web", "app").HostNetwork()))
				return "pod/web"
			}},
		{name: "Pod Identity: the association's role does not exist", ns: "e2e-pi-norole", fail: []string{"PODID-ROLE-001"}, code: 2, flags: eksFlags,
			setup: func(w *world) string {
				w.eks("1.31", "eks.4")
				w.sa(w.newSA("app"))
				w.associate("app", "arn:aws:iam::"+acctA+":role/deleted", nil)
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			}},
		{name: "Pod Identity: the trust policy lacks sts:TagSession", ns: "e2e-pi-notag", fail: []string{"PODID-TRUST-001"}, code: 2, flags: eksFlags,
			setup: func(w *world) string {
				w.eks("1.31", "eks.4")
				w.sa(w.newSA("app"))
				w.associate("app", w.podIdentityRole("pi-app", podIdentityTrust(nil, "sts:AssumeRole")), nil)
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "PODID-TRUST-001", "fail")
				mentions(w.t, f, "message", f.Message, "sts:TagSession")
				w.crossCheckEKSAuth("app", "AccessDeniedException")
			}},
		{name: "Pod Identity: no sts:TagSession needed with session tags disabled", ns: "e2e-pi-notags-ok", code: 0, flags: eksFlags,
			setup: func(w *world) string {
				w.eks("1.31", "eks.4")
				w.sa(w.newSA("app"))
				w.associate("app", w.podIdentityRole("pi-app", podIdentityTrust(nil, "sts:AssumeRole")), func(a *fakeaws.Association) { a.DisableSessionTags = true })
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			},
			check: func(w *world, fs []finding) { w.crossCheckEKSAuth("app", "") }},
		{name: "Pod Identity: an ABAC condition excludes the namespace", ns: "e2e-pi-abac", fail: []string{"PODID-TRUST-001"}, code: 2, flags: eksFlags,
			setup: func(w *world) string {
				w.eks("1.31", "eks.4")
				w.sa(w.newSA("app"))
				w.associate("app", w.podIdentityRole("pi-app", podIdentityTrust(map[string]map[string]any{
					"StringEquals": {"aws:RequestTag/kubernetes-namespace": "payments"}})), nil)
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "PODID-TRUST-001", "fail")
				mentions(w.t, f, "message", f.Message+" "+f.Remediation, "kubernetes-namespace")
				w.crossCheckEKSAuth("app", "AccessDeniedException")
			}},
		{name: "Pod Identity: the cross-account target role ignores the external ID", ns: "e2e-pi-target", fail: []string{"PODID-TRUST-002"}, code: 2, flags: eksFlags,
			setup: func(w *world) string {
				w.eks("1.31", "eks.4")
				w.sa(w.newSA("app"))
				src := w.podIdentityRole("pi-app")
				// The target would sit in another account; the plugin reads
				// IAM in one account only, so both are in A here.
				target := w.role(acctA, "data", w.policy(statement{"Effect": "Allow",
					"Principal": map[string]any{"AWS": src}, "Action": []string{"sts:AssumeRole", "sts:TagSession"},
					"Condition": map[string]map[string]any{"StringEquals": {"sts:ExternalId": "not-the-association-id"}}}))
				w.associate("app", src, func(a *fakeaws.Association) { a.TargetRoleARN = target })
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			},
			check: func(w *world, fs []finding) { w.crossCheckEKSAuth("app", "AccessDeniedException") }},
		{name: "Pod Identity: one service account with an IRSA role and an association", ns: "e2e-pi-mixed", fail: []string{"PODID-MIX-001"}, code: 0,
			flags: append([]string{"--show-passed"}, eksFlags...),
			setup: func(w *world) string {
				w.eks("1.31", "eks.4")
				w.healthy(acctA, "irsa-app", "app")
				w.irsaSA("app", "arn:aws:iam::"+acctA+":role/irsa-app")
				old := w.pod(w.newPod("old", "app"))
				time.Sleep(time.Until(old.CreationTimestamp.Add(1100 * time.Millisecond)))
				w.associate("app", w.podIdentityRole("pi-app"), nil)
				assertPodIdentityMutated(w, w.pod(w.newPod("new", "app")))
				return "sa/app"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "PODID-MIX-001", "fail")
				mentions(w.t, f, "message", f.Message, "irsa-app")
				mentions(w.t, f, "message", f.Message, "pi-app")
				mentions(w.t, finding{ID: "CREDS-001"}, "message", credsMessage(w, fs, "old", "app"), "IRSA")
				mentions(w.t, finding{ID: "CREDS-001"}, "message", credsMessage(w, fs, "new", "app"), "Pod Identity")
			}},
		{name: "Pod Identity: a cluster that mixes both mechanisms is healthy", ns: "e2e-pi-both", code: 0, flags: append([]string{"--show-passed"}, eksFlags...),
			setup: func(w *world) string {
				w.healthyPodIdentity("api", "pi-api")
				w.irsaSA("legacy", w.healthy(acctA, "irsa-legacy", "legacy"))
				assertPodIdentityMutated(w, w.pod(w.newPod("api", "api")))
				w.pod(w.newPod("legacy", "legacy"))
				return ""
			},
			check: func(w *world, fs []finding) {
				mentions(w.t, finding{ID: "CREDS-001"}, "message", credsMessage(w, fs, "api", "app"), "Pod Identity")
				mentions(w.t, finding{ID: "CREDS-001"}, "message", credsMessage(w, fs, "legacy", "app"), "IRSA")
			}},
		{name: "Pod Identity: a hand-set FULL_URI the SDKs reject", ns: "e2e-pi-uri", fail: []string{"PODID-ENV-001"}, code: 2, flags: eksFlags,
			setup: func(w *world) string {
				// No association: the manifest points the SDK at its own
				// endpoint, by plain http to an address the SDKs refuse.
				w.eks("1.31", "eks.4")
				w.sa(w.newSA("app"))
				w.pod(w.newPod("web", "app").Env("app", facts.EnvContainerCredentialsFull, "http://10.1.2.3/v1/credentials"))
				return "pod/web"
			}},
		{name: "Pod Identity: a proxy without the agent in NO_PROXY", ns: "e2e-pi-proxy", fail: []string{"PODID-ENV-002"}, code: 0, flags: eksFlags,
			setup: func(w *world) string {
				w.healthyPodIdentity("app", "pi-app")
				assertPodIdentityMutated(w, w.pod(w.newPod("web", "app").Env("app", "HTTPS_PROXY", "http://proxy.corp:3128").Env("app", "NO_PROXY", "localhost,.svc")))
				return "pod/web"
			}},
		{name: "Pod Identity: a token volume with the IRSA audience", ns: "e2e-pi-aud", fail: []string{"PODID-TOKEN-001"}, code: 2, flags: eksFlags,
			setup: func(w *world) string {
				w.healthyPodIdentity("app", "pi-app")
				w.pod(w.newPod("web", "app").Label(webhook.LabelSkipWebhook, "true").PodIdentityByHand("app", stsAud))
				return "pod/web"
			}},
		{name: "Pod Identity: the cluster is older than Pod Identity", ns: "e2e-pi-old", fail: []string{"PODID-CLUSTER-001"}, code: 2, flags: eksFlags,
			setup: func(w *world) string {
				w.healthyPodIdentity("app", "pi-app")
				w.aws.AddCluster(fakeaws.Cluster{Name: eksCluster, ARN: eksClusterARN, Version: "1.27", PlatformVersion: "eks.7", Issuer: w.issuer})
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			}},
		{name: "Pod Identity: associations cannot be listed", ns: "e2e-pi-list-denied", code: 0, flags: eksFlags,
			unknown: []string{"PODID-ASSOC-002"},
			setup: func(w *world) string {
				w.eks("1.31", "eks.4")
				w.irsaSA("legacy", w.healthy(acctA, "irsa-legacy", "legacy"))
				w.pod(w.newPod("legacy", "legacy"))
				w.sa(w.newSA("app"))
				w.pod(w.newPod("web", "app").Label(webhook.LabelSkipWebhook, "true").
					Env("app", facts.EnvContainerCredentialsFull, facts.PodIdentityFullURI))
				w.aws.Fail("eks:ListPodIdentityAssociations", "", "AccessDeniedException", "", 0)
				return ""
			}},
	}
}

// crossCheckEKSAuth presents an API-server token of sa (audience
// pods.eks.amazonaws.com) to the emulated EKS Auth, which validates it and
// evaluates the role's trust with its own evaluator, and wants code ("" for
// success): the plugin's offline verdict must agree with it.
func (w *world) crossCheckEKSAuth(sa, want string) {
	w.t.Helper()
	got := w.assumeForPodIdentity(sa)
	if got != want {
		w.t.Errorf("emulated EKS Auth says %q, want %q", got, want)
	}
}

// agentScenario changes the suite's agent DaemonSet (kube-system is shared,
// so these run one at a time, after the parallel scenarios), diagnoses a
// healthy Pod Identity service account, and puts the agent back.
type agentScenario struct {
	name  string
	edit  func(ds *appsv1.DaemonSet) (delete bool)
	fail  []string
	code  int
	check func(w *world, fs []finding)
}

func testPodIdentityAgent(t *testing.T, s *suite) {
	for i, sc := range []agentScenario{
		{name: "agent missing", fail: []string{"PODID-AGENT-001"}, code: 2,
			edit: func(*appsv1.DaemonSet) bool { return true }},
		{name: "agent not ready on every node", fail: []string{"PODID-AGENT-001"}, code: 2,
			edit: func(ds *appsv1.DaemonSet) bool { ds.Status.NumberReady, ds.Status.NumberAvailable = 1, 1; return false },
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "PODID-AGENT-001", "fail")
				mentions(w.t, f, "message", f.Message, "1 of 3")
			}},
		// Agent pods that bind [fd00:ec2::23] crash on nodes without IPv6:
		// some not ready, on an IPv4 cluster, is that failure.
		{name: "agent that binds IPv6 on an IPv4 cluster", fail: []string{"PODID-AGENT-001", "PODID-AGENT-002"}, code: 2,
			edit: func(ds *appsv1.DaemonSet) bool {
				c := &ds.Spec.Template.Spec.Containers[0]
				c.Args = slices.DeleteFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--bind-hosts") })
				ds.Status.NumberReady, ds.Status.NumberAvailable = 2, 2
				return false
			}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()
			w := s.newWorld(ctx, t, "e2e-pi-agent-"+string(rune('a'+i)), nil)
			w.healthyPodIdentity("app", "pi-app")
			w.aws.AddCluster(fakeaws.Cluster{Name: eksCluster, ARN: eksClusterARN, Version: "1.31", PlatformVersion: "eks.4", Issuer: w.issuer, IPFamily: "ipv4"})
			w.pod(w.newPod("web", "app"))
			restore := changeAgent(ctx, t, s.cs, sc.edit)
			defer restore()
			snapshot := filepath.Join(t.TempDir(), "snapshot.json")
			out, stderr, code := w.irsa(append([]string{"diagnose", "sa/app", "-n", w.ns, "-o", "json", "--save-snapshot", snapshot}, eksFlags...)...)
			fs := findings(t, out)
			replay(w, snapshot, nil, out, code)
			if code != sc.code {
				t.Errorf("exit code %d, want %d\nstderr: %s", code, sc.code, stderr)
			}
			assertIDs(t, "failing", statusIDs(fs, "fail"), sc.fail, fs)
			if sc.check != nil {
				sc.check(w, fs)
			}
		})
	}
}

// The suite's agent: ready on all of its three nodes, bound to IPv4 only.
const agentImage = "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/eks-pod-identity-agent:v0.1.29"

func agentDaemonSet() *appsv1.DaemonSet {
	labels := map[string]string{"app.kubernetes.io/name": facts.PodIdentityAgentName}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: facts.PodIdentityAgentNamespace, Name: facts.PodIdentityAgentName},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{
					Name: facts.PodIdentityAgentName, Image: agentImage, Command: []string{"/go-runner", "/eks-pod-identity-agent", "server"},
					Args: []string{"--port", "80", "--cluster-name", eksCluster, "--probe-port", "2703", "--bind-hosts=169.254.170.23"},
				}}},
			},
		},
	}
}

// startAgent creates the suite's agent DaemonSet and, standing in for the
// absent kube-controller-manager, its status.
func startAgent(ctx context.Context, t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	ds, err := cs.AppsV1().DaemonSets(facts.PodIdentityAgentNamespace).Create(ctx, agentDaemonSet(), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ds.Status = appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 3, NumberAvailable: 3, UpdatedNumberScheduled: 3}
	if _, err := cs.AppsV1().DaemonSets(facts.PodIdentityAgentNamespace).UpdateStatus(ctx, ds, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// changeAgent applies edit to the agent (deleting it when edit says so) and
// returns what puts the healthy agent back.
func changeAgent(ctx context.Context, t *testing.T, cs kubernetes.Interface, edit func(*appsv1.DaemonSet) bool) func() {
	t.Helper()
	api := cs.AppsV1().DaemonSets(facts.PodIdentityAgentNamespace)
	ds, err := api.Get(ctx, facts.PodIdentityAgentName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	restore := func() {
		if err := api.Delete(context.Background(), facts.PodIdentityAgentName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Error(err)
		}
		startAgent(context.Background(), t, cs)
	}
	if edit(ds) {
		if err := api.Delete(ctx, facts.PodIdentityAgentName, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		return restore
	}
	status := ds.Status
	if ds, err = api.Update(ctx, ds, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ds.Status = status
	if _, err := api.UpdateStatus(ctx, ds, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	return restore
}
