//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/eksauth"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/e2e/controlplane"
	"github.com/kubectl-irsa/kubectl-irsa/test/e2e/pki"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/harness"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
	"github.com/kubectl-irsa/kubectl-irsa/test/webhook"
)

// Accounts of the scenarios: the cluster's (A) and another one (B).
const (
	acctA = "111122223333"
	acctB = "444455556666"

	// excludeLabel switches the webhook off for a pod (objectSelector) or a
	// namespace (namespaceSelector) when set to "off". The registration adds
	// these selectors on top of the reference manifest's so the suite can
	// produce IRSA-WEBHOOK-002 the way a real cluster's operators do.
	excludeLabel = "irsa-e2e.example.com/webhook"

	// piNamespace/piServiceAccount have an EKS Pod Identity association.
	piNamespace      = "e2e-pod-identity"
	piServiceAccount = "app"

	stsAud = "sts.amazonaws.com"
)

// suite is what all scenarios share: one control plane, one webhook.
type suite struct {
	cp         *controlplane.ControlPlane
	cs         kubernetes.Interface
	pluginDir  string
	cacheDir   string
	issuer     string // https://127.0.0.1:PORT
	issuerHost string // 127.0.0.1:PORT, the IAM provider URL
	thumbprint string // SHA-1 of the last certificate the issuer serves
	// associations are the Pod Identity associations the webhook follows.
	associations *liveAssociations
}

// world is one scenario: its own namespace and its own AWS account state,
// served by its own fakeaws listener, so scenarios can run in parallel.
type world struct {
	*suite
	t      *testing.T
	ctx    context.Context
	ns     string
	aws    *fakeaws.Server
	awsURL string
	env    []string // extra environment for the plugin
}

// startSuite brings up the shared parts. Any failure is fatal: a suite that
// cannot start its control plane must fail, never skip.
func startSuite(t *testing.T) *suite {
	t.Helper()
	return startSuiteWith(t, controlplane.Options{})
}

// startSuiteWith is startSuite on a control plane started with opts.
func startSuiteWith(t *testing.T, opts controlplane.Options) *suite {
	t.Helper()
	s := startControlPlane(t, opts)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var err error
	if s.thumbprint, err = pki.LastCertSHA1(ctx, s.issuerHost); err != nil {
		t.Fatal(err)
	}
	startScenarioWebhook(ctx, t, s.cs, s.associations.set)
	startAgent(ctx, t, s.cs)
	return s
}

// startControlPlane builds the plugin and starts the control plane, whose
// issuer the plugin discovers; no webhook, no agent.
func startControlPlane(t *testing.T, opts controlplane.Options) *suite {
	t.Helper()
	s := &suite{pluginDir: buildPlugin(t.Context(), t), cacheDir: t.TempDir(), associations: newLiveAssociations()}
	s.cp = controlplane.MustStart(t.Context(), t, opts)
	cs, err := s.cp.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	s.cs = cs
	s.issuer = s.cp.Issuer
	u, err := url.Parse(s.issuer)
	if err != nil {
		t.Fatalf("issuer %q: %v", s.issuer, err)
	}
	s.issuerHost = u.Host
	return s
}

// startScenarioWebhook runs the webhook the way EKS configures it (a default
// region, regional STS) with one Pod Identity association, registered with
// extra selectors on excludeLabel.
// The scenarios that need the suite's webhook configured for them.
const (
	configMapNamespace = "e2e-configmap-role"
	cacheRaceNamespace = "e2e-cache-race"
	cacheDelay         = 3 * time.Second
)

// customMountLabel selects a namespace for the second webhook of
// customMountWebhook; such a namespace also carries excludeLabel=off, so the
// suite's webhook leaves it alone.
const customMountLabel = "irsa-e2e.example.com/custom-mount"

// customMountWebhook starts, for the scenario's namespace only, a second
// webhook emulator run with --token-mount-path=dir, and removes its
// registration when the scenario ends.
func (w *world) customMountWebhook(dir string) {
	w.t.Helper()
	name := webhook.ConfigurationName + "-" + w.ns
	harness.MustStartWebhook(w.ctx, w.t, w.cs, harness.WebhookOptions{
		Config:         webhook.Config{DefaultRegion: "us-west-2", RegionalSTS: true, MountPath: dir},
		ProbeNamespace: w.ns,
		Edit: func(cfg *admissionregistrationv1.MutatingWebhookConfiguration) {
			cfg.Name = name
			cfg.Webhooks[0].NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{customMountLabel: "on"}}
		},
	})
	w.t.Cleanup(func() {
		if err := w.cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
			w.t.Errorf("remove the second webhook's registration: %v", err)
		}
	})
}

