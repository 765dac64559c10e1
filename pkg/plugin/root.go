// Package plugin is the command line of kubectl-irsa: cobra commands, flags
// turned into options, rendering and exit codes. Judging lives in pkg/diag and
// fact gathering in pkg/kube.
package plugin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/kube"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/pipeline"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/probe"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/tlsinspect"
)

// Deps are the seams tests use to replace what talks to the outside world.
type Deps struct {
	// NewAWSCollector builds the AWS collector for diagnose; nil means the
	// AWS configuration chain (profiles, SSO, environment, IMDS).
	NewAWSCollector func(ctx context.Context, roleARNs []string) (*cloud.Collector, error)
	// Inspect reads an issuer's TLS chains; nil means pkg/thumbprint over
	// the network (HTTPS_PROXY and NO_PROXY honoured).
	Inspect func(ctx context.Context, issuer string) (thumbprint.Report, error)
	// NewProbeSTS builds the STS client of --probe; nil means the AWS chain.
	NewProbeSTS func(ctx context.Context, region string) (probe.STSAPI, error)
	// NewProbeEKSAuth builds the EKS Auth client of --probe for Pod
	// Identity subjects; nil means the AWS chain.
	NewProbeEKSAuth func(ctx context.Context, region string) (probe.PodIdentityAPI, error)
	// Confirm asks the user a yes/no question; nil means the terminal.
	Confirm func(question string) (bool, error)
	// Terminal says whether a stream is a terminal and how wide; nil means
	// asking the operating system. diagnose draws progress on stderr only
	// when it is one.
	Terminal func(w io.Writer) (width int, ok bool)

	// clock paces the progress line; nil means time.Now.
	clock func() time.Time
}

// tls is the TLS inspector: Deps.Inspect, else pkg/tlsinspect with o.
func (d Deps) tls(o tlsinspect.Options) pipeline.TLSInspector {
	if d.Inspect != nil {
		return pipeline.InspectFunc(d.Inspect)
	}
	return pipeline.LiveTLS{Options: o}
}

// liveSources is the composition root of a live diagnosis: the cluster of
// the kubeconfig, the AWS configuration chain (or the tests' seams), the
// network and, for --probe, the TokenRequest API and STS.
func (d Deps) liveSources(req pipeline.Request, client kubernetes.Interface, newBuilder func() *resource.Builder) pipeline.Sources {
	return pipeline.Sources{
		Kube: pipeline.LiveKube{Client: client, NewBuilder: newBuilder},
		AWS:  pipeline.LiveAWS{Options: req.AWS, Hint: req.Hint, UserAgent: Version().Version, NewCollector: d.NewAWSCollector},
		TLS:  d.tls(tlsinspect.Options{}),
		Prober: pipeline.LiveProber{Minter: kube.TokenMinter{Client: client}, NewSTS: d.NewProbeSTS, NewEKSAuth: d.NewProbeEKSAuth,
			Options: req.AWS, Hint: req.Hint, UserAgent: Version().Version},
	}
}

// NewCmdIRSA builds the root command.
func NewCmdIRSA(streams genericiooptions.IOStreams) *cobra.Command {
	return newCmdIRSA(streams, Deps{})
}

func newCmdIRSA(streams genericiooptions.IOStreams, deps Deps) *cobra.Command {
	installLogPolicy()
	configFlags := genericclioptions.NewConfigFlags(true)
	root := &cobra.Command{
		Use:           "irsa",
		Short:         "Diagnose AWS IAM Roles for Service Accounts (IRSA) on Kubernetes",
		Long:          "kubectl irsa walks the IRSA chain (service account, webhook mutation, credentials, region) and names the broken link with evidence and a fix.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl irsa"},
		Version:       Version().Version,
	}
	configFlags.AddFlags(root.PersistentFlags())

	// Only -v from klog: client-go logs through it, and nothing else of klog's
	// flag zoo belongs in a kubectl plugin's help. What -v may show is set
	// by installLogPolicy: never a body, client-go's error reports from -v=1.
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	root.PersistentFlags().AddGoFlag(klogFlags.Lookup("v"))

	root.AddCommand(newCmdDiagnose(configFlags, streams, deps))
	root.AddCommand(newCmdEvents(configFlags, streams, deps))
	root.AddCommand(newCmdThumbprint(configFlags, streams, deps))
	root.AddCommand(newCmdAudit(configFlags, streams, deps))
	root.AddCommand(newCmdExplain(streams))
	root.AddCommand(newCmdChecks(streams))
	root.AddCommand(newCmdVersion(streams))
	root.AddCommand(newCmdCompletion(root, configFlags, streams))
	return root
}

// Execute runs the command line and returns the process exit code. Errors are
// printed once, kubectl style, on stderr.
func Execute(ctx context.Context, streams genericiooptions.IOStreams, args []string) int {
	return execute(ctx, streams, args, Deps{})
}

func execute(ctx context.Context, streams genericiooptions.IOStreams, args []string, deps Deps) int {
	cmd := newCmdIRSA(streams, deps)
	cmd.SetArgs(args)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ec *ExitCodeError
	if errors.As(err, &ec) {
		if ec.Err != nil {
			// One line, whatever the wrapped errors carry (client-go and
			// the SDK put newlines in theirs).
			fmt.Fprintf(streams.ErrOut, "error: %s\n", strings.Join(strings.Fields(ec.Err.Error()), " "))
		}
		return ec.Code
	}
	// Anything else is a usage error from cobra (unknown flag or command).
	fmt.Fprintf(streams.ErrOut, "error: %v\nSee 'kubectl irsa --help' for usage.\n", err)
	return ExitError
}
