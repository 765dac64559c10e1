//go:build unix

// Command bench is `make bench` (issue 8): it builds a synthetic cluster on a
// real etcd + kube-apiserver on loopback, starts the AWS emulator with a
// latency per call, and measures side by side, through the real kubectl:
//
//	kubectl get pods -A -o json            the floor of the Kubernetes half
//	kubectl irsa diagnose -A -o json --skip-aws   the plugin's Kubernetes half
//	kubectl irsa diagnose -A -o json       the whole diagnosis
//
// With -grow-from N it first measures diagnose at N pods, then adds pods up
// to -pods and measures everything, and reports the peak memory's growth
// per pod between the two sizes (`make bench-large`, issue 18).
//
// It reports wall time and peak memory (medians over -runs), the Kubernetes
// requests each made (counted by the API server's audit log, per verb and
// resource), the AWS calls per API (the emulator's log), the AWS critical
// path, the Go benchmarks of the pure parts, and PASS/FAIL per target.
// Everything it starts is stopped on exit or interrupt.
package main

import (
	"bufio"
	"context" //nolint:gosec // the IAM OIDC thumbprint is SHA-1 by AWS's definition
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/test/bench/synth"
	"github.com/kubectl-irsa/kubectl-irsa/test/e2e/controlplane"
	"github.com/kubectl-irsa/kubectl-irsa/test/e2e/pki"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/harness"
)

// Targets of issue 8 (the memory and AWS call targets of issue 18 are
// flags: make bench-large sets them).
const (
	wallFactor     = 1.5
	minEvalsPerSec = 100_000
	// constRequests bounds the plugin's Kubernetes requests that are not
	// LIST pages: issuer discovery, the namespaces and webhooks, the TLS
	// inspection's discovery fetch. It does not depend on any size.
	constRequests = 10
	// constAWSCalls bounds the AWS calls that are not per role nor pages
	// of the role listings: caller, cluster, provider, provider list.
	constAWSCalls = 4
)

type options struct {
	spec        synth.Spec
	latency     time.Duration
	concurrency int
	runs        int
	warmup      int
	workers     int
	plugin      string
	goBench     bool
	goBenchTime string
	strict      bool
	hold        bool
	growFrom    int
	maxRSSMB    int
	maxGrowthKB float64
	maxAWSCalls int
}

func main() {
	log := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	}
	var o options
	o.spec = synth.Default
	flag.IntVar(&o.spec.Pods, "pods", o.spec.Pods, "pods in the synthetic cluster")
	flag.IntVar(&o.spec.Namespaces, "namespaces", o.spec.Namespaces, "namespaces")
	flag.IntVar(&o.spec.ServiceAccounts, "service-accounts", o.spec.ServiceAccounts, "service accounts, each with a Deployment and a ReplicaSet")
	flag.IntVar(&o.spec.Roles, "roles", o.spec.Roles, "distinct IAM roles the service accounts share")
	flag.BoolVar(&o.spec.Broken, "broken", o.spec.Broken, "leave every 50th service account out of its role's trust policy and one role missing, as in a real cluster")
	flag.BoolVar(&o.spec.PodStatus, "pod-status", o.spec.PodStatus, "give every pod a Running status (real pod sizes; one more request per pod while building)")
	flag.DurationVar(&o.latency, "aws-latency", 30*time.Millisecond, "latency the AWS emulator adds to every call")
	flag.IntVar(&o.concurrency, "aws-concurrency", cloud.DefaultConcurrency, "passed to kubectl irsa diagnose --aws-concurrency")
	flag.IntVar(&o.runs, "runs", 3, "measured runs of each command (medians are reported)")
	flag.IntVar(&o.warmup, "warmup", 1, "unmeasured runs of each command first (discovery cache, page cache)")
	flag.IntVar(&o.workers, "workers", 32, "create requests in flight while building the cluster")
	flag.StringVar(&o.plugin, "plugin", "", "kubectl-irsa binary to measure (default: go build ./cmd/kubectl-irsa)")
	flag.BoolVar(&o.goBench, "go-bench", true, "also run the Go benchmarks of the pure parts (BenchmarkEvaluate, BenchmarkRun) before building the cluster")
	flag.StringVar(&o.goBenchTime, "go-benchtime", "1s", "-benchtime for the Go benchmarks")
	flag.BoolVar(&o.strict, "strict", false, "exit 1 when any target fails (by default only the call-count targets and broken runs do)")
	flag.IntVar(&o.growFrom, "grow-from", 0, "first measure diagnose at this many pods, then grow the cluster to -pods and report the memory's growth per pod between the sizes (0: one size)")
	flag.IntVar(&o.maxRSSMB, "max-rss-mb", 300, "target: peak resident memory of diagnose -A at -pods, in MB")
	flag.Float64Var(&o.maxGrowthKB, "max-growth-kb", 0, "target with -grow-from: growth of diagnose's peak memory per pod between the sizes, in KB (0: reported only)")
	flag.IntVar(&o.maxAWSCalls, "max-aws-calls", 0, "target: fewer AWS calls than this in one diagnose -A (0: not checked)")
	flag.BoolVar(&o.hold, "hold", false, "build the cluster, print the environment that reaches it, and wait for Ctrl-C instead of measuring (to profile by hand)")
	flag.Parse()
	if err := o.spec.Validate(); err != nil {
		log("%v", err)
		os.Exit(2)
	}
	if o.runs < 1 || o.concurrency < 1 {
		log("-runs and -aws-concurrency must be at least 1")
		os.Exit(2)
	}
	if o.growFrom < 0 || (o.growFrom > 0 && o.growFrom >= o.spec.Pods) {
		log("-grow-from must be below -pods")
		os.Exit(2)
	}
	// client-go's own complaints (a body cut short by Ctrl-C) are noise
	// here; every error that matters is returned and printed.
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, o, log)
	stop()
	os.Exit(code)
}

