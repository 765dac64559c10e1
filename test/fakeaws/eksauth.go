package fakeaws

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// EKS Auth AssumeRoleForPodIdentity, the call the eks-pod-identity-agent
// makes with the node role for every pod's credentials
// (docs/behaviour.md#pod-identity-flow). Wire shape from the API reference
// (https://docs.aws.amazon.com/eks/latest/APIReference/API_auth_AssumeRoleForPodIdentity.html)
// and the SDK's service/eksauth snapshots: POST
// /clusters/{clusterName}/assume-role-for-pod-identity with {"token": ...};
// the answer's credentials.expiration is epoch seconds.

const (
	opAssumeRoleForPodIdentity = "AssumeRoleForPodIdentity"
	// podIdentityPrincipal is both the audience the token must carry and the
	// service principal EKS assumes roles as (docs/behaviour.md#pod-identity-trust-policy).
	podIdentityPrincipal = "pods.eks.amazonaws.com"
	// msgPodIdentityDenied is what EKS Auth answered, observed on the wire,
	// when a role's trust refused the pod; every trust refusal gets it here,
	// the target role's included (not confirmed for that hop).
	msgPodIdentityDenied = "Unauthorized Exception! EKS does not have permissions to assume the associated role."
	// maxSessionName is STS's limit on RoleSessionName.
	maxSessionName = 64
	// Credential lifetimes: the agent keeps credentials 6 hours, or 59
	// minutes with a target role
	// (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-assign-target-role.html),
	// so EKS Auth's last at least that long.
	podIdentityCredentialTTL       = 6 * time.Hour
	podIdentityTargetCredentialTTL = time.Hour
)

// The session tags EKS adds (docs/behaviour.md#pod-identity-trust-policy).
const (
	tagClusterARN     = "eks-cluster-arn"
	tagClusterName    = "eks-cluster-name"
	tagNamespace      = "kubernetes-namespace"
	tagServiceAccount = "kubernetes-service-account"
	tagPodName        = "kubernetes-pod-name"
	tagPodUID         = "kubernetes-pod-uid"
)

// The wording of these EKS Auth errors is the emulator's own: no real message
// was found to copy. Their codes and statuses are EKS Auth's; tests should
// not depend on the text.
const (
	msgPodTokenNotJWT       = "The service account token is not a valid JWT."
	msgPodTokenIssuer       = "The service account token was not issued by this cluster."
	msgPodTokenSignature    = "The signature of the service account token could not be verified."
	msgPodTokenAudience     = "The audience of the service account token is not " + podIdentityPrincipal + "."
	msgPodTokenExpired      = "The service account token has expired."
	msgPodTokenNoSubject    = "The service account token does not name a service account."
	msgPodTokenMissingClaim = "The service account token is missing the claim "
)

func podTokenInvalid(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidTokenException", message: msg}
}

type podIdentitySubject struct {
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
}

type podIdentityAssociationRef struct {
	AssociationArn string `json:"associationArn"`
	AssociationID  string `json:"associationId"`
}

type podIdentityRoleUser struct {
	Arn          string `json:"arn"`
	AssumeRoleID string `json:"assumeRoleId"`
}

type podIdentityCredentials struct {
	SessionToken    string `json:"sessionToken"`
	SecretAccessKey string `json:"secretAccessKey"`
	AccessKeyID     string `json:"accessKeyId"`
	Expiration      int64  `json:"expiration"`
}

type assumeRoleForPodIdentityResponse struct {
	Subject                podIdentitySubject        `json:"subject"`
	Audience               string                    `json:"audience"`
	PodIdentityAssociation podIdentityAssociationRef `json:"podIdentityAssociation"`
	AssumedRoleUser        podIdentityRoleUser       `json:"assumedRoleUser"`
	Credentials            podIdentityCredentials    `json:"credentials"`
}

func (s *Server) serveEKSAuth(ctx context.Context, w http.ResponseWriter, req request) {
	out, aerr := s.assumeRoleForPodIdentity(ctx, req)
	s.recordTrail(req, out, aerr)
	if aerr != nil {
		s.writeError(w, req.service, aerr)
		return
	}
	w.Header().Set("X-Amzn-Requestid", requestID())
	writeJSON(w, http.StatusOK, out)
}

// podSubject is who the token speaks for: the kubernetes.io claim, else the
// sub claim system:serviceaccount:NAMESPACE:NAME (which names no pod).
type podSubject struct {
	namespace, serviceAccount, podName, podUID string
}