func startScenarioWebhook(ctx context.Context, t *testing.T, cs kubernetes.Interface, associations webhook.AssociationSource) {
	t.Helper()
	harness.MustStartWebhook(ctx, t, cs, harness.WebhookOptions{
		Config: webhook.Config{DefaultRegion: "us-west-2", RegionalSTS: true,
			Associations:      []webhook.Association{{Namespace: piNamespace, ServiceAccount: piServiceAccount}},
			AssociationSource: associations,
			// --watch-config-map, with the ConfigMap in the namespace of the
			// scenario that writes it; and the real webhook's informer cache,
			// behind by cacheDelay, in the race scenario's namespace only.
			WatchConfigMap: true, Namespace: configMapNamespace,
			Cache: &webhook.CacheConfig{Delay: cacheDelay, Namespaces: []string{cacheRaceNamespace}}},
		Edit: func(cfg *admissionregistrationv1.MutatingWebhookConfiguration) {
			off := metav1.LabelSelectorRequirement{Key: excludeLabel, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"off"}}
			wh := &cfg.Webhooks[0]
			wh.ObjectSelector.MatchExpressions = append(wh.ObjectSelector.MatchExpressions, off)
			wh.NamespaceSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{off}}
		},
	})
}

// newWorld creates the scenario's namespace and AWS fake.
func (s *suite) newWorld(ctx context.Context, t *testing.T, ns string, nsLabels map[string]string) *world {
	t.Helper()
	fake := fakeaws.New()
	w := &world{suite: s, t: t, ctx: ctx, ns: ns, aws: fake, awsURL: fakeaws.Serve(t, fake)}
	if _, err := s.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: nsLabels}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return w
}

// --- AWS state ---

func providerARN(acct, host string) string {
	return "arn:aws:iam::" + acct + ":oidc-provider/" + host
}

func (w *world) providerARN(acct string) string { return providerARN(acct, w.issuerHost) }

func (w *world) subject(sa string) string { return "system:serviceaccount:" + w.ns + ":" + sa }

// statement is one trust-policy statement.
type statement map[string]any

func (w *world) webIdentity(acct string, cond map[string]map[string]any) statement {
	st := statement{
		"Effect":    "Allow",
		"Principal": map[string]any{"Federated": w.providerARN(acct)},
		"Action":    "sts:AssumeRoleWithWebIdentity",
	}
	if cond != nil {
		st["Condition"] = cond
	}
	return st
}

// exact is the condition `eksctl create iamserviceaccount` writes.
func (w *world) exact(sa string) map[string]map[string]any {
	return map[string]map[string]any{"StringEquals": {
		w.issuerHost + ":sub": w.subject(sa),
		w.issuerHost + ":aud": stsAud,
	}}
}

func (w *world) policy(sts ...statement) string {
	w.t.Helper()
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": sts})
	if err != nil {
		w.t.Fatalf("trust policy: %v", err)
	}
	return string(b)
}

// healthy gives account acct (also the caller's) a correct provider and the
// role name trusted by sa; it returns the role ARN.
func (w *world) healthy(acct, roleName, sa string) string {
	w.aws.SetCaller(fakeaws.Caller{ARN: "arn:aws:iam::" + acct + ":user/e2e"})
	w.aws.AddProvider(fakeaws.Provider{ARN: w.providerARN(acct), URL: w.issuerHost, ClientIDs: []string{stsAud}, Thumbprints: []string{w.thumbprint}})
	return w.role(acct, roleName, w.policy(w.webIdentity(acct, w.exact(sa))))
}

func (w *world) role(acct, name, trust string) string {
	arn := "arn:aws:iam::" + acct + ":role/" + name
	w.aws.AddRole(fakeaws.Role{ARN: arn, TrustPolicy: trust, AttachedPolicyARNs: []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}})
	return arn
}

// --- Kubernetes state ---

// newSA is service account name of the scenario's namespace. The label makes
// the API server track managedFields from the start, so the plugin can tell
// when an annotation was written (see smoke_test.go).
func (w *world) newSA(name string) *testutil.SA {
	return testutil.NewSA(w.ns, name).Label("app.kubernetes.io/name", name)
}

// sa creates the service account b builds.
func (w *world) sa(b *testutil.SA) {
	w.t.Helper()
	createSA(w.ctx, w.t, w.cs, b)
}

// irsaSA creates service account name with the role-arn annotation.
func (w *world) irsaSA(name, roleARN string) {
	w.sa(w.newSA(name).Annotate(webhook.AnnotationRoleARN, roleARN))
}

// newPod is pod name of the scenario's namespace, running as sa, with one
// container "app".
func (w *world) newPod(name, sa string) *testutil.Pod { return testutil.NewPod(w.ns, name, sa) }