// run returns the exit code; its defers stop everything it started.
func run(ctx context.Context, o options, log func(string, ...any)) int {
	started := time.Now()
	root, err := moduleRoot()
	if err != nil {
		log("%v", err)
		return 1
	}
	work, err := os.MkdirTemp("", "kubectl-irsa-bench-")
	if err != nil {
		log("%v", err)
		return 1
	}
	defer os.RemoveAll(work)

	var gb goBenchResults
	if o.goBench {
		log("running the Go benchmarks (go test -bench, one core)")
		if gb, err = runGoBenchmarks(ctx, root, o.goBenchTime); err != nil {
			log("%v", err)
			return 1
		}
	}

	pluginDir := filepath.Join(work, "bin")
	if err := installPlugin(ctx, root, o.plugin, pluginDir, log); err != nil {
		log("%v", err)
		return 1
	}
	runner, err := buildPeakRSS(ctx, root, work)
	if err != nil {
		log("%v", err)
		return 1
	}

	auditFlags, auditPath, err := synth.AuditFlags(work)
	if err != nil {
		log("%v", err)
		return 1
	}
	log("starting etcd and kube-apiserver with an audit log (the first run on a machine builds them, about 6 minutes)")
	cp, err := controlplane.Start(ctx, nil, controlplane.Options{RepoRoot: root, ExtraAPIServerFlags: auditFlags, Logf: log})
	if err != nil {
		log("%v", err)
		return 1
	}
	defer func() {
		if err := cp.Stop(); err != nil {
			log("stopping the control plane: %v", err)
		}
	}()
	cfg := cp.RESTConfig()
	cfg.QPS, cfg.Burst, cfg.UserAgent = 5000, 10000, synth.BenchUserAgent
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		log("%v", err)
		return 1
	}
	issuer, err := url.Parse(cp.Issuer)
	if err != nil {
		log("issuer %q: %v", cp.Issuer, err)
		return 1
	}
	thumb, err := pki.LastCertSHA1(ctx, issuer.Host)
	if err != nil {
		log("%v", err)
		return 1
	}

	fake := fakeaws.New()
	synth.ConfigureAWS(fake, o.spec, issuer.Host, thumb)
	awsCtx, stopAWS := context.WithCancel(ctx)
	awsURL := make(chan string, 1)
	awsDone := make(chan error, 1)
	go func() { awsDone <- fake.ListenAndServe(awsCtx, "127.0.0.1:0", func(u string) { awsURL <- u }) }()
	defer func() {
		stopAWS()
		if err := <-awsDone; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "bench: AWS emulator: %v\n", err)
		}
	}()
	var endpoint string
	select {
	case endpoint = <-awsURL:
	case err := <-awsDone:
		log("AWS emulator: %v", err)
		return 1
	}

	build := func(spec synth.Spec) error {
		log("building the cluster: %d pods in %d namespaces, %d service accounts, %d roles", spec.Pods, spec.Namespaces, spec.ServiceAccounts, spec.Roles)
		// The emulator is slow only for the measured runs, not while it is
		// being filled.
		fake.Latency(0)
		defer fake.Latency(o.latency)
		return synth.Populate(ctx, cs, spec, synth.PopulateOptions{Workers: o.workers, Logf: log})
	}
	first := o.spec
	if o.growFrom > 0 {
		first.Pods = o.growFrom
	}
	if err := build(first); err != nil {
		log("%v", err)
		return 1
	}
	pluginEnv := harness.PluginEnv{PluginDir: pluginDir, ToolsBin: cp.BinDir, Kubeconfig: cp.Kubeconfig,
		CacheDir: filepath.Join(work, "kube-cache"), AWSEndpoint: endpoint, Region: synth.Region}
	env := pluginEnv.Environ()
	kubectl := filepath.Join(cp.BinDir, "kubectl")
	if o.hold {
		fmt.Println("# the synthetic cluster and the AWS emulator are up; in another shell:")
		for _, kv := range pluginEnv.Vars() {
			k, v, _ := strings.Cut(kv, "=")
			fmt.Printf("export %s=%q\n", k, v)
		}
		fmt.Println("kubectl irsa diagnose -A -o json >/dev/null")
		log("holding; Ctrl-C stops everything")
		<-ctx.Done()
		return 0
	}
	audit := &synth.AuditLog{Path: auditPath}
	if err := audit.Skip(ctx, cs); err != nil {
		log("%v", err)
		return 1
	}
	m := &measurer{ctx: ctx, run: runner, env: env, kubectl: kubectl, audit: audit, cs: cs, fake: fake, work: work, spec: first}
	cmds := []command{
		{name: "kubectl get pods -A -o json", args: []string{"get", "pods", "-A", "-o", "json"}},
		{name: "kubectl irsa diagnose -A -o json --skip-aws", args: []string{"irsa", "diagnose", "-A", "-o", "json", "--skip-aws"}, plugin: true},
		{name: "kubectl irsa diagnose -A -o json", args: []string{"irsa", "diagnose", "-A", "-o", "json", "--aws-concurrency", strconv.Itoa(o.concurrency)}, plugin: true, aws: true},
	}
	loadBefore := loadAverage()
	var small []measurement
	if o.growFrom > 0 {
		// diagnose alone at the small size, then the cluster grows: the
		// same namespaces, service accounts and roles, more pods each.
		diagnose := cmds[len(cmds)-1]
		for r := range o.warmup + o.runs {
			log("diagnose at %d pods, run %d/%d", first.Pods, r+1, o.warmup+o.runs)
			res, err := m.measure(diagnose)
			if err != nil {
				log("%v", err)
				return 1
			}
			if r >= o.warmup {
				small = append(small, res)
			}
		}
		if err := build(o.spec); err != nil {
			log("%v", err)
			return 1
		}
		if err := audit.Skip(ctx, cs); err != nil {
			log("%v", err)
			return 1
		}
		m.spec = o.spec
	}
	for i := range o.warmup {
		log("warm-up run %d/%d", i+1, o.warmup)
		for _, c := range cmds {
			if _, err := m.measure(c); err != nil {
				log("%v", err)
				return 1
			}
		}
	}
	results := make([][]measurement, len(cmds))
	for r := range o.runs {
		log("measured run %d/%d", r+1, o.runs)
		// Interleaved, so a burst of load on the machine hits every command.
		for i, c := range cmds {
			res, err := m.measure(c)
			if err != nil {
				log("%v", err)
				return 1
			}
			results[i] = append(results[i], res)
		}
	}
	loadAfter := loadAverage()

	rep := report{o: o, cmds: cmds, results: results, small: small, gb: gb, loadBefore: loadBefore, loadAfter: loadAfter}
	ok := rep.print(os.Stdout)
	log("done in %s", time.Since(started).Round(time.Second))
	if !ok {
		return 1
	}
	return 0
}

