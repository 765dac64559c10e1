package facts

import (
	"sort"
	"strings"
	"time"
)

// CloudTrail event names the plugin reads (docs/behaviour.md#cloudtrail).
const (
	// EventAssumeRoleWithWebIdentity is what a pod's SDK calls for IRSA,
	// logged by sts.amazonaws.com in the region of the STS endpoint it
	// used (us-east-1 for the global endpoint).
	EventAssumeRoleWithWebIdentity = "AssumeRoleWithWebIdentity"
	// EventAssumeRoleForPodIdentity is what the eks-pod-identity-agent
	// calls for a pod, logged by eks-auth.amazonaws.com in the cluster's
	// region.
	EventAssumeRoleForPodIdentity = "AssumeRoleForPodIdentity"
	// EventAssumeRole is, for Pod Identity, the sts:AssumeRole EKS makes
	// as pods.eks.amazonaws.com behind a successful
	// AssumeRoleForPodIdentity: the one record that names the service
	// account (in its session tags), logged in the role's account and the
	// cluster's region. Other AssumeRole events are not kept.
	EventAssumeRole = "AssumeRole"
)

// TrailFacts is what was read of CloudTrail (diagnose --cloudtrail,
// kubectl irsa events): the recent token exchanges of this cluster's
// service accounts. Only the fields the checks use are kept, never a
// credential: an event's accessKeyId is dropped with the rest.
type TrailFacts struct {
	// Since and Until bound the window that was asked for.
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// MaxEvents is the bound on the events read by each lookup.
	MaxEvents int `json:"maxEvents"`
	// Account is the account whose trail was read: the caller's.
	// CloudTrail records a call in the account that owns the role, so
	// the roles of other accounts have no events here.
	Account string `json:"account,omitempty"`
	// Unavailable says why nothing could be read at all (no caller
	// identity, no AWS configuration).
	Unavailable string `json:"unavailable,omitempty"`
	// Lookups are the LookupEvents passes, one per region and event name,
	// in the order they were made.
	Lookups []TrailLookup `json:"lookups,omitempty"`
	// Events are this cluster's events (its OIDC provider's tokens, its
	// Pod Identity calls), deduplicated by event id, oldest first.
	Events []TrailEvent `json:"events,omitempty"`
	// Malformed counts events whose CloudTrailEvent document could not be
	// read; they are skipped.
	Malformed int `json:"malformed,omitempty"`
	// OtherClusters counts the events read that belong to other clusters
	// or providers of the account; they are not kept.
	OtherClusters int `json:"otherClusters,omitempty"`
	// Explanations maps "code: message" of the failures to the cause
	// pkg/explain gives, so a finding can name the offline check that
	// explains a failure.
	Explanations map[string]*ProbeExplanation `json:"explanations,omitempty"`
}

// TrailLookup is one paged LookupEvents pass.
type TrailLookup struct {
	Region    string `json:"region"`
	EventName string `json:"eventName"`
	// Pages and Events say how much was read.
	Pages  int `json:"pages"`
	Events int `json:"events"`
	// Truncated is set when MaxEvents stopped the pass with more to read;
	// Oldest is then the time of the oldest event read.
	Truncated bool      `json:"truncated,omitempty"`
	Oldest    time.Time `json:"oldest,omitzero"`
	// Err is set when the pass failed; what was read before it is kept.
	Err *CallError `json:"error,omitempty"`
}

