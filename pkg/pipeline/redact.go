package pipeline

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// Redact replaces, everywhere in the document, account ids, role names,
// namespaces, service account names and EKS cluster names with stand-ins
// (100000000001, role-1, ns-1, sa-1, cluster-1), the same stand-in for the
// same name, so the checks
// reach the same verdicts on the redacted file: a trust condition still
// names the service account the pod runs as. A wildcard that matched part
// of a name (system:serviceaccount:team-*:*) may stop matching; the README
// says so.
func Redact(doc *Snapshot) (*Snapshot, error) {
	r := newRedactor(doc)
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("redacting the snapshot: %w", err)
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return nil, fmt.Errorf("redacting the snapshot: %w", err)
	}
	tree = r.walk(tree, "")
	if raw, err = json.Marshal(tree); err != nil {
		return nil, fmt.Errorf("redacting the snapshot: %w", err)
	}
	var out Snapshot
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("redacting the snapshot: %w", err)
	}
	out.Redacted = true
	return &out, nil
}

// keyedMaps are the maps whose keys are names or ARNs, by JSON path (and
// every level of /facts/roleServiceAccounts: namespace, then name).
var keyedMaps = map[string]bool{
	"/facts/namespaces": true, "/facts/namespaceErrors": true, "/facts/probes": true,
	"/facts/aws/roles": true, "/facts/aws/providers": true, "/facts/aws/providerLists": true,
	"/facts/webhookConfigMap/entries": true, "/facts/podIdentityProbes": true,
	"/facts/cloudTrail/explanations": true,
}

var accountID = regexp.MustCompile(`\b\d{12}\b`)

type redactor struct {
	accounts map[string]string
	// names are whole-name replacements, longest first.
	names []nameSwap
}

type nameSwap struct{ from, to string }

// redactedNames are the names a snapshot holds, by kind.
type redactedNames struct {
	namespaces, accounts, serviceAccounts, roles, clusters map[string]bool
}

func (n *redactedNames) role(arn string) {
	if role, err := awsarn.ParseRoleARN(arn); err == nil {
		n.roles[role.Name] = true
		n.accounts[role.Account] = true
	}
}

// kube collects the names of the Kubernetes side: the scope, namespaces,
// subjects, the webhook's ConfigMap and the annotated service accounts.
func (n *redactedNames) kube(doc *Snapshot) {
	if doc.Request.Scope.Namespace != "" {
		n.namespaces[doc.Request.Scope.Namespace] = true
	}
	for ns := range doc.Facts.Namespaces {
		n.namespaces[ns] = true
	}
	for _, s := range doc.Facts.Subjects {
		n.namespaces[s.Namespace] = true
		n.serviceAccounts[s.ServiceAccountName] = true
	}
	if cm := doc.Facts.WebhookConfigMap; cm != nil {
		for key, e := range cm.Entries {
			if ns, name, ok := strings.Cut(key, "/"); ok {
				if ns != "*" {
					n.namespaces[ns] = true
				}
				n.serviceAccounts[name] = true
			}
			n.role(e.RoleARN)
		}
	}
	for ns, sas := range doc.Facts.RoleServiceAccounts {
		n.namespaces[ns] = true
		for name, arn := range sas {
			n.serviceAccounts[name] = true
			n.role(arn)
		}
	}
}

// aws collects the names of the AWS side: roles, the cluster, and every
// listed Pod Identity association (in scope or not).
func (n *redactedNames) aws(a *facts.AWSFacts) {
	if a == nil {
		return
	}
	for arn := range a.Roles {
		n.role(arn)
	}
	if c := a.Cluster; c != nil && c.Name != "" {
		n.clusters[c.Name] = true
	}
	if p := a.PodIdentity; p != nil {
		if p.Cluster != "" {
			n.clusters[p.Cluster] = true
		}
		for _, as := range p.Associations {
			n.namespaces[as.Namespace] = true
			n.serviceAccounts[as.ServiceAccount] = true
			n.role(as.RoleARN)
			n.role(as.TargetRoleARN)
		}
	}
}

// trail collects the names CloudTrail's events hold: they may name service
// accounts, roles and clusters the rest of the snapshot does not (a role
// the annotation named before, a deleted service account).
func (n *redactedNames) trail(t *facts.TrailFacts) {
	if t == nil {
		return
	}
	for _, e := range t.Events {
		if e.Namespace != "" {
			n.namespaces[e.Namespace] = true
		}
		if e.ServiceAccount != "" {
			n.serviceAccounts[e.ServiceAccount] = true
		}
		if e.Cluster != "" {
			n.clusters[e.Cluster] = true
		}
		n.role(e.RoleARN)
	}
}

func newRedactor(doc *Snapshot) *redactor {
	r := &redactor{accounts: map[string]string{}}
	n := &redactedNames{namespaces: map[string]bool{}, accounts: map[string]bool{}, serviceAccounts: map[string]bool{}, roles: map[string]bool{}, clusters: map[string]bool{}}
	n.kube(doc)
	n.aws(doc.Facts.AWS)
	n.trail(doc.Facts.CloudTrail)
	// Stand-ins are numbered in sorted order, so the same facts always
	// redact to the same file.
	for i, a := range sortedKeys(n.accounts) {
		r.accounts[a] = fmt.Sprintf("1%011d", i+1)
	}
	add := func(set map[string]bool, prefix string) {
		for i, name := range sortedKeys(set) {
			r.names = append(r.names, nameSwap{name, fmt.Sprintf("%s-%d", prefix, i+1)})
		}
	}
	add(n.namespaces, "ns")
	add(n.serviceAccounts, "sa")
	add(n.roles, "role")
	add(n.clusters, "cluster")
	sort.SliceStable(r.names, func(i, j int) bool { return len(r.names[i].from) > len(r.names[j].from) })
	return r
}

func (r *redactor) walk(v any, path string) any {
	switch t := v.(type) {
	case string:
		return r.text(t)
	case []any:
		for i := range t {
			t[i] = r.walk(t[i], path)
		}
		return t
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, child := range t {
			key := k
			if keyedMaps[path] || strings.HasPrefix(path, "/facts/roleServiceAccounts") {
				key = r.text(k)
			}
			out[key] = r.walk(child, path+"/"+k)
		}
		return out
	}
	return v
}

// text replaces account ids anywhere and names where they stand as whole
// words: delimited by anything that cannot be part of a Kubernetes or IAM
// name, so "app" in "application" stays.
func (r *redactor) text(s string) string {
	s = accountID.ReplaceAllStringFunc(s, func(a string) string {
		if to, ok := r.accounts[a]; ok {
			return to
		}
		return a
	})
	for _, n := range r.names {
		s = replaceWord(s, n.from, n.to)
	}
	return s
}

func replaceWord(s, from, to string) string {
	if from == "" || !strings.Contains(s, from) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, from)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(from)
		if (i == 0 || !nameChar(s[i-1])) && (end == len(s) || !nameChar(s[end])) {
			b.WriteString(s[:i])
			b.WriteString(to)
		} else {
			b.WriteString(s[:end])
		}
		s = s[end:]
	}
}

// nameChar is a byte that can be part of a Kubernetes or IAM role name.
func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '+' || c == '=' || c == ',' || c == '@'
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