// pod creates the pod b builds and returns it as the API server stored it,
// that is after the webhook's mutation.
func (w *world) pod(b *testutil.Pod) *corev1.Pod {
	w.t.Helper()
	return createPod(w.ctx, w.t, w.cs, b)
}

// deployment creates a Deployment and, standing in for the absent
// kube-controller-manager, its ReplicaSet and n pods linked by owner
// references, which is how the plugin walks from a pod to its workload. The
// template has the named containers (default: one, "app").
func (w *world) deployment(name, sa string, n int, containers ...string) []*corev1.Pod {
	w.t.Helper()
	_, pods := w.deploymentRS(name, sa, n, containers...)
	return pods
}

// deploymentRS is deployment that also returns the ReplicaSet.
func (w *world) deploymentRS(name, sa string, n int, containers ...string) (*appsv1.ReplicaSet, []*corev1.Pod) {
	w.t.Helper()
	d, rs := testutil.Deployment(w.ns, name, sa, containers...)
	clearSystemFields(&d.ObjectMeta)
	d, err := w.cs.AppsV1().Deployments(w.ns).Create(w.ctx, d, metav1.CreateOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	// Named the way the deployment controller names it (a template hash),
	// owned by the Deployment under the UID the API server gave it.
	rs.Name = name + "-7d4b9c"
	rs.Labels = rs.Spec.Template.Labels
	rs.OwnerReferences[0].UID = d.UID
	clearSystemFields(&rs.ObjectMeta)
	rs, err = w.cs.AppsV1().ReplicaSets(w.ns).Create(w.ctx, rs, metav1.CreateOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	var pods []*corev1.Pod
	for i := range n {
		pods = append(pods, w.pod(testutil.PodOf(rs, fmt.Sprintf("%s-7d4b9c-%d", name, i))))
	}
	return rs, pods
}

// annotateLater writes an annotation in a later second than the pod was
// created (managedFields times have one-second resolution).
func (w *world) annotateLater(after *corev1.Pod, obj string, kv ...string) {
	w.t.Helper()
	time.Sleep(time.Until(after.CreationTimestamp.Add(1100 * time.Millisecond)))
	w.kubectl(append([]string{"annotate", "--overwrite", obj, "-n", w.ns}, kv...)...)
}

func (w *world) kubectl(args ...string) string {
	w.t.Helper()
	out, stderr, err := w.cp.Kubectl(w.ctx, args...)
	if err != nil {
		w.t.Fatalf("%v\n%s", err, stderr)
	}
	return out
}

// reader lets user e2e-reader (kubectl --as e2e-reader) read what the
// plugin requires in the namespace, and nothing else: no token minting, no
// webhook configurations, no issuer discovery.
func (w *world) reader() {
	w.t.Helper()
	w.kubectl("create", "role", "reader", "-n", w.ns, "--verb=get,list",
		"--resource=pods,serviceaccounts,replicasets,deployments,jobs,cronjobs,statefulsets,daemonsets")
	w.kubectl("create", "rolebinding", "reader", "-n", w.ns, "--role=reader", "--user=e2e-reader")
}

// --- running the plugin ---

// pluginEnv is the environment kubectl (and so the plugin) runs with: the
// built kubectl and plugin first on PATH, the scenario's AWS fake through the
// standard endpoint variables and dummy keys, and nothing of the machine's
// own AWS or kube configuration.
func (w *world) pluginEnv() []string {
	env := harness.PluginEnv{PluginDir: w.pluginDir, ToolsBin: w.cp.BinDir, Kubeconfig: w.cp.Kubeconfig,
		CacheDir: w.cacheDir, AWSEndpoint: w.awsURL}.Environ()
	return append(env, w.env...)
}

// irsa runs `kubectl irsa ARGS` through the real kubectl's plugin dispatch.
func (w *world) irsa(args ...string) (stdout, stderr string, code int) {
	w.t.Helper()
	return w.runIRSA(w.pluginEnv(), args)
}

// irsaOffline runs `kubectl irsa ARGS` with no cluster and no AWS: the
// kubeconfig does not exist and the AWS endpoint refuses connections.
func (w *world) irsaOffline(args ...string) (stdout, stderr string, code int) {
	w.t.Helper()
	env := harness.PluginEnv{PluginDir: w.pluginDir, ToolsBin: w.cp.BinDir, Kubeconfig: filepath.Join(w.t.TempDir(), "no-kubeconfig"),
		CacheDir: w.cacheDir, AWSEndpoint: "http://127.0.0.1:9"}.Environ()
	return w.runIRSA(env, args)
}

func (w *world) runIRSA(env, args []string) (stdout, stderr string, code int) {
	w.t.Helper()
	cmd := exec.CommandContext(w.ctx, filepath.Join(w.cp.BinDir, "kubectl"), append([]string{"irsa"}, args...)...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), errb.String(), 0
	case errors.As(err, &exit):
		return out.String(), errb.String(), exit.ExitCode()
	default:
		w.t.Fatalf("run kubectl irsa %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		return "", "", -1
	}
}

// secretShapes are what must never be in a snapshot: a JWT (the projected or
// minted token), a PEM private key, the emulator's issued credentials, and
// the values of the scenarios' Secrets and static keys.
var secretShapes = []*regexp.Regexp{
	regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}`),
	regexp.MustCompile(`PRIVATE KEY`),
	regexp.MustCompile(`ASIA[A-Z0-9]{12,}`),
	regexp.MustCompile(`fakeaws-(secret|session)-`),
	regexp.MustCompile(`AKIAIOSFODNN7EXAMPLE|AKIDEXAMPLE`),
	regexp.MustCompile(`wJalrXUtnFEMI`),
	regexp.MustCompile(`not-a-real-secret`),
	regexp.MustCompile(`(?i)"sessionToken"|"secretAccessKey"`),
}

// assertNoSecrets greps a saved snapshot for secretShapes.
func assertNoSecrets(w *world, path string) {
	w.t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		w.t.Fatalf("reading the snapshot: %v", err)
	}
	for _, re := range secretShapes {
		if loc := re.FindIndex(raw); loc != nil {
			from, to := max(0, loc[0]-80), min(len(raw), loc[1]+80)
			w.t.Errorf("snapshot %s holds %s: …%s…", path, re, raw[from:to])
		}
	}
}

// mustLoopback guards the suite's promise that nothing leaves the machine.
func mustLoopback(t *testing.T, rawURL string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsLoopback() {
		t.Fatalf("%s is not a loopback URL", rawURL)
	}
}

// assumeWithAPIServerToken mints a token for sa with the TokenRequest API
// (`kubectl create token`, audience sts.amazonaws.com) and presents it to the
// emulator's sts:AssumeRoleWithWebIdentity, the call the pod's SDK makes. It
// returns "" on success, else STS's error code. The token lives only in
// memory: it is never logged, printed or written to disk.
func (w *world) assumeWithAPIServerToken(sa string) string {
	w.t.Helper()
	got, err := w.cs.CoreV1().ServiceAccounts(w.ns).Get(w.ctx, sa, metav1.GetOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	roleARN := got.Annotations[webhook.AnnotationRoleARN]
	token, stderr, err := w.cp.Kubectl(w.ctx, "create", "token", sa, "-n", w.ns, "--audience", stsAud, "--duration", "10m")
	if err != nil {
		w.t.Fatalf("kubectl create token %s: %v\n%s", sa, err, stderr) // stderr only: never the token
	}
	mustLoopback(w.t, w.awsURL)
	client := sts.New(sts.Options{Region: "us-west-2", BaseEndpoint: aws.String(w.awsURL)})
	out, err := client.AssumeRoleWithWebIdentity(w.ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("e2e-cross-check"), WebIdentityToken: aws.String(strings.TrimSpace(token)),
	})
	token = ""
	if err == nil {
		w.t.Logf("emulated STS: assumed %s", aws.ToString(out.AssumedRoleUser.Arn))
		return ""
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		w.t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
	}
	w.t.Logf("emulated STS: %s: %s", ae.ErrorCode(), ae.ErrorMessage())
	return ae.ErrorCode()
}

// assumeForPodIdentity mints a token for sa with audience
// pods.eks.amazonaws.com (`kubectl create token`) and presents it to the
// emulator's EKS Auth AssumeRoleForPodIdentity, as the agent does for a pod.
// It returns "" on success, else EKS Auth's error code. The token lives
// only in memory and the client drops the credentials.
func (w *world) assumeForPodIdentity(sa string) string {
	w.t.Helper()
	token, stderr, err := w.cp.Kubectl(w.ctx, "create", "token", sa, "-n", w.ns, "--audience", facts.PodIdentityAudience, "--duration", "10m")
	if err != nil {
		w.t.Fatalf("kubectl create token %s: %v\n%s", sa, err, stderr) // stderr only: never the token
	}
	mustLoopback(w.t, w.awsURL)
	client := eksauth.New(aws.Config{Region: "us-west-2", BaseEndpoint: aws.String(w.awsURL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "e2e-node-role", "")})
	out, err := client.AssumeRoleForPodIdentity(w.ctx, eksCluster, strings.TrimSpace(token))
	token = ""
	if err == nil {
		w.t.Logf("emulated EKS Auth: assumed %s", out.AssumedRoleARN)
		return ""
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		w.t.Fatalf("AssumeRoleForPodIdentity: %v", err)
	}
	w.t.Logf("emulated EKS Auth: %s: %s", ae.ErrorCode(), ae.ErrorMessage())
	return ae.ErrorCode()
}