type command struct {
	name   string
	args   []string
	plugin bool // output is a kubectl-irsa DiagnosisList to check
	aws    bool // counts AWS calls
}

type measurement struct {
	synth.Result
	requests synth.Requests
	aws      []fakeaws.Call
	inFlight int
}

type measurer struct {
	ctx     context.Context
	run     synth.Runner
	env     []string
	kubectl string
	audit   *synth.AuditLog
	cs      kubernetes.Interface
	fake    *fakeaws.Server
	work    string
	spec    synth.Spec
}

// measure runs one command and collects what it cost.
func (m *measurer) measure(c command) (measurement, error) {
	out, err := os.Create(filepath.Join(m.work, "stdout"))
	if err != nil {
		return measurement{}, err
	}
	defer out.Close()
	m.fake.ResetCalls()
	res, err := m.run.Run(m.ctx, m.env, out, m.kubectl, c.args...)
	if err != nil {
		return measurement{}, err
	}
	// diagnose exits 2 when it finds errors, which the synthetic cluster has.
	if res.ExitCode != 0 && !(c.plugin && res.ExitCode == 2) {
		return measurement{}, fmt.Errorf("%s: exit %d\n%s", c.name, res.ExitCode, res.Stderr)
	}
	events, err := m.audit.Take(m.ctx, m.cs)
	if err != nil {
		return measurement{}, err
	}
	r := measurement{Result: res, requests: synth.Summarize(events)}
	if c.aws {
		r.aws = m.fake.Calls()
		r.inFlight = m.fake.MaxInFlight()
	}
	if c.plugin {
		if err := m.check(out.Name(), c); err != nil {
			return measurement{}, err
		}
	}
	return r, nil
}

