package kube

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/client-go/rest"
)

// getUnlogged runs req and decodes its JSON answer into v without client-go
// ever seeing the body. It is how the collector reads what must never reach a
// log: a Secret's data and a minted token.
//
// client-go logs bodies at -v>=8: Request.Do and DoRaw hand every answer to
// logBody, hex-dumped when it is protobuf (k8s.io/client-go/rest/request.go,
// transformResponse and DoRaw). Request.Stream returns a 2xx answer's body
// untouched and logs only a failed answer (a Status: reason and message, no
// data), which it turns into the same *errors.StatusError as Do, so
// apierrors.IsNotFound and IsForbidden keep classifying it. The transport's
// debug wrappers log URLs, headers with Authorization masked and timings,
// never bodies (k8s.io/client-go/transport/round_trippers.go). Throttling,
// retries, authentication and warnings are the client's, as with Do.
func getUnlogged(ctx context.Context, req *rest.Request, what string, v any) error {
	body, err := req.SetHeader("Accept", "application/json").Stream(ctx)
	if err != nil {
		return err
	}
	defer body.Close()
	if err := json.NewDecoder(body).Decode(v); err != nil {
		// Never the body or the decoder's excerpt of it: only what failed.
		return fmt.Errorf("reading the %s the API server returned: not the expected JSON", what)
	}
	return nil
}

// keysOnly decodes a JSON object's keys and drops every value unread, so a
// Secret's values are never held as strings.
type keysOnly map[string]ignored

// ignored is a JSON value that is skipped.
type ignored struct{}

// UnmarshalJSON drops the value.
func (ignored) UnmarshalJSON([]byte) error { return nil }

// envSourceKeys is what a Secret or ConfigMap is read for: the names of the
// variables envFrom makes of it. Secrets carry them in data (stringData is
// write-only, kept for servers that echo it), ConfigMaps in data.
type envSourceKeys struct {
	Data       keysOnly `json:"data"`
	StringData keysOnly `json:"stringData"`
}

// tokenRequestStatus is the part of a TokenRequest answer the probe needs.
type tokenRequestStatus struct {
	Status struct {
		Token string `json:"token"`
	} `json:"status"`
}
