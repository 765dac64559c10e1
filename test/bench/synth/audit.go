package synth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// AuditPolicy records one Metadata event per request, when its response is
// complete, for every client but the API server's own loopback one. The API
// server then counts the requests itself; no client-side hook can miss one.
const AuditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived", "ResponseStarted"]
rules:
- level: None
  users: ["system:apiserver"]
- level: Metadata
`

// AuditFlags writes AuditPolicy into dir and returns the kube-apiserver flags
// that log every request to dir/audit.log, synchronously, never rotated.
func AuditFlags(dir string) (flags []string, logPath string, err error) {
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(AuditPolicy), 0o600); err != nil {
		return nil, "", fmt.Errorf("write audit policy: %w", err)
	}
	logPath = filepath.Join(dir, "audit.log")
	return []string{
		"--audit-policy-file=" + policy,
		"--audit-log-path=" + logPath,
		"--audit-log-format=json",
		"--audit-log-mode=blocking",
		"--audit-log-maxsize=100000",
	}, logPath, nil
}

// Event is the part of an audit.k8s.io/v1 Event the counts need.
type Event struct {
	Stage      string `json:"stage"`
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	UserAgent  string `json:"userAgent"`
	ObjectRef  *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

// Key is "verb resource" ("list pods", "get namespaces",
// "create serviceaccounts/token") or, for a path outside the API
// ("get /.well-known/openid-configuration"), "verb path".
func (e Event) Key() string {
	if e.ObjectRef == nil || e.ObjectRef.Resource == "" {
		path := e.RequestURI
		if u, err := url.Parse(e.RequestURI); err == nil {
			path = u.Path
		}
		return e.Verb + " " + path
	}
	r := e.ObjectRef.Resource
	if e.ObjectRef.Subresource != "" {
		r += "/" + e.ObjectRef.Subresource
	}
	return e.Verb + " " + r
}

// Continued reports whether the request asked for a later page of a LIST.
func (e Event) Continued() bool {
	u, err := url.Parse(e.RequestURI)
	return err == nil && u.Query().Get("continue") != ""
}

// Agent is the product of the User-Agent: "kubectl", "kubectl-irsa",
// "Go-http-client" (plain net/http, e.g. the issuer's discovery document).
func (e Event) Agent() string {
	a, _, _ := strings.Cut(e.UserAgent, "/")
	if a == "" {
		return "(none)"
	}
	return a
}

// Requests summarises the events of one run.
type Requests struct {
	Total int
	// Pages counts LIST requests that continued an earlier page.
	Pages int
	// ByKey counts requests by Event.Key.
	ByKey map[string]int
	// PagesByKey counts continued pages by Event.Key.
	PagesByKey map[string]int
	// ByAgent counts requests by Event.Agent.
	ByAgent map[string]int
}

// Summarize counts events.
func Summarize(events []Event) Requests {
	r := Requests{ByKey: map[string]int{}, PagesByKey: map[string]int{}, ByAgent: map[string]int{}}
	for _, e := range events {
		r.Total++
		r.ByKey[e.Key()]++
		r.ByAgent[e.Agent()]++
		if e.Continued() {
			r.Pages++
			r.PagesByKey[e.Key()]++
		}
	}
	return r
}

// Keys returns ByKey's keys in order.
func (r Requests) Keys() []string {
	keys := make([]string, 0, len(r.ByKey))
	for k := range r.ByKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Verb counts requests of one verb.
func (r Requests) Verb(verb string) int {
	n := 0
	for k, v := range r.ByKey {
		if strings.HasPrefix(k, verb+" ") {
			n += v
		}
	}
	return n
}

// BenchUserAgent is the User-Agent of the client that builds the cluster and
// sends markers; its requests are never counted.
const BenchUserAgent = "kubectl-irsa-bench"

// AuditLog reads the events a run adds to the API server's audit log.
type AuditLog struct {
	Path   string
	offset int64
	marks  int
}

// Skip moves past everything logged so far, waiting for in-flight events
// with a marker request (see Take).
func (a *AuditLog) Skip(ctx context.Context, cs kubernetes.Interface) error {
	_, err := a.Take(ctx, cs)
	return err
}

// Take returns the events logged since the last Take or Skip, excluding the
// bench's own. The API server writes a request's event as it finishes it,
// which can be just after the client saw the answer; so Take waits a moment,
// sends a marker request and reads until the marker's event is in the log.
func (a *AuditLog) Take(ctx context.Context, cs kubernetes.Interface) ([]Event, error) {
	time.Sleep(100 * time.Millisecond)
	a.marks++
	marker := fmt.Sprintf("audit-marker-%d-%d", os.Getpid(), a.marks)
	_, err := cs.CoreV1().ConfigMaps(metav1.NamespaceDefault).Get(ctx, marker, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("audit marker: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		events, end, found, err := a.read(marker)
		if err != nil {
			return nil, err
		}
		if found {
			a.offset = end
			return events, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("audit marker %s not in %s after 10s: is auditing on?", marker, a.Path)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// read parses complete lines from the offset on and reports whether the
// marker's event is among them; end is the offset after the last one.
func (a *AuditLog) read(marker string) (events []Event, end int64, found bool, err error) {
	f, err := os.Open(a.Path)
	if err != nil {
		return nil, 0, false, fmt.Errorf("open audit log: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(a.offset, io.SeekStart); err != nil {
		return nil, 0, false, fmt.Errorf("seek audit log: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, 0, false, fmt.Errorf("read audit log: %w", err)
	}
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i+1]
	} else {
		data = nil
	}
	end = a.offset + int64(len(data))
	events, found, err = ParseAudit(data, marker)
	return events, end, found, err
}

// ParseAudit decodes JSON-lines audit events, dropping the bench's own
// requests, and reports whether one of those named marker.
func ParseAudit(data []byte, marker string) ([]Event, bool, error) {
	var events []Event
	found := false
	for line := range bytes.Lines(data) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, false, fmt.Errorf("audit event %.80q: %w", line, err)
		}
		if e.Stage != "" && e.Stage != "ResponseComplete" && e.Stage != "Panic" {
			continue
		}
		if strings.HasPrefix(e.UserAgent, BenchUserAgent) {
			if marker != "" && e.ObjectRef != nil && e.ObjectRef.Name == marker {
				found = true
			}
			continue
		}
		events = append(events, e)
	}
	return events, found, nil
}
