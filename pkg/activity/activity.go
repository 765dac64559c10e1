// Package activity summarises the token exchanges CloudTrail recorded for a
// cluster (kubectl irsa events): per service account and role, how many
// calls succeeded and failed, with which errors, from which SDKs, and when.
// It is pure: it reads facts.TrailFacts, the same facts the CloudTrail
// checks of diagnose judge.
package activity

import (
	"slices"
	"sort"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/useragent"
)

// Mechanisms, as the rows name them.
const (
	MechanismIRSA        = "IRSA"
	MechanismPodIdentity = "PodIdentity"
)

// Row is the calls of one service account for one role.
type Row struct {
	Namespace string `json:"namespace,omitempty"`
	// ServiceAccount is "" for Pod Identity refusals, which CloudTrail
	// logs without the service account.
	ServiceAccount string    `json:"serviceAccount,omitempty"`
	Mechanism      string    `json:"mechanism"`
	Role           string    `json:"role,omitempty"`
	Succeeded      int       `json:"succeeded"`
	Failed         int       `json:"failed"`
	Errors         []Error   `json:"errors,omitempty"`
	SDKs           []SDK     `json:"sdks,omitempty"`
	Regions        []string  `json:"regions"`
	FirstSeen      time.Time `json:"firstSeen,omitzero"`
	LastSeen       time.Time `json:"lastSeen,omitzero"`
}

// Error is one error code with how often it was returned and its newest
// message.
type Error struct {
	Code    string `json:"code"`
	Count   int    `json:"count"`
	Message string `json:"message"`
}

// SDK is one caller's SDK and version; Name is the raw user agent when it
// is not recognised (it is never guessed).
type SDK struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Known   bool   `json:"known"`
	Calls   int    `json:"calls"`
}

// Rows groups the events by service account, mechanism and role, ordered
// by namespace, service account, mechanism and role. expected are rows to
// show even without a call (the subjects' own roles); only their keys are
// read.
func Rows(t *facts.TrailFacts, expected []Row) []Row {
	if t == nil {
		return nil
	}
	type key struct{ ns, sa, mech, role string }
	byKey := map[key]*Row{}
	var keys []key
	for _, x := range expected {
		k := key{x.Namespace, x.ServiceAccount, x.Mechanism, x.Role}
		if byKey[k] == nil {
			byKey[k] = &Row{Namespace: k.ns, ServiceAccount: k.sa, Mechanism: k.mech, Role: k.role, Regions: []string{}}
			keys = append(keys, k)
		}
	}
	for _, e := range t.Events {
		mech := MechanismIRSA
		if e.PodIdentityEvent() {
			mech = MechanismPodIdentity
		}
		k := key{e.Namespace, e.ServiceAccount, mech, e.RoleARN}
		r := byKey[k]
		if r == nil {
			r = &Row{Namespace: k.ns, ServiceAccount: k.sa, Mechanism: mech, Role: k.role, Regions: []string{}}
			byKey[k] = r
			keys = append(keys, k)
		}
		if r.FirstSeen.IsZero() {
			r.FirstSeen = e.Time
		}
		add(r, e)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.ns != b.ns {
			return a.ns < b.ns
		}
		if a.sa != b.sa {
			return a.sa < b.sa
		}
		if a.mech != b.mech {
			return a.mech < b.mech
		}
		return a.role < b.role
	})
	out := make([]Row, 0, len(keys))
	for _, k := range keys {
		r := byKey[k]
		sort.SliceStable(r.Errors, func(i, j int) bool {
			if r.Errors[i].Count != r.Errors[j].Count {
				return r.Errors[i].Count > r.Errors[j].Count
			}
			return r.Errors[i].Code < r.Errors[j].Code
		})
		sort.SliceStable(r.SDKs, func(i, j int) bool {
			if r.SDKs[i].Name != r.SDKs[j].Name {
				return r.SDKs[i].Name < r.SDKs[j].Name
			}
			return r.SDKs[i].Version < r.SDKs[j].Version
		})
		sort.Strings(r.Regions)
		out = append(out, *r)
	}
	return out
}

// add counts one event (events arrive oldest first).
func add(r *Row, e facts.TrailEvent) {
	r.LastSeen = e.Time
	if e.Failed() {
		r.Failed++
		found := false
		for i := range r.Errors {
			if r.Errors[i].Code == e.ErrorCode {
				r.Errors[i].Count++
				r.Errors[i].Message = e.ErrorMessage
				found = true
			}
		}
		if !found {
			r.Errors = append(r.Errors, Error{Code: e.ErrorCode, Count: 1, Message: e.ErrorMessage})
		}
	} else {
		r.Succeeded++
	}
	if !slices.Contains(r.Regions, e.Region) {
		r.Regions = append(r.Regions, e.Region)
	}
	if e.UserAgent == "" || e.PodIdentityEvent() {
		// A Pod Identity record carries the agent's or EKS's user agent,
		// never the pod's SDK.
		return
	}
	sdk := SDK{Name: e.UserAgent}
	if s, ok := useragent.Parse(e.UserAgent); ok {
		sdk = SDK{Name: s.Name, Version: s.Version, Known: true}
	}
	for i := range r.SDKs {
		if r.SDKs[i].Name == sdk.Name && r.SDKs[i].Version == sdk.Version {
			r.SDKs[i].Calls++
			return
		}
	}
	sdk.Calls = 1
	r.SDKs = append(r.SDKs, sdk)
}
