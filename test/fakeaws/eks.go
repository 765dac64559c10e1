package fakeaws

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// fixedCreatedAt is createdAt as restJson1 sends it (epoch seconds).
const fixedCreatedAt = 1704164645

// parseEKS routes restJson1 requests by method and path.
func parseEKS(r *http.Request, req request) (request, *apiError) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/clusters/")
	if ok && r.Method == http.MethodGet && rest != "" && !strings.Contains(rest, "/") {
		req.op = "DescribeCluster"
		req.resource = rest
		return req, nil
	}
	req.op = "Unknown"
	return req, &apiError{status: http.StatusNotFound, code: "UnknownOperationException", message: fmt.Sprintf("fakeaws does not implement %s %s", r.Method, r.URL.Path)}
}

type eksOIDC struct {
	Issuer string `json:"issuer"`
}

type eksIdentity struct {
	OIDC *eksOIDC `json:"oidc,omitempty"`
}

type eksCluster struct {
	Name            string       `json:"name"`
	Arn             string       `json:"arn,omitempty"`
	CreatedAt       int64        `json:"createdAt"`
	Version         string       `json:"version,omitempty"`
	Status          string       `json:"status"`
	PlatformVersion string       `json:"platformVersion,omitempty"`
	Identity        *eksIdentity `json:"identity,omitempty"`
}

func (s *Server) serveEKS(w http.ResponseWriter, req request) {
	s.mu.Lock()
	c, ok := s.clusters[req.resource]
	var out eksCluster
	if ok {
		out = eksCluster{Name: c.Name, Arn: c.ARN, CreatedAt: fixedCreatedAt, Version: c.Version, Status: "ACTIVE", PlatformVersion: c.PlatformVersion}
		if c.Issuer != "" {
			out.Identity = &eksIdentity{OIDC: &eksOIDC{Issuer: c.Issuer}}
		}
	}
	s.mu.Unlock()
	if !ok {
		s.writeError(w, "eks", &apiError{status: http.StatusNotFound, code: "ResourceNotFoundException",
			message: fmt.Sprintf("No cluster found for name: %s.", req.resource), fields: map[string]string{"clusterName": req.resource}})
		return
	}
	w.Header().Set("X-Amzn-Requestid", requestID())
	writeJSON(w, http.StatusOK, map[string]any{"cluster": out})
}

// writeEKSError answers the restJson1 way: the code in X-Amzn-Errortype, the
// message (and modelled members) in a JSON body.
func writeEKSError(w http.ResponseWriter, e *apiError) {
	body := map[string]string{"message": e.message}
	for k, v := range e.fields {
		body[k] = v
	}
	w.Header().Set("X-Amzn-Errortype", e.code)
	writeJSON(w, e.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "fakeaws: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