// TrailEvent is one token exchange as CloudTrail recorded it.
type TrailEvent struct {
	ID     string    `json:"id"`
	Time   time.Time `json:"time"`
	Region string    `json:"region"`
	// Name is EventAssumeRoleWithWebIdentity or EventAssumeRoleForPodIdentity.
	Name string `json:"name"`
	// Namespace and ServiceAccount are who made the call: the token's sub
	// (IRSA), or the session tags of EKS's AssumeRole (Pod Identity). EKS
	// Auth logs AssumeRoleForPodIdentity without its subject, so those
	// events have neither.
	Namespace      string `json:"namespace,omitempty"`
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// Subject is the raw sub of a web identity call when it does not name
	// a service account.
	Subject string `json:"subject,omitempty"`
	// Provider and Audience are the web identity call's OIDC provider ARN
	// and token audience.
	Provider string `json:"provider,omitempty"`
	Audience string `json:"audience,omitempty"`
	// Cluster is the Pod Identity call's cluster name (requestParameters,
	// or the eks-cluster-name session tag).
	Cluster string `json:"cluster,omitempty"`
	// AssociationID is the Pod Identity association EKS Auth used.
	AssociationID string `json:"associationId,omitempty"`
	// RoleARN is the role that was asked for (IRSA) or, for Pod Identity,
	// the role of the association when it is known.
	RoleARN string `json:"roleArn,omitempty"`
	// AssumedRoleARN is the session's ARN, on success.
	AssumedRoleARN string `json:"assumedRoleArn,omitempty"`
	// ErrorCode and ErrorMessage are AWS's answer on failure.
	ErrorCode    string `json:"errorCode,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	// UserAgent is the caller's User-Agent: the pod's SDK for IRSA, the
	// agent for Pod Identity.
	UserAgent string `json:"userAgent,omitempty"`
	SourceIP  string `json:"sourceIP,omitempty"`
	// Host is the endpoint the caller named (tlsDetails.clientProvidedHostHeader).
	Host string `json:"host,omitempty"`
}

// PodIdentityEvent reports whether an event is a Pod Identity exchange:
// EKS Auth's own record, or EKS's AssumeRole behind it.
func (e TrailEvent) PodIdentityEvent() bool {
	return e.Name == EventAssumeRoleForPodIdentity || e.Name == EventAssumeRole
}

// Failed reports whether AWS refused the call.
func (e TrailEvent) Failed() bool { return e.ErrorCode != "" }

// Key is "namespace/serviceaccount" of the caller, "" when unknown.
func (e TrailEvent) Key() string {
	if e.Namespace == "" || e.ServiceAccount == "" {
		return ""
	}
	return e.Namespace + "/" + e.ServiceAccount
}

// For returns the events of one service account, oldest first.
func (t *TrailFacts) For(namespace, name string) []TrailEvent {
	if t == nil {
		return nil
	}
	var out []TrailEvent
	for _, e := range t.Events {
		if e.Namespace == namespace && e.ServiceAccount == name {
			out = append(out, e)
		}
	}
	return out
}

// Lookup returns the pass of one region and event name.
func (t *TrailFacts) Lookup(region, eventName string) (TrailLookup, bool) {
	if t == nil {
		return TrailLookup{}, false
	}
	for _, l := range t.Lookups {
		if l.Region == region && l.EventName == eventName {
			return l, true
		}
	}
	return TrailLookup{}, false
}

// ExplanationKey is the key of TrailFacts.Explanations.
func ExplanationKey(code, message string) string { return code + ": " + message }

// SortTrailEvents orders events oldest first, by id for the same time, so
// every rendering of them is deterministic.
func SortTrailEvents(evs []TrailEvent) {
	sort.Slice(evs, func(i, j int) bool {
		if !evs[i].Time.Equal(evs[j].Time) {
			return evs[i].Time.Before(evs[j].Time)
		}
		return evs[i].ID < evs[j].ID
	})
}

// ParseServiceAccountSubject splits "system:serviceaccount:NS:NAME".
func ParseServiceAccountSubject(sub string) (namespace, name string, ok bool) {
	rest, found := strings.CutPrefix(sub, "system:serviceaccount:")
	if !found {
		return "", "", false
	}
	namespace, name, found = strings.Cut(rest, ":")
	if !found || namespace == "" || name == "" || strings.Contains(name, ":") {
		return "", "", false
	}
	return namespace, name, true
}
