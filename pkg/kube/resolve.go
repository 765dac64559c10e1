// Package kube is the Kubernetes side of the pipeline: it resolves command
// arguments to objects the way kubectl does, then lists what the checks need
// (each kind once per namespace, or once for the cluster with -A) and builds
// the diag.Snapshot.
package kube

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/kubectl/pkg/scheme"
)

// Target is an object the user named.
type Target struct {
	Kind      string
	Namespace string
	Name      string
	Object    runtime.Object
}

// Scope is what the user asked for.
type Scope struct {
	Namespace     string
	AllNamespaces bool
	Selector      string
	Args          []string
	// Associated are the "namespace/serviceaccount" keys that have an EKS
	// Pod Identity association; with no argument they are subjects too,
	// annotated or not. The pipeline fills it in from EKS before collecting.
	Associated []string `json:"-"`
}

// Discover is true when no object was named: every IRSA service account in scope.
func (s Scope) Discover() bool { return len(s.Args) == 0 && s.Selector == "" }

// supportedKinds are the kinds diagnose follows to a service account.
var supportedKinds = map[string]bool{
	"Pod": true, "ServiceAccount": true, "Deployment": true, "StatefulSet": true, "DaemonSet": true,
	"ReplicaSet": true, "ReplicationController": true, "Job": true, "CronJob": true,
}

// Resolve turns arguments (pod/x, sa x, deploy/y, -l …) into targets with
// resource.Builder, so TYPE/NAME, TYPE NAME…, short names, -l and -A behave
// exactly as in kubectl. With no argument and no selector it returns nothing:
// the collector then discovers subjects itself.
func Resolve(newBuilder func() *resource.Builder, s Scope) ([]Target, error) {
	if s.Discover() {
		return nil, nil
	}
	args := s.Args
	if len(args) == 0 {
		args = []string{"pods"} // `diagnose -l app=x` selects pods, like `kubectl logs -l`
	}
	r := newBuilder().
		WithScheme(scheme.Scheme, scheme.Scheme.PrioritizedVersionsAllGroups()...).
		NamespaceParam(s.Namespace).DefaultNamespace().AllNamespaces(s.AllNamespaces).
		LabelSelectorParam(s.Selector).
		ResourceTypeOrNameArgs(true, args...).
		Flatten().
		Do()
	if err := r.Err(); err != nil {
		return nil, err
	}
	infos, err := r.Infos()
	if err != nil {
		return nil, err
	}
	var out []Target
	for _, info := range infos {
		kind := info.Mapping.GroupVersionKind.Kind
		if !supportedKinds[kind] {
			return nil, fmt.Errorf("cannot diagnose %s %q: diagnose follows pods, serviceaccounts, deployments, statefulsets, daemonsets, replicasets, replicationcontrollers, jobs and cronjobs", info.Mapping.Resource.Resource, info.Name)
		}
		out = append(out, Target{Kind: kind, Namespace: info.Namespace, Name: info.Name, Object: info.Object})
	}
	if len(out) == 0 {
		where := "namespace " + s.Namespace
		if s.AllNamespaces {
			where = "any namespace"
		}
		return nil, fmt.Errorf("no resources found in %s matching %v (selector %q)", where, s.Args, s.Selector)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}
