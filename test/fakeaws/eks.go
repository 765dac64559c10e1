package fakeaws

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// fixedCreatedAt is createdAt as restJson1 sends it (epoch seconds).
const fixedCreatedAt = 1704164645

// eksAuthPathSuffix ends the path of EKS Auth's only operation,
// POST /clusters/{clusterName}/assume-role-for-pod-identity.
const eksAuthPathSuffix = "assume-role-for-pod-identity"

// maxEKSBody bounds a restJson1 request body; a service account token is a
// few kilobytes.
const maxEKSBody = 1 << 20

// isRESTJSON reports whether the service speaks restJson1 (errors in
// X-Amzn-Errortype and a JSON body) rather than awsQuery.
func isRESTJSON(service string) bool { return service == "eks" || service == "eks-auth" }

// parseEKS routes restJson1 requests by method and path: EKS's
// DescribeCluster, ListPodIdentityAssociations and
// DescribePodIdentityAssociation, and EKS Auth's AssumeRoleForPodIdentity
// (paths as the SDK's serializers build them, service/eks schemas.go and
// service/eksauth).
func parseEKS(r *http.Request, req request) (request, *apiError) {
	unknown := &apiError{status: http.StatusNotFound, code: "UnknownOperationException", message: fmt.Sprintf("fakeaws does not implement %s %s", r.Method, r.URL.Path)}
	rest, ok := strings.CutPrefix(r.URL.Path, "/clusters/")
	labels := strings.Split(rest, "/")
	if !ok || labels[0] == "" {
		req.op = "Unknown"
		return req, unknown
	}
	req.resource = labels[0]
	switch {
	case req.service == "eks-auth" && r.Method == http.MethodPost && len(labels) == 2 && labels[1] == eksAuthPathSuffix:
		req.op = opAssumeRoleForPodIdentity
		body, err := io.ReadAll(io.LimitReader(r.Body, maxEKSBody))
		if err != nil {
			return req, &apiError{status: http.StatusBadRequest, code: "InvalidRequestException", message: "could not read the request body"}
		}
		req.body = body
		return req, nil
	case req.service != "eks" || r.Method != http.MethodGet:
	case len(labels) == 1:
		req.op = "DescribeCluster"
		return req, nil
	case len(labels) == 2 && labels[1] == "pod-identity-associations":
		req.op = opListAssociations
		req.params = r.URL.Query()
		return req, nil
	case len(labels) == 3 && labels[1] == "pod-identity-associations" && labels[2] != "":
		req.op = opDescribeAssociation
		req.id = labels[2]
		return req, nil
	}
	req.op = "Unknown"
	req.resource = ""
	return req, unknown
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
	Network         *eksNetwork  `json:"kubernetesNetworkConfig,omitempty"`
}

type eksNetwork struct {
	IPFamily string `json:"ipFamily"`
}

func (s *Server) serveEKS(w http.ResponseWriter, req request) {
	switch req.op {
	case opListAssociations:
		s.serveListAssociations(w, req)
		return
	case opDescribeAssociation:
		s.serveDescribeAssociation(w, req)
		return
	}
	s.mu.Lock()
	c, ok := s.clusters[req.resource]
	var out eksCluster
	if ok {
		out = eksCluster{Name: c.Name, Arn: c.ARN, CreatedAt: fixedCreatedAt, Version: c.Version, Status: "ACTIVE", PlatformVersion: c.PlatformVersion}
		if c.Issuer != "" {
			out.Identity = &eksIdentity{OIDC: &eksOIDC{Issuer: c.Issuer}}
		}
		if c.IPFamily != "" {
			out.Network = &eksNetwork{IPFamily: c.IPFamily}
		}
	}
	s.mu.Unlock()
	if !ok {
		s.writeError(w, "eks", clusterNotFound(req.resource))
		return
	}
	w.Header().Set("X-Amzn-Requestid", requestID())
	writeJSON(w, http.StatusOK, map[string]any{"cluster": out})
}

// clusterNotFound is EKS's answer for a cluster name it does not know.
func clusterNotFound(name string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "ResourceNotFoundException",
		message: fmt.Sprintf("No cluster found for name: %s.", name), fields: map[string]string{"clusterName": name}}
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