func subjectOf(tok *parsedToken) (podSubject, bool) {
	if k := tok.claims.Kubernetes; k != nil && k.Namespace != "" && k.ServiceAccount != nil && k.ServiceAccount.Name != "" {
		sub := podSubject{namespace: k.Namespace, serviceAccount: k.ServiceAccount.Name}
		if k.Pod != nil {
			sub.podName, sub.podUID = k.Pod.Name, k.Pod.UID
		}
		return sub, true
	}
	rest, ok := strings.CutPrefix(tok.claims.Sub, "system:serviceaccount:")
	ns, sa, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || ns == "" || sa == "" || strings.Contains(sa, ":") {
		return podSubject{}, false
	}
	return podSubject{namespace: ns, serviceAccount: sa}, true
}

// assumeRoleForPodIdentity validates the token against the cluster (JWT,
// issuer, signature through the issuer's JWKS, audience, expiry), finds the
// association of its service account and evaluates the role's trust for
// Service pods.eks.amazonaws.com, then, with a target role, that role's trust
// for the association role. The order of the token checks is the emulator's:
// EKS Auth does not document one.
func (s *Server) assumeRoleForPodIdentity(ctx context.Context, req request) (*assumeRoleForPodIdentityResponse, *apiError) {
	var in struct {
		Token string `json:"token"`
	}
	if len(req.body) > 0 && json.Unmarshal(req.body, &in) != nil {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidRequestException", message: "The request body is not valid JSON."}
	}
	if in.Token == "" {
		return nil, &apiError{status: http.StatusBadRequest, code: "InvalidParameterException", message: "The token parameter is required."}
	}
	s.mu.Lock()
	cp, ok := s.clusters[req.resource]
	var cluster Cluster
	if ok {
		cluster = *cp
	}
	callerAccount := s.caller.Account
	s.mu.Unlock()
	if !ok {
		// Code and wording as EKS's for an unknown cluster; not confirmed for EKS Auth.
		return nil, &apiError{status: http.StatusNotFound, code: "ResourceNotFoundException", message: fmt.Sprintf("No cluster found for name: %s.", req.resource)}
	}

	tok, missing, ok := decodeJWT(in.Token)
	switch {
	case !ok:
		return nil, podTokenInvalid(msgPodTokenNotJWT)
	case missing != "":
		return nil, podTokenInvalid(msgPodTokenMissingClaim + missing + ".")
	case cluster.Issuer == "" || tok.claims.Iss != cluster.Issuer:
		return nil, podTokenInvalid(msgPodTokenIssuer)
	}
	// EKS holds the cluster's signing keys itself; the emulator fetches
	// them from the issuer, whose certificate it has no reason to judge (no
	// thumbprint plays a part in Pod Identity).
	keys, failure := fetchJWKS(ctx, cluster.Issuer, nil)
	if failure != keysFetched {
		return nil, &apiError{status: http.StatusInternalServerError, code: "InternalServerException",
			message: "fakeaws could not fetch the signing keys of " + cluster.Issuer}
	}
	if checkSignature(tok, keys) != sigValid {
		return nil, podTokenInvalid(msgPodTokenSignature)
	}
	if !slices.Contains(tok.aud, podIdentityPrincipal) {
		return nil, podTokenInvalid(msgPodTokenAudience)
	}
	now := time.Now()
	if !now.Before(time.Unix(tok.exp, 0)) {
		return nil, &apiError{status: http.StatusBadRequest, code: "ExpiredTokenException", message: msgPodTokenExpired}
	}
	sub, ok := subjectOf(tok)
	if !ok {
		return nil, podTokenInvalid(msgPodTokenNoSubject)
	}

	assoc, ok := s.associationFor(cluster.Name, sub.namespace, sub.serviceAccount)
	if !ok {
		// Code as docs/behaviour.md#pod-identity-flow gives it for a service
		// account without association; wording the emulator's.
		return nil, &apiError{status: http.StatusNotFound, code: "ResourceNotFoundException",
			message: fmt.Sprintf("No Pod Identity association found for service account %s in namespace %s of cluster %s.", sub.serviceAccount, sub.namespace, cluster.Name)}
	}

	clusterARN, acct, partition := cluster.ARN, accountOf(cluster.ARN), arnPart(cluster.ARN, 1)
	if clusterARN == "" {
		acct, partition = callerAccount, "aws"
		clusterARN = fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", Region, acct, cluster.Name)
	}
	tags := map[string]string{}
	if !assoc.DisableSessionTags {
		tags = map[string]string{tagClusterARN: clusterARN, tagClusterName: cluster.Name,
			tagNamespace: sub.namespace, tagServiceAccount: sub.serviceAccount}
		if sub.podName != "" {
			tags[tagPodName] = sub.podName
		}
		if sub.podUID != "" {
			tags[tagPodUID] = sub.podUID
		}
	}
	actions := []string{"sts:AssumeRole"}
	if len(tags) > 0 {
		// Session tags need sts:TagSession (docs/behaviour.md#pod-identity-trust-policy).
		actions = append(actions, "sts:TagSession")
	}
	denied := &apiError{status: http.StatusBadRequest, code: "AccessDeniedException", message: msgPodIdentityDenied}

	role, ok := s.roleByARN(assoc.RoleARN)
	if !ok {
		return nil, denied
	}
	first := trustRequest{service: podIdentityPrincipal, keys: map[string][]string{
		"aws:sourceaccount": {acct},
		"aws:sourcearn":     {clusterARN},
	}}
	addTagKeys(first.keys, "aws:requesttag/", tags)
	if !trustAllowsAll(role.TrustPolicy, first, actions) {
		return nil, denied
	}
	final, ttl := role, podIdentityCredentialTTL
	if assoc.TargetRoleARN != "" {
		target, ok := s.roleByARN(assoc.TargetRoleARN)
		if !ok {
			return nil, denied
		}
		// The second hop is the association role's session assuming the
		// target: its principal is that role, the external ID is the
		// association's, and the tags, being transitive, ride along (as the
		// session's principal tags and again as request tags, which is why
		// the target's trust needs sts:TagSession too while tags are on).
		second := trustRequest{aws: role.ARN, keys: map[string][]string{"sts:externalid": {assoc.ExternalID}}}
		addTagKeys(second.keys, "aws:requesttag/", tags)
		addTagKeys(second.keys, "aws:principaltag/", tags)
		if !trustAllowsAll(target.TrustPolicy, second, actions) {
			return nil, denied
		}
		final, ttl = target, podIdentityTargetCredentialTTL
	}

	id := requestID()
	session := sessionName(cluster.Name, sub.podName, requestID())
	if partition == "" {
		partition = "aws"
	}
	return &assumeRoleForPodIdentityResponse{
		Subject:                podIdentitySubject{Namespace: sub.namespace, ServiceAccount: sub.serviceAccount},
		Audience:               podIdentityPrincipal,
		PodIdentityAssociation: podIdentityAssociationRef{AssociationArn: assoc.ARN, AssociationID: assoc.ID},
		AssumedRoleUser: podIdentityRoleUser{
			Arn:          fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", partition, final.account, final.Name, session),
			AssumeRoleID: roleID(final.ARN) + ":" + session,
		},
		// Obviously fake values, never shaped like a real secret.
		Credentials: podIdentityCredentials{
			AccessKeyID:     "ASIA" + strings.ToUpper(strings.ReplaceAll(id, "-", ""))[:16],
			SecretAccessKey: "fakeaws-secret-" + id,
			SessionToken:    "fakeaws-session-" + id,
			Expiration:      now.Add(ttl).Unix(),
		},
	}, nil
}

