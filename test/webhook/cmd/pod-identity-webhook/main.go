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

// options are the parsed command line.
type options struct {
	cfg                        webhook.Config
	kubeconfig, listen, caFile string
	register                   bool
	// containerCredentialsConfig is --watch-container-credentials-config.
	containerCredentialsConfig string
}

// parseFlags reads the command line; the webhook flags and their defaults are
// the real webhook's (amazon-eks-pod-identity-webhook main.go).
func parseFlags(args []string) (options, error) {
	var (
		o     options
		assoc associations
		fs    = flag.NewFlagSet("pod-identity-webhook", flag.ContinueOnError)
	)
	fs.StringVar(&o.kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster to register with")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "loopback address to serve HTTPS on")
	fs.BoolVar(&o.register, "register", true, "create the pod-identity-webhook MutatingWebhookConfiguration (and delete it on exit)")
	fs.StringVar(&o.caFile, "ca-file", "", "write the serving CA (PEM) here")
	cfg := &o.cfg
	fs.StringVar(&cfg.DefaultRegion, "aws-default-region", "", "inject AWS_DEFAULT_REGION and AWS_REGION with this value")
	fs.BoolVar(&cfg.RegionalSTS, "sts-regional-endpoint", false, "inject AWS_STS_REGIONAL_ENDPOINTS=regional")
	fs.StringVar(&cfg.Audience, "token-audience", webhook.DefaultAudience, "default audience of the IRSA token")
	fs.StringVar(&cfg.AnnotationPrefix, "annotation-prefix", webhook.DefaultAnnotationPrefix, "prefix of the service account and pod annotations the webhook reads")
	fs.StringVar(&cfg.MountPath, "token-mount-path", webhook.IRSAMountPath, "where the IRSA token volume is mounted")
	fs.Int64Var(&cfg.TokenExpiration, "token-expiration", webhook.DefaultTokenExpiration, "IRSA token expirationSeconds when no annotation sets one (at least 600)")
	fs.BoolVar(&cfg.WatchConfigMap, "watch-config-map", false, "also take roles from the pod-identity-webhook ConfigMap of --namespace")
	fs.StringVar(&cfg.Namespace, "namespace", webhook.DefaultNamespace, "namespace of the pod-identity-webhook ConfigMap")
	fs.BoolVar(&cfg.OmitPodIdentityLabel, "omit-pod-identity-label", false, "do not label Pod Identity pods eks.amazonaws.com/pod-identity=enabled (webhooks before March 2026)")
	fs.Var(&assoc, "pod-identity-association", "NAMESPACE/SERVICEACCOUNT that gets the Pod Identity mutation (repeatable)")
	fs.StringVar(&o.containerCredentialsConfig, "watch-container-credentials-config", "",
		`file of Pod Identity associations, {"identities":[{"namespace":...,"serviceAccount":...}]}, reloaded when it changes (polled every second)`)
	var (
		useCache   = fs.Bool("cache", false, "read service accounts (and the ConfigMap) through an informer cache, as the real webhook does")
		cacheDelay = fs.Duration("cache-delay", 0, "propagation delay of the informer cache (implies --cache)")
		grace      = fs.Duration("service-account-lookup-grace-period", 0, "how long a pod whose service account is not cached waits for it (implies --cache)")
	)
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.Associations = assoc
	if *useCache || *cacheDelay > 0 || *grace > 0 {
		cfg.Cache = &webhook.CacheConfig{Delay: *cacheDelay, LookupGracePeriod: *grace}
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		log.Printf("pod-identity-webhook: %v", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = watchAssociations(ctx, &o)
	if err == nil {
		err = run(ctx, o.cfg, o.kubeconfig, o.listen, o.caFile, o.register)
	}
	stop()
	if err != nil {
		log.Printf("pod-identity-webhook: %v", err)
		os.Exit(1)
	}
}

// watchAssociations follows --watch-container-credentials-config, when
// given, until ctx ends; admissions consult the set it keeps in addition to
// --pod-identity-association.
func watchAssociations(ctx context.Context, o *options) error {
	if o.containerCredentialsConfig == "" {
		return nil
	}
	set := webhook.NewAssociationSet()
	if err := webhook.WatchContainerCredentialsConfig(ctx, o.containerCredentialsConfig, set, 0, log.Printf); err != nil {
		return err
	}
	o.cfg.AssociationSource = set
	return nil
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
