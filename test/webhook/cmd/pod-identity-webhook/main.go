// Command pod-identity-webhook runs the test-only stand-in for the EKS pod
// identity webhook (package test/webhook) as a process, for demos against the
// e2e control plane. It serves on loopback, registers itself with the cluster
// of --kubeconfig, and removes the registration on exit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-irsa/kubectl-irsa/test/webhook"
)

type associations []webhook.Association

func (a *associations) String() string {
	parts := make([]string, 0, len(*a))
	for _, x := range *a {
		parts = append(parts, x.Namespace+"/"+x.ServiceAccount)
	}
	return strings.Join(parts, ",")
}

func (a *associations) Set(v string) error {
	ns, sa, ok := strings.Cut(v, "/")
	if !ok || ns == "" || sa == "" {
		return fmt.Errorf("want NAMESPACE/SERVICEACCOUNT, got %q", v)
	}
	*a = append(*a, webhook.Association{Namespace: ns, ServiceAccount: sa})
	return nil
}

func main() {
	var (
		cfg        webhook.Config
		assoc      associations
		kubeconfig = flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster to register with")
		listen     = flag.String("listen", "127.0.0.1:0", "loopback address to serve HTTPS on")
		register   = flag.Bool("register", true, "create the pod-identity-webhook MutatingWebhookConfiguration (and delete it on exit)")
		caFile     = flag.String("ca-file", "", "write the serving CA (PEM) here")
	)
	flag.StringVar(&cfg.DefaultRegion, "aws-default-region", "", "inject AWS_DEFAULT_REGION and AWS_REGION with this value")
	flag.BoolVar(&cfg.RegionalSTS, "sts-regional-endpoint", false, "inject AWS_STS_REGIONAL_ENDPOINTS=regional")
	flag.StringVar(&cfg.Audience, "token-audience", webhook.DefaultAudience, "default audience of the IRSA token")
	flag.Var(&assoc, "pod-identity-association", "NAMESPACE/SERVICEACCOUNT that gets the Pod Identity mutation (repeatable)")
	flag.Parse()
	cfg.Associations = assoc

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, cfg, *kubeconfig, *listen, *caFile, *register)
	stop()
	if err != nil {
		log.Printf("pod-identity-webhook: %v", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg webhook.Config, kubeconfig, listen, caFile string, register bool) error {
	if kubeconfig == "" {
		return errors.New("--kubeconfig (or $KUBECONFIG) is required")
	}
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("build client: %w", err)
	}
	h := &webhook.Handler{Config: cfg, Client: client, Logf: log.Printf}
	srv, err := webhook.Start(ctx, listen, h)
	if err != nil {
		return err
	}
	defer srv.Close()
	log.Printf("serving %s", srv.URL)
	if caFile != "" {
		if err := os.WriteFile(caFile, srv.CABundle, 0o600); err != nil {
			return fmt.Errorf("write ca file: %w", err)
		}
	}
	if register {
		if err := srv.Register(ctx, client); err != nil {
			return err
		}
		log.Printf("registered MutatingWebhookConfiguration %s", webhook.ConfigurationName)
		defer func() {
			dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().Delete(dctx, webhook.ConfigurationName, metav1.DeleteOptions{}); err != nil {
				log.Printf("delete registration: %v", err)
			}
		}()
	}
	select {
	case <-ctx.Done():
		return nil
	case <-srv.Done():
		return fmt.Errorf("serve: %w", srv.Err())
	}
}