// check makes sure the plugin saw the whole cluster: a run that silently
// read less would be fast for the wrong reason.
func (m *measurer) check(path string, c command) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var list struct {
		Kind  string `json:"kind"`
		Items []struct {
			Pods []string `json:"pods"`
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("%s: stdout is not JSON: %w", c.name, err)
	}
	pods := 0
	for _, it := range list.Items {
		pods += len(it.Pods)
	}
	if list.Kind != "DiagnosisList" || len(list.Items) != m.spec.ServiceAccounts || pods != m.spec.Pods {
		return fmt.Errorf("%s: diagnosed %d service accounts and %d pods (kind %q), want %d and %d", c.name, len(list.Items), pods, list.Kind, m.spec.ServiceAccounts, m.spec.Pods)
	}
	return nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "hack", "k8s-tools.sh")); err == nil {
				return d, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("run bench from the kubectl-irsa checkout (no go.mod with hack/k8s-tools.sh above %s)", dir)
		}
	}
}

// buildPeakRSS builds the helper that starts each measured command, so that
// a command's peak memory is its own and not this process's
// (test/bench/peakrss).
func buildPeakRSS(ctx context.Context, root, work string) (synth.Runner, error) {
	path := filepath.Join(work, "peakrss-helper")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", path, "./test/bench/peakrss") //nolint:gosec // builds this module's helper into the bench's temp dir
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return synth.Runner{}, fmt.Errorf("go build ./test/bench/peakrss: %w\n%s", err, out)
	}
	return synth.Runner{PeakRSS: path, Dir: work}, nil
}

// installPlugin puts kubectl-irsa alone in dir, which goes first on PATH.
func installPlugin(ctx context.Context, root, plugin, dir string, log func(string, ...any)) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dst := filepath.Join(dir, "kubectl-irsa")
	if plugin == "" {
		log("building kubectl-irsa")
		return harness.BuildPlugin(ctx, root, dir)
	}
	abs, err := filepath.Abs(plugin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("-plugin: %w", err)
	}
	return os.Symlink(abs, dst)
}

// loadAverage is the 1-minute load average, or "" where /proc has none.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// --- Go benchmarks ---

type goBench struct {
	nsPerOp     []float64
	bytesPerOp  float64
	allocsPerOp float64
}

func (g goBench) median() float64 { return median(g.nsPerOp) }

type goBenchResults map[string]*goBench

var benchLine = regexp.MustCompile(`^(Benchmark\w+)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+([\d.]+) B/op\s+([\d.]+) allocs/op)?`)

