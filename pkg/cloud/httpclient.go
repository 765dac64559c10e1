package cloud

import (
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// requestBodyGuard hands the transport each request body without its WriteTo
// method. smithy-go wraps a request body in a reader whose WriteTo answers
// io.EOF once the SDK has closed it, and the SDK closes it as soon as the
// response headers arrive. net/http, after sending Content-Length bytes,
// copies the body once more to check that it is empty; when the server
// answered first, that copy gets the io.EOF as an error, and the transport
// closes the connection under the response body being read. The call then
// fails with "use of closed network connection", the SDK warns on stderr and
// retries it. Read after close answers a plain io.EOF, which the copy takes
// as the end (docs/design.md#request-bodies).
type requestBodyGuard struct {
	next aws.HTTPClient
}

// guardRequestBodies wraps the HTTP client an SDK client resolved (never
// nil: the SDK sets its default before the caller's options run), so that
// the SDK's own transport settings (timeouts, CA bundle, proxy) stay as they
// are.
func guardRequestBodies(next aws.HTTPClient) aws.HTTPClient {
	return requestBodyGuard{next: next}
}

// Do sends req with its body reduced to Read and Close.
func (g requestBodyGuard) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return g.next.Do(req)
	}
	if _, ok := req.Body.(io.WriterTo); !ok {
		return g.next.Do(req)
	}
	guarded := req.WithContext(req.Context()) // a shallow copy: req stays the SDK's
	guarded.Body = readCloserOnly{req.Body}
	return g.next.Do(guarded)
}

// readCloserOnly exposes Read and Close of a body and nothing else.
type readCloserOnly struct {
	body io.ReadCloser
}

func (r readCloserOnly) Read(p []byte) (int, error) { return r.body.Read(p) }
func (r readCloserOnly) Close() error               { return r.body.Close() }