// sessionName is eks-CLUSTER-POD-UUID, the form the SDK documents for the
// role session name (service/eksauth api_op_AssumeRoleForPodIdentity.go),
// cut to STS's 64 characters; how EKS shortens longer names is not known.
func sessionName(cluster, pod, uuid string) string {
	n := "eks-" + cluster + "-" + pod + "-" + uuid
	if len(n) > maxSessionName {
		n = n[:maxSessionName]
	}
	return n
}

// addTagKeys adds each tag as prefix+key (condition keys are lower-cased)
// and, under aws:TagKeys, the list of the tag keys.
func addTagKeys(keys map[string][]string, prefix string, tags map[string]string) {
	if len(tags) == 0 {
		return
	}
	names := make([]string, 0, len(tags))
	for k, v := range tags {
		keys[prefix+strings.ToLower(k)] = []string{v}
		names = append(names, k)
	}
	slices.Sort(names)
	keys["aws:tagkeys"] = names
}

// trustAllowsAll reports whether the policy allows every action for rc, as
// STS requires of an AssumeRole that also sets session tags.
func trustAllowsAll(doc string, rc trustRequest, actions []string) bool {
	for _, a := range actions {
		rc.action = a
		ok, err := evaluateTrust(doc, rc)
		if err != nil || !ok {
			return false
		}
	}
	return true
}