// runGoBenchmarks runs the pure benchmarks on one core (-cpu 1), five times.
func runGoBenchmarks(ctx context.Context, root, benchtime string) (goBenchResults, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^(BenchmarkEvaluate|BenchmarkRun|BenchmarkAudit5000x1000)$",
		"-benchmem", "-count", "5", "-cpu", "1", "-benchtime", benchtime, "./pkg/iampolicy", "./pkg/diag", "./pkg/audit")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench: %w\n%s", err, out)
	}
	res := goBenchResults{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		g := res[m[1]]
		if g == nil {
			g = &goBench{}
			res[m[1]] = g
		}
		ns, _ := strconv.ParseFloat(m[2], 64)
		g.nsPerOp = append(g.nsPerOp, ns)
		g.bytesPerOp, _ = strconv.ParseFloat(m[3], 64)
		g.allocsPerOp, _ = strconv.ParseFloat(m[4], 64)
	}
	for _, name := range []string{"BenchmarkEvaluate", "BenchmarkRun"} {
		if res[name] == nil {
			return nil, fmt.Errorf("go test -bench printed no %s:\n%s", name, out)
		}
	}
	return res, nil
}

// --- report ---

type report struct {
	o                     options
	cmds                  []command
	results               [][]measurement
	small                 []measurement // diagnose at -grow-from pods
	gb                    goBenchResults
	loadBefore, loadAfter string
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (r report) wall(i int) time.Duration {
	xs := make([]float64, 0, len(r.results[i]))
	for _, m := range r.results[i] {
		xs = append(xs, float64(m.Wall))
	}
	return time.Duration(median(xs))
}

func (r report) rss(i int) (med, peak int64) {
	xs := make([]float64, 0, len(r.results[i]))
	for _, m := range r.results[i] {
		xs = append(xs, float64(m.MaxRSS))
		peak = max(peak, m.MaxRSS)
	}
	return int64(median(xs)), peak
}

// smallRSS is the median and highest peak RSS of diagnose at -grow-from pods.
func (r report) smallRSS() (med, peak int64) {
	xs := make([]float64, 0, len(r.small))
	for _, m := range r.small {
		xs = append(xs, float64(m.MaxRSS))
		peak = max(peak, m.MaxRSS)
	}
	return int64(median(xs)), peak
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// awsCounts counts one run's AWS calls by "service:Op".
func awsCounts(calls []fakeaws.Call) map[string]int {
	out := map[string]int{}
	for _, c := range calls {
		out[c.Service+":"+c.Op]++
	}
	return out
}

// phase is a set of AWS calls that can only start once the previous phase
// has answered; chain is the longest run of calls inside it that depend on
// each other.
type phase struct {
	name  string
	ops   []string
	chain int
}

// phases of `diagnose` (pkg/cloud Gather): the caller, the cluster and every
// role with its two policy listings at once; then the OIDC provider of each
// role's account, once the issuer is known; then, only when a provider is
// missing, the caller's provider list.
var phases = []phase{
	{"caller, cluster, roles", []string{"sts:GetCallerIdentity", "eks:DescribeCluster", "iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies"}, 3},
	{"OIDC providers", []string{"iam:GetOpenIDConnectProvider"}, 1},
	{"provider list", []string{"iam:ListOpenIDConnectProviders"}, 1},
}

// listingOps are the account-wide role listings of the fast path.
var listingOps = []string{"iam:ListRoles", "iam:GetAccountAuthorizationDetails"}

// phasesOf are the phases a run went through. With the role listings
// (pkg/cloud listing.go) the caller comes first, whose account is listed;
// then both listings, each a chain of its pages; then the roles the pages
// did not show, on their own calls; then the providers as above.
func phasesOf(counts map[string]int) []phase {
	pages := max(counts[listingOps[0]], counts[listingOps[1]])
	if pages == 0 {
		return phases
	}
	return append([]phase{
		{"caller, cluster", []string{"sts:GetCallerIdentity", "eks:DescribeCluster"}, 1},
		{"role listings", listingOps, pages},
		{"roles not listed", []string{"iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies"}, 3},
	}, phases[1:]...)
}

// criticalPath is Σ over phases of max(ceil(calls/concurrency), chain) ×
// latency: the least time the AWS half can take with that many calls in
// flight, if every call took exactly the emulator's latency.
func criticalPath(counts map[string]int, concurrency int, latency time.Duration) (time.Duration, []string) {
	var total time.Duration
	var terms []string
	seen := map[string]bool{}
	for _, p := range phasesOf(counts) {
		n := 0
		for _, op := range p.ops {
			n += counts[op]
			seen[op] = true
		}
		if n == 0 {
			continue
		}
		rounds := max((n+concurrency-1)/concurrency, p.chain)
		total += time.Duration(rounds) * latency
		terms = append(terms, fmt.Sprintf("%s: max(ceil(%d/%d), %d) = %d", p.name, n, concurrency, p.chain, rounds))
	}
	rest := 0
	for op, n := range counts {
		if !seen[op] {
			rest += n
		}
	}
	if rest > 0 {
		rounds := (rest + concurrency - 1) / concurrency
		total += time.Duration(rounds) * latency
		terms = append(terms, fmt.Sprintf("other: ceil(%d/%d) = %d", rest, concurrency, rounds))
	}
	return total, terms
}

// print writes the report and returns false when a target that must hold
// failed (call counts always; wall, memory and the evaluator with -strict).
func (r report) print(w io.Writer) bool {
	o := r.o
	const getPods, skipAWS, diagnose = 0, 1, 2
	fmt.Fprintf(w, "\nkubectl-irsa bench: %d pods in %d namespaces, %d service accounts (each a Deployment + ReplicaSet), %d roles (%d exist in IAM)\n",
		o.spec.Pods, o.spec.Namespaces, o.spec.ServiceAccounts, o.spec.Roles, o.spec.ExistingRoles())
	fmt.Fprintf(w, "AWS emulator latency %s per call, --aws-concurrency %d; medians of %d runs after %d warm-up; %s/%s, %d CPUs",
		o.latency, o.concurrency, o.runs, o.warmup, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	if r.loadBefore != "" {
		fmt.Fprintf(w, "; load average %s before, %s after", r.loadBefore, r.loadAfter)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)

	last := func(i int) measurement { return r.results[i][len(r.results[i])-1] }
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COMMAND\tWALL\tPEAK RSS\tK8S REQUESTS\tOF WHICH LIST\tAWS CALLS")
	for i, c := range r.cmds {
		med, _ := r.rss(i)
		m := last(i)
		awsCalls := "-"
		if c.aws {
			awsCalls = strconv.Itoa(len(m.aws))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", c.name, secs(r.wall(i)), mb(med), m.requests.Total, m.requests.Verb("list"), awsCalls)
	}
	tw.Flush()

	d := last(diagnose)
	fmt.Fprintf(w, "\nKubernetes requests of `%s` (one run, from the API server's audit log):\n", r.cmds[diagnose].name)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range d.requests.Keys() {
		note := ""
		if p := d.requests.PagesByKey[k]; p > 0 {
			note = fmt.Sprintf("(first page + %d continued)", p)
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", k, d.requests.ByKey[k], note)
	}
	agents := make([]string, 0, len(d.requests.ByAgent))
	for a, n := range d.requests.ByAgent {
		agents = append(agents, fmt.Sprintf("%s %d", a, n))
	}
	sort.Strings(agents)
	fmt.Fprintf(tw, "  by user agent\t\t%s\n", strings.Join(agents, ", "))
	tw.Flush()
	g := last(getPods)
	fmt.Fprintf(w, "  (`kubectl get pods -A -o json`: %d requests, %d of them pages of list pods)\n", g.requests.Total, g.requests.ByKey["list pods"])

	counts := awsCounts(d.aws)
	fmt.Fprintf(w, "\nAWS calls of `%s` (one run, from the emulator's log; at most %d in flight):\n", r.cmds[diagnose].name, d.inFlight)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	ops := make([]string, 0, len(counts))
	for op := range counts {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		fmt.Fprintf(tw, "  %s\t%d\n", op, counts[op])
	}
	tw.Flush()

	path, terms := criticalPath(counts, o.concurrency, o.latency)
	fmt.Fprintf(w, "\nAWS critical path at concurrency %d and %s a call = Σ over dependent phases of max(ceil(calls/concurrency), longest chain) × latency\n", o.concurrency, o.latency)
	fmt.Fprintf(w, "  = (%s) × %s = %s\n", strings.Join(terms, " + "), o.latency, secs(path))

	floor := r.wall(getPods)
	budget := time.Duration(wallFactor * float64(floor+path))
	fmt.Fprintln(w, "\nRatios (medians):")
	fmt.Fprintf(w, "  diagnose --skip-aws / get pods                %.2f×\n", r.wall(skipAWS).Seconds()/floor.Seconds())
	fmt.Fprintf(w, "  diagnose / get pods                           %.2f×\n", r.wall(diagnose).Seconds()/floor.Seconds())
	fmt.Fprintf(w, "  diagnose / (get pods + AWS critical path)     %.2f×   (target ≤ %.1f×)\n", r.wall(diagnose).Seconds()/(floor+path).Seconds(), wallFactor)
	_, getRSS := r.rss(getPods)
	_, diagRSS := r.rss(diagnose)
	fmt.Fprintf(w, "  peak RSS diagnose / get pods                  %.2f×\n", float64(diagRSS)/float64(getRSS))

	evalsPerSec := 0.0
	if len(r.gb) > 0 {
		fmt.Fprintln(w, "\nGo benchmarks (go test -bench -cpu 1 -count 5, medians):")
		ev, run := r.gb["BenchmarkEvaluate"], r.gb["BenchmarkRun"]
		evalsPerSec = 1e9 / ev.median()
		fmt.Fprintf(w, "  BenchmarkEvaluate  %8.0f ns/op  %5.0f B/op  %4.0f allocs/op   = %s trust-policy evaluations/s on one core\n",
			ev.median(), ev.bytesPerOp, ev.allocsPerOp, thousands(int64(evalsPerSec)))
		fmt.Fprintf(w, "  BenchmarkRun       %8.1f ms/op  %5.1f MB/op                 = every check over 5,000 pods, 1,000 service accounts, 300 roles\n",
			run.median()/1e6, run.bytesPerOp/(1<<20))
		if a := r.gb["BenchmarkAudit5000x1000"]; a != nil {
			fmt.Fprintf(w, "  BenchmarkAudit     %8.1f ms/op  %5.1f MB/op                 = kubectl irsa audit's reach and hygiene, 5,000 service accounts × 1,000 roles\n",
				a.median()/1e6, a.bytesPerOp/(1<<20))
		}
	}

	// Targets.
	type target struct {
		name, measured string
		ok, hard       bool
	}
	var ts []target

	// Kubernetes: every kind read once (one first page each), nothing per
	// object, and the few other requests bounded by a constant.
	k8sOK := d.requests.ByKey["get pods"] == 0 && d.requests.ByKey["get serviceaccounts"] == 0
	firstPages, other := 0, 0
	var twice []string
	for k, n := range d.requests.ByKey {
		if strings.HasPrefix(k, "list ") {
			first := n - d.requests.PagesByKey[k]
			firstPages += first
			if first != 1 {
				twice = append(twice, fmt.Sprintf("%s ×%d", k, first))
			}
		} else {
			other += n
		}
	}
	k8sOK = k8sOK && len(twice) == 0 && other <= constRequests
	ts = append(ts, target{"Kubernetes requests: constant, independent of the pod count (LIST pages aside)",
		fmt.Sprintf("%d kinds listed once each (+%d pages), %d other requests (bound %d)%s", firstPages, d.requests.Pages, other, constRequests, listIf(twice)), k8sOK, true})

	perRole := counts["iam:GetRole"] + counts["iam:ListAttachedRolePolicies"] + counts["iam:ListRolePolicies"]
	listing := counts[listingOps[0]] + counts[listingOps[1]]
	constant := len(d.aws) - perRole - listing
	awsTarget := target{name: "AWS calls: one GetRole per distinct role plus a constant, none per pod",
		measured: fmt.Sprintf("GetRole %d for %d roles; %d other calls (bound %d)", counts["iam:GetRole"], o.spec.Roles, constant, constAWSCalls),
		ok: counts["iam:GetRole"] == o.spec.Roles && counts["iam:ListAttachedRolePolicies"] <= o.spec.Roles &&
			counts["iam:ListRolePolicies"] <= o.spec.Roles && constant <= constAWSCalls, hard: true}
	if listing > 0 {
		// The fast path: pages of the account's roles (the emulator answers
		// at most synth.IAMPageSize a page), and GetRole only for the roles
		// the pages cannot show (the missing one).
		existing, missing := o.spec.ExistingRoles(), o.spec.Roles-o.spec.ExistingRoles()
		pages := (existing + synth.IAMPageSize - 1) / synth.IAMPageSize
		awsTarget = target{name: "AWS calls: the account's roles in pages (ListRoles, GetAccountAuthorizationDetails), GetRole only for roles they do not show, a constant, none per pod",
			measured: fmt.Sprintf("%d ListRoles + %d GetAccountAuthorizationDetails pages for %d roles (bound %d each); GetRole %d (bound %d); %d other calls (bound %d)",
				counts[listingOps[0]], counts[listingOps[1]], existing, pages, counts["iam:GetRole"], missing, constant, constAWSCalls),
			ok: counts[listingOps[0]] <= pages && counts[listingOps[1]] <= pages && counts["iam:GetRole"] == missing &&
				counts["iam:ListAttachedRolePolicies"] == 0 && counts["iam:ListRolePolicies"] == 0 && constant <= constAWSCalls, hard: true}
	}
	maxRSS := int64(o.maxRSSMB) << 20
	ts = append(ts, awsTarget,
		target{fmt.Sprintf("Wall time of diagnose -A ≤ %.1f × (get pods -A -o json + AWS critical path)", wallFactor),
			fmt.Sprintf("%s ≤ %.1f × (%s + %s) = %s", secs(r.wall(diagnose)), wallFactor, secs(floor), secs(path), secs(budget)), r.wall(diagnose) <= budget, o.strict},
		target{fmt.Sprintf("Peak resident memory of diagnose -A < %d MB at %d pods", o.maxRSSMB, o.spec.Pods),
			fmt.Sprintf("%s (highest of %d runs)", mb(diagRSS), o.runs), diagRSS < maxRSS, o.strict})
	if o.maxAWSCalls > 0 {
		ts = append(ts, target{fmt.Sprintf("Fewer than %d AWS calls in diagnose -A", o.maxAWSCalls),
			fmt.Sprintf("%d calls", len(d.aws)), len(d.aws) < o.maxAWSCalls, true})
	}
	if len(r.small) > 0 {
		smallMed, smallPeak := r.smallRSS()
		med, _ := r.rss(diagnose)
		perPod := float64(med-smallMed) / float64(o.spec.Pods-o.growFrom) / 1024
		fmt.Fprintf(w, "\nPeak RSS of diagnose -A (medians): %s at %d pods, %s at %d pods (highest %s and %s): %.2f KB per pod added\n",
			mb(smallMed), o.growFrom, mb(med), o.spec.Pods, mb(smallPeak), mb(diagRSS), perPod)
		if o.maxGrowthKB > 0 {
			ts = append(ts, target{fmt.Sprintf("Peak memory of diagnose -A grows ≤ %.0f KB per pod between %d and %d pods", o.maxGrowthKB, o.growFrom, o.spec.Pods),
				fmt.Sprintf("(%s − %s) / %d pods = %.2f KB per pod", mb(med), mb(smallMed), o.spec.Pods-o.growFrom, perPod), perPod <= o.maxGrowthKB, o.strict})
		}
	}
	if len(r.gb) > 0 {
		ts = append(ts, target{fmt.Sprintf("Evaluator ≥ %s trust-policy evaluations/s on one core", thousands(minEvalsPerSec)),
			thousands(int64(evalsPerSec)) + "/s", evalsPerSec >= minEvalsPerSec, o.strict})
	}

	fmt.Fprintln(w, "\nTargets (issues 8 and 18):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	ok := true
	for _, t := range ts {
		verdict := "PASS"
		if !t.ok {
			verdict = "FAIL"
			if t.hard {
				ok = false
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", verdict, t.name, t.measured)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nThat the Kubernetes and AWS counts stay the same as the pod count grows is asserted by TestScaleCallCounts (make e2e).")
	return ok
}

func listIf(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	sort.Strings(xs)
	return "; listed more than once: " + strings.Join(xs, ", ")
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
