package plugin

import (
	"fmt"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/kube"
)

// kubeContext is what the commands that read a cluster take from the
// kubeconfig flags: the namespace, what the context says of its EKS
// cluster, and a client.
type kubeContext struct {
	namespace string
	hint      kube.ClusterHint
	client    kubernetes.Interface
}

func kubeContextOf(configFlags *genericclioptions.ConfigFlags) (kubeContext, error) {
	var kc kubeContext
	ns, _, err := configFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return kc, fmt.Errorf("reading kubeconfig: %w", err)
	}
	kc.namespace = ns
	if raw, err := configFlags.ToRawKubeConfigLoader().RawConfig(); err == nil {
		contextName := ""
		if configFlags.Context != nil {
			contextName = *configFlags.Context
		}
		kc.hint = kube.HintFromKubeconfig(raw, contextName)
	}
	cfg, err := configFlags.ToRESTConfig()
	if err != nil {
		return kc, fmt.Errorf("reading kubeconfig: %w", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return kc, fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	kc.client = client
	return kc, nil
}
