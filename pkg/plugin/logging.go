package plugin

import (
	"context"
	"sync"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/klog/v2"
)

// omittedBody replaces every request and response body client-go would log.
const omittedBody = "<omitted by kubectl-irsa: a body can hold a token, a credential or a Secret value>"

var logPolicyOnce sync.Once

// installLogPolicy sets, once per process and before any command runs, what
// the libraries under the plugin may log through klog:
//
//   - No request or response body, at any -v. From -v=8 client-go logs every
//     body it reads or sends, hex-dumped when it is protobuf
//     (k8s.io/client-go/rest/request.go, logBody): pods with static keys in
//     their spec, a Secret, a minted token. The entries stay, so -v=8 still
//     shows that a body went by, with omittedBody for the body. pkg/kube reads
//     Secrets and TokenRequests past that logging anyway (getUnlogged); this
//     covers every other read, resource.Builder's included.
//   - client-go's reports of errors it also returns only from -v=1. The
//     discovery cache reports each failed attempt at the API group list
//     (k8s.io/client-go/discovery/cached/memory/memcache.go, through
//     utilruntime.HandleErrorWithContext), four lines before the one error
//     the plugin prints when the API server cannot be reached.
func installLogPolicy() {
	logPolicyOnce.Do(func() {
		klog.SetLogFilter(bodyFilter{})
		// In place of utilruntime's defaults (its logError and a 1 ms
		// backoff meant for long-running components).
		utilruntime.ErrorHandlers = []utilruntime.ErrorHandler{unhandledErrorFromV1}
	})
}

// bodyFilter is the klog LogFilter of the process: it blanks the body of
// client-go's "Request Body" and "Response Body" entries (an empty one stays
// empty) and passes the rest.
type bodyFilter struct{}

func (bodyFilter) Filter(args []any) []any { return args }

func (bodyFilter) FilterF(format string, args []any) (string, []any) { return format, args }

func (bodyFilter) FilterS(msg string, keysAndValues []any) (string, []any) {
	if msg != "Request Body" && msg != "Response Body" {
		return msg, keysAndValues
	}
	out := make([]any, len(keysAndValues))
	copy(out, keysAndValues)
	for i := 0; i+1 < len(out); i += 2 {
		if k, _ := out[i].(string); k == "body" && out[i+1] != "" {
			out[i+1] = omittedBody
		}
	}
	return msg, out
}

// unhandledErrorFromV1 is utilruntime's logError (k8s.io/apimachinery/pkg/util/runtime/runtime.go)
// behind -v=1. Like logError it is called as <caller> → HandleError… →
// handleError → here, so the call depth of 3 names the caller's file and
// line, as before.
func unhandledErrorFromV1(ctx context.Context, err error, msg string, keysAndValues ...any) {
	if !klog.V(1).Enabled() {
		return
	}
	logger := klog.LoggerWithName(klog.FromContext(ctx).WithCallDepth(3), "UnhandledError")
	logger.Error(err, msg, keysAndValues...)
}
