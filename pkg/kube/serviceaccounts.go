package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ServiceAccounts lists every service account in scope (the namespace, or
// the cluster with -A), page by page like Collect, for `kubectl irsa
// audit`: a role's reach is about all of them, annotated or not. A
// namespace that does not exist is an error, as for Collect.
func (c *Collector) ServiceAccounts(ctx context.Context, scope Scope) ([]corev1.ServiceAccount, error) {
	chunk := c.ChunkSize
	if chunk == 0 {
		chunk = DefaultChunkSize
	}
	ns := scope.Namespace
	if scope.AllNamespaces {
		ns = metav1.NamespaceAll
	} else if _, err := c.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("namespace %q not found", ns)
	}
	sas, err := listServiceAccounts(ctx, c.Client, ns, chunk, c.onPage("serviceaccounts", ns))
	if err != nil {
		return nil, requiredListError("serviceaccounts", ns, err)
	}
	return sas, nil
}
