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

// maxPrealloc bounds the items a LIST's result is allocated for up front.
const maxPrealloc = 1 << 17

// pageFunc is told how many items a LIST has returned so far, after each page.
type pageFunc func(listed int)

// listPages follows continue tokens until the list is complete, telling
// onPage (when set) the running count after each page. list returns a
// page's items, its continue token and how many items the server says
// remain (-1 when it does not say): the result is allocated once at that
// size, not doubled page after page, which for 20,000 pods held twice
// their number for a moment.
func listPages[T any](ctx context.Context, chunk int64, onPage pageFunc, list func(context.Context, metav1.ListOptions) ([]T, string, int64, error)) ([]T, error) {
	var all []T
	opts := metav1.ListOptions{Limit: chunk}
	for {
		items, cont, remaining, err := list(ctx, opts)
		if err != nil {
			return nil, err
		}
		if remaining > 0 && all == nil {
			// Bounded: the count is the server's word, not a promise.
			all = make([]T, 0, int64(len(items))+min(remaining, maxPrealloc))
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
	in := newInterner()
	return listPages(ctx, chunk, onPage, func(ctx context.Context, o metav1.ListOptions) ([]corev1.Pod, string, int64, error) {
		l, err := c.CoreV1().Pods(ns).List(ctx, o)
		if err != nil {
			return nil, "", 0, err
		}
		// A run keeps every pod until the judge has run: keep only what
		// the checks read, page by page, and share what pods have in
		// common (strip.go, intern.go).
		for i := range l.Items {
			stripPod(&l.Items[i], in)
		}
		return l.Items, l.Continue, remainingOf(&l.ListMeta), nil
	})
}

func listServiceAccounts(ctx context.Context, c kubernetes.Interface, ns string, chunk int64, onPage pageFunc) ([]corev1.ServiceAccount, error) {
	return listPages(ctx, chunk, onPage, func(ctx context.Context, o metav1.ListOptions) ([]corev1.ServiceAccount, string, int64, error) {
		l, err := c.CoreV1().ServiceAccounts(ns).List(ctx, o)
		if err != nil {
			return nil, "", 0, err
		}
		for i := range l.Items {
			StripServiceAccount(&l.Items[i])
		}
		return l.Items, l.Continue, remainingOf(&l.ListMeta), nil
	})
}

func listReplicaSets(ctx context.Context, c kubernetes.Interface, ns string, chunk int64, onPage pageFunc) ([]appsv1.ReplicaSet, error) {
	return listPages(ctx, chunk, onPage, func(ctx context.Context, o metav1.ListOptions) ([]appsv1.ReplicaSet, string, int64, error) {
		l, err := c.AppsV1().ReplicaSets(ns).List(ctx, o)
		if err != nil {
			return nil, "", 0, err
		}
		// Only the owner chain is read (ownerOf); a pod template each is
		// not kept while the rest is listed.
		for i := range l.Items {
			l.Items[i] = appsv1.ReplicaSet{ObjectMeta: ownerMeta(&l.Items[i].ObjectMeta)}
		}
		return l.Items, l.Continue, remainingOf(&l.ListMeta), nil
	})
}

func listJobs(ctx context.Context, c kubernetes.Interface, ns string, chunk int64, onPage pageFunc) ([]batchv1.Job, error) {
	return listPages(ctx, chunk, onPage, func(ctx context.Context, o metav1.ListOptions) ([]batchv1.Job, string, int64, error) {
		l, err := c.BatchV1().Jobs(ns).List(ctx, o)
		if err != nil {
			return nil, "", 0, err
		}
		for i := range l.Items {
			l.Items[i] = batchv1.Job{ObjectMeta: ownerMeta(&l.Items[i].ObjectMeta)}
		}
		return l.Items, l.Continue, remainingOf(&l.ListMeta), nil
	})
}

func listNamespaces(ctx context.Context, c kubernetes.Interface, chunk int64, onPage pageFunc) ([]corev1.Namespace, error) {
	return listPages(ctx, chunk, onPage, func(ctx context.Context, o metav1.ListOptions) ([]corev1.Namespace, string, int64, error) {
		l, err := c.CoreV1().Namespaces().List(ctx, o)
		if err != nil {
			return nil, "", 0, err
		}
		for i := range l.Items {
			StripMeta(&l.Items[i].ObjectMeta)
		}
		return l.Items, l.Continue, remainingOf(&l.ListMeta), nil
	})
}

// remainingOf is how many items the server says are left after this page
// (remainingItemCount), or -1.
func remainingOf(m *metav1.ListMeta) int64 {
	if m.RemainingItemCount == nil {
		return -1
	}
	return *m.RemainingItemCount
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
