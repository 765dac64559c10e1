package kube

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// DefaultChunkSize pages LISTs like kubectl does, so a large cluster never
// arrives in one response.
const DefaultChunkSize = 500

// pageFunc is told how many items a LIST has returned so far, after each page.
type pageFunc func(listed int)

// listPages follows continue tokens until the list is complete, telling
// onPage (when set) the running count after each page.
func listPages[T any](ctx context.Context, chunk int64, onPage pageFunc, list func(context.Context, metav1.ListOptions) ([]T, string, error)) ([]T, error) {
	var all []T
	opts := metav1.ListOptions{Limit: chunk}
	for {
		items, cont, err := list(ctx, opts)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if onPage != nil {
			onPage(len(all))
		}
		if cont == "" {
			return all, nil
		}
		opts.Continue = cont
	}
}

func listPods(ctx context.Context, c kubernetes.Interface, ns string, chunk int64, onPage pageFunc) ([]corev1.Pod, error) {
	return listPages(ctx, chunk, onPage, func(ctx context.Context, o metav1.ListOptions) ([]corev1.Pod, string, error) {
		l, err := c.CoreV1().Pods(ns).List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		// A run keeps every pod until the judge has run: keep only what
		// the checks read, page by page (strip.go).
		for i := range l.Items {
			StripPod(&l.Items[i])
		}
		return l.Items, l.Continue, nil
	})
}

func listServiceAccounts(ctx context.Context, c kubernetes.Interface, ns string, chunk int64, onPage pageFunc) ([]corev1.ServiceAccount, error) {
	return listPages(ctx, chunk, onPage, func(ctx context.Context, o metav1.ListOptions) ([]corev1.ServiceAccount, string, error) {
		l, err := c.CoreV1().ServiceAccounts(ns).List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		for i := range l.Items {
			StripServiceAccount(&l.Items[i])
		}
		return l.Items, l.Continue, nil
	})
}

func listReplicaSets(ctx context.Context, c kubernetes.Interface, ns string, chunk int64, onPage pageFunc) ([]appsv1.ReplicaSet, error) {
	return listPages(ctx, chunk, onPage, func(ctx context.Context, o metav1.ListOptions) ([]appsv1.ReplicaSet, string, error) {
		l, err := c.AppsV1().ReplicaSets(ns).List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		// Only the owner chain is read (ownerOf); a pod template each is
		// not kept while the rest is listed.
		for i := range l.Items {
			l.Items[i] = appsv1.ReplicaSet{ObjectMeta: ownerMeta(&l.Items[i].ObjectMeta)}
		}
		return l.Items, l.Continue, nil
	})
}

func listJobs(ctx context.Context, c kubernetes.Interface, ns string, chunk int64, onPage pageFunc) ([]batchv1.Job, error) {
	return listPages(ctx, chunk, onPage, func(ctx context.Context, o metav1.ListOptions) ([]batchv1.Job, string, error) {
		l, err := c.BatchV1().Jobs(ns).List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		for i := range l.Items {
			l.Items[i] = batchv1.Job{ObjectMeta: ownerMeta(&l.Items[i].ObjectMeta)}
		}
		return l.Items, l.Continue, nil
	})
}

func listNamespaces(ctx context.Context, c kubernetes.Interface, chunk int64, onPage pageFunc) ([]corev1.Namespace, error) {
	return listPages(ctx, chunk, onPage, func(ctx context.Context, o metav1.ListOptions) ([]corev1.Namespace, string, error) {
		l, err := c.CoreV1().Namespaces().List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		for i := range l.Items {
			StripMeta(&l.Items[i].ObjectMeta)
		}
		return l.Items, l.Continue, nil
	})
}

// ownerMeta is what a ReplicaSet or Job is listed for: its UID and owners.
func ownerMeta(m *metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, OwnerReferences: m.OwnerReferences}
}

// readError turns an API error into the record a check reports as unknown.
func readError(verb, resource, ns, name string, err error) *facts.ReadError {
	return &facts.ReadError{Verb: verb, Resource: resource, Namespace: ns, Name: name,
		Forbidden: apierrors.IsForbidden(err), Message: oneLine(err)}
}

// requiredListError explains a failed list the run cannot do without.
func requiredListError(resource, ns string, err error) error {
	where := "in namespace " + ns
	if ns == "" {
		where = "across all namespaces"
	}
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("listing %s %s is forbidden: diagnose needs list on %s (kubectl auth can-i list %s): %w", resource, where, resource, resource, err)
	}
	return fmt.Errorf("listing %s %s: %w", resource, where, err)
}
