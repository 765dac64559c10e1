//go:build unix

// Package controlplane runs a real, minimal Kubernetes control plane (etcd and
// kube-apiserver, nothing else) on loopback ports for end-to-end tests. The
// binaries come from hack/k8s-tools.sh; docs/e2e.md explains how they are
// built and
// why each flag is there.
//
// There is no scheduler, no kubelet and no kube-controller-manager: pods stay
// Pending and there is no `default` ServiceAccount, so scenarios create the
// ServiceAccounts they use.
package controlplane

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-irsa/kubectl-irsa/test/e2e/pki"
)

const (
	// EnvToolsBin names a directory holding etcd, kube-apiserver and kubectl;
	// when unset, Start runs hack/k8s-tools.sh to build or find them.
	EnvToolsBin = "KUBECTL_IRSA_TOOLS_BIN"

	// ContextName is the kubeconfig context Start writes.
	ContextName = "e2e"

	// AnonymousDiscoveryBinding lets anonymous clients read the issuer
	// discovery documents, as STS does when it validates a token (docs/behaviour.md#sts-validation-order).
	AnonymousDiscoveryBinding = "e2e:anonymous-service-account-issuer-discovery"

	defaultReadyTimeout = 60 * time.Second
	logTailLines        = 40
)

// Options tune Start. The zero value is what the tests use.
type Options struct {
	// BinDir holds etcd, kube-apiserver and kubectl. Default: $KUBECTL_IRSA_TOOLS_BIN,
	// else the directory hack/k8s-tools.sh prints.
	BinDir string
	// RepoRoot is where hack/k8s-tools.sh lives. Default: found from this
	// source file's location, else by walking up from the working directory.
	RepoRoot string
	// ReadyTimeout bounds the wait for each component. Default 60 s.
	ReadyTimeout time.Duration
	// ExtraAPIServerFlags are appended to kube-apiserver's command line.
	ExtraAPIServerFlags []string
	// ServiceAccountKey is the type of the key kube-apiserver signs service
	// account tokens with. Default: pki.RSA2048 (RS256 tokens); pki.ECDSAP256
	// gives ES256 tokens.
	ServiceAccountKey pki.ServiceAccountKeyType
	// Logf receives progress lines. Default: tb.Logf when a testing.TB is
	// given, else nothing.
	Logf func(format string, args ...any)
}

// ControlPlane is a running etcd + kube-apiserver pair.
type ControlPlane struct {
	// Kubeconfig is the path of a kubeconfig whose current context ("e2e",
	// namespace default) is a system:masters user.
	Kubeconfig string
	// Server is the API server URL, https://127.0.0.1:PORT.
	Server string
	// Issuer is the service account issuer (--service-account-issuer).
	Issuer string
	// CAPEM is the CA that signed the serving certificate.
	CAPEM []byte
	// BinDir holds the etcd, kube-apiserver and kubectl binaries in use.
	BinDir string
	// Dir is the temporary directory with the PKI, etcd data and logs.
	Dir string

	adminToken string
	restConfig *rest.Config
	logf       func(string, ...any)

	procs    []*process
	stopOnce sync.Once
	stopErr  error
}

// Start brings up etcd and kube-apiserver and waits until the API server is
// ready. When tb is not nil, Stop is registered with tb.Cleanup, so nothing
// outlives the test, even a failing one. Start never skips: a missing binary
// or a server that does not become ready is an error carrying the tail of the
// component's log. On error the returned ControlPlane (which may be nil) is
// already stopped when tb is nil, and is stopped by tb's cleanup otherwise.
func Start(ctx context.Context, tb testing.TB, opts Options) (cp *ControlPlane, err error) {
	if tb != nil {
		tb.Helper()
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = defaultReadyTimeout
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
		if tb != nil {
			logf = tb.Logf
		}
	}

	binDir, err := findTools(ctx, opts, logf)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kubectl-irsa-e2e-")
	if err != nil {
		return nil, fmt.Errorf("create control plane dir: %w", err)
	}
	cp = &ControlPlane{BinDir: binDir, Dir: dir, logf: logf}
	if tb != nil {
		tb.Cleanup(func() {
			if tb.Failed() {
				// The temp dir goes away with Stop: keep what explains the failure.
				for _, p := range cp.procs {
					tb.Logf("last lines of %s:\n%s", p.logPath, p.logTail())
				}
			}
			if err := cp.Stop(); err != nil {
				tb.Errorf("stop control plane: %v", err)
			}
		})
	}
	defer func() {
		if err != nil && tb == nil {
			_ = cp.Stop()
		}
	}()

	started := time.Now()
	etcdURL, err := cp.startEtcd(ctx, opts.ReadyTimeout)
	if err != nil {
		return cp, err
	}
	if err := cp.startAPIServer(ctx, etcdURL, opts); err != nil {
		return cp, err
	}
	if err := cp.writeKubeconfig(); err != nil {
		return cp, err
	}
	if err := cp.allowAnonymousDiscovery(ctx); err != nil {
		return cp, err
	}
	logf("control plane ready at %s in %s (dir %s)", cp.Server, time.Since(started).Round(time.Millisecond), dir)
	return cp, nil
}

// MustStart is Start that fails the test on error.
func MustStart(ctx context.Context, tb testing.TB, opts Options) *ControlPlane {
	tb.Helper()
	cp, err := Start(ctx, tb, opts)
	if err != nil {
		tb.Fatalf("start control plane: %v", err)
	}
	return cp
}

// RESTConfig returns a copy of the admin client configuration.
func (cp *ControlPlane) RESTConfig() *rest.Config { return rest.CopyConfig(cp.restConfig) }

// Clientset returns an admin clientset.
func (cp *ControlPlane) Clientset() (kubernetes.Interface, error) {
	cs, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		return nil, fmt.Errorf("build clientset: %w", err)
	}
	return cs, nil
}

// Kubectl runs the built kubectl against this control plane. The kubeconfig is
// passed through $KUBECONFIG rather than --kubeconfig: kubectl only dispatches
// to a plugin when the first argument is not a flag, and a plugin inherits the
// environment, so `Kubectl(ctx, "irsa", ...)` reaches the same cluster. The
// rest of the environment (PATH included) is the caller's.
func (cp *ControlPlane) Kubectl(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	cmd := exec.CommandContext(ctx, filepath.Join(cp.BinDir, "kubectl"), args...) //nolint:gosec // the test harness runs the kubectl it was given, with the test's arguments
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cp.Kubeconfig)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("kubectl %s: %w", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), err
}

// Stop kills the processes Start started (each in its own process group),
// waits for them and removes the temporary directory. It is idempotent.
func (cp *ControlPlane) Stop() error {
	cp.stopOnce.Do(func() {
		var errs []error
		// Reverse order: the API server first, so it does not log a storm of
		// etcd connection errors while going down.
		for i := len(cp.procs) - 1; i >= 0; i-- {
			if err := cp.procs[i].stop(10 * time.Second); err != nil {
				errs = append(errs, err)
			}
		}
		if cp.Dir != "" {
			if err := os.RemoveAll(cp.Dir); err != nil {
				errs = append(errs, fmt.Errorf("remove %s: %w", cp.Dir, err))
			}
		}
		cp.stopErr = errors.Join(errs...)
	})
	return cp.stopErr
}

func (cp *ControlPlane) startEtcd(ctx context.Context, timeout time.Duration) (string, error) {
	ports, err := freePorts(2)
	if err != nil {
		return "", err
	}
	clientURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	p, err := cp.spawn("etcd", []string{
		"--name=e2e",
		"--data-dir=" + filepath.Join(cp.Dir, "etcd-data"),
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=e2e=" + peerURL,
		"--initial-cluster-state=new",
		// A test cluster does not need durability; fsync dominates etcd's
		// latency on small VMs.
		"--unsafe-no-fsync",
		"--log-level=warn",
	})
	if err != nil {
		return "", err
	}
	client := &http.Client{Timeout: 2 * time.Second}
	err = p.waitFor(ctx, timeout, func(ctx context.Context) bool {
		body, code, err := get(ctx, client, clientURL+"/health", "")
		return err == nil && code == http.StatusOK && bytes.Contains(body, []byte(`"health":"true"`))
	})
	if err != nil {
		return "", err
	}
	return clientURL, nil
}

func (cp *ControlPlane) startAPIServer(ctx context.Context, etcdURL string, opts Options) error {
	ca, err := pki.NewCA("kubectl-irsa-e2e-ca")
	if err != nil {
		return err
	}
	serving, err := ca.ServingCert("kube-apiserver", "kubernetes", "kubernetes.default", "kubernetes.default.svc")
	if err != nil {
		return err
	}
	saKeys, err := pki.NewServiceAccountKeysOfType(opts.ServiceAccountKey)
	if err != nil {
		return err
	}
	token, err := randomToken()
	if err != nil {
		return err
	}
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	port := strconv.Itoa(ports[0])
	cp.Server = "https://127.0.0.1:" + port
	cp.Issuer = cp.Server
	cp.CAPEM = ca.CertPEM
	cp.adminToken = token

	files := map[string][]byte{
		"ca.crt":        ca.CertPEM,
		"apiserver.crt": serving.CertPEM,
		"apiserver.key": serving.KeyPEM,
		"sa.key":        saKeys.PrivateKeyPEM,
		"sa.pub":        saKeys.PublicKeyPEM,
		// token,user,uid,"groups": system:masters bypasses RBAC entirely.
		"tokens.csv": []byte(token + `,e2e-admin,e2e-admin,"system:masters"` + "\n"),
	}
	pkiDir := filepath.Join(cp.Dir, "pki")
	if err := os.MkdirAll(pkiDir, 0o700); err != nil {
		return fmt.Errorf("create pki dir: %w", err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(pkiDir, name), data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	f := func(name string) string { return filepath.Join(pkiDir, name) }
	args := append([]string{
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + port,
		"--etcd-servers=" + etcdURL,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--tls-cert-file=" + f("apiserver.crt"),
		"--tls-private-key-file=" + f("apiserver.key"),
		"--client-ca-file=" + f("ca.crt"),
		"--token-auth-file=" + f("tokens.csv"),
		"--service-account-issuer=" + cp.Issuer,
		"--service-account-key-file=" + f("sa.pub"),
		"--service-account-signing-key-file=" + f("sa.key"),
		"--authorization-mode=RBAC",
		// STS fetches the discovery documents anonymously.
		"--anonymous-auth=true",
		// Without it the server exits: "cannot use public IP 127.0.0.1 with
		// endpoint reconciler" (docs/e2e.md).
		"--endpoint-reconciler-type=none",
		"--profiling=false",
	}, opts.ExtraAPIServerFlags...)
	p, err := cp.spawn("kube-apiserver", args)
	if err != nil {
		return err
	}

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.CertPEM)
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
	defer client.CloseIdleConnections()
	err = p.waitFor(ctx, opts.ReadyTimeout, func(ctx context.Context) bool {
		_, code, err := get(ctx, client, cp.Server+"/readyz", token)
		return err == nil && code == http.StatusOK
	})
	if err != nil {
		return err
	}
	cp.restConfig = &rest.Config{
		Host:            cp.Server,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: ca.CertPEM},
		QPS:             50,
		Burst:           100,
	}
	return nil
}

func (cp *ControlPlane) writeKubeconfig() error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[ContextName] = &clientcmdapi.Cluster{Server: cp.Server, CertificateAuthorityData: cp.CAPEM}
	cfg.AuthInfos[ContextName] = &clientcmdapi.AuthInfo{Token: cp.adminToken}
	cfg.Contexts[ContextName] = &clientcmdapi.Context{Cluster: ContextName, AuthInfo: ContextName, Namespace: "default"}
	cfg.CurrentContext = ContextName
	cp.Kubeconfig = filepath.Join(cp.Dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, cp.Kubeconfig); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// allowAnonymousDiscovery binds the bootstrap ClusterRole
// system:service-account-issuer-discovery to system:unauthenticated, as EKS
// does, so /.well-known/openid-configuration and /openid/v1/jwks answer
// without credentials.
func (cp *ControlPlane) allowAnonymousDiscovery(ctx context.Context) error {
	cs, err := cp.Clientset()
	if err != nil {
		return err
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: AnonymousDiscoveryBinding},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:service-account-issuer-discovery"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:unauthenticated"}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("bind anonymous issuer discovery: %w", err)
	}
	return nil
}

func findTools(ctx context.Context, opts Options, logf func(string, ...any)) (string, error) {
	dir := opts.BinDir
	if dir == "" {
		dir = os.Getenv(EnvToolsBin)
	}
	if dir == "" {
		root, err := repoRoot(opts.RepoRoot)
		if err != nil {
			return "", err
		}
		script := filepath.Join(root, "hack", "k8s-tools.sh")
		logf("finding the e2e tools with %s (the first run on a machine builds them, about 6 minutes)", script)
		cmd := exec.CommandContext(ctx, script)
		cmd.Dir = root
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("run %s: %w\n%s", script, err, tail(errb.Bytes(), logTailLines))
		}
		dir = strings.TrimSpace(out.String())
	}
	for _, name := range []string{"etcd", "kube-apiserver", "kubectl"} {
		path := filepath.Join(dir, name)
		info, err := os.Stat(path) //nolint:gosec // the test harness checks the tool directory it was configured with
		if err != nil {
			return "", fmt.Errorf("e2e tool %s missing in %s (run hack/k8s-tools.sh or set %s): %w", name, dir, EnvToolsBin, err)
		}
		if info.IsDir() || info.Mode()&0o111 == 0 {
			return "", fmt.Errorf("e2e tool %s is not executable", path)
		}
	}
	return dir, nil
}

// repoRoot finds the directory with hack/k8s-tools.sh: the explicit option,
// this source file's module root (three levels up), or the working directory
// and its parents.
func repoRoot(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	var candidates []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		candidates = append(candidates, filepath.Join(filepath.Dir(file), "..", "..", ".."))
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			candidates = append(candidates, d)
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, "hack", "k8s-tools.sh")); err == nil {
			return filepath.Clean(c), nil
		}
	}
	return "", fmt.Errorf("cannot find hack/k8s-tools.sh (set %s to a directory with etcd, kube-apiserver and kubectl)", EnvToolsBin)
}

func freePorts(n int) ([]int, error) {
	// Hold every listener until all ports are chosen, so the same port is not
	// handed out twice.
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free loopback port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate admin token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func get(ctx context.Context, client *http.Client, url, token string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
	if err != nil {
		return nil, 0, fmt.Errorf("build request: %w", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return body, resp.StatusCode, err
}
