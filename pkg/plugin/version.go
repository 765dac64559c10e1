package plugin

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// Set at build time with -ldflags "-X github.com/kubectl-irsa/kubectl-irsa/pkg/plugin.version=v1.2.3 ...".
var (
	version = ""
	commit  = ""
	date    = ""
)

// VersionInfo describes the build.
type VersionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Version returns the build's version information; a build without ldflags
// says it is a development build.
func Version() VersionInfo {
	v := VersionInfo{Version: version, Commit: commit, BuildDate: date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if v.Version == "" {
		v.Version = "dev"
	}
	if v.Commit == "" {
		v.Commit = "unknown"
	}
	if v.BuildDate == "" {
		v.BuildDate = "unknown"
	}
	return v
}

// VersionOptions holds a `version` run.
type VersionOptions struct {
	Output outputFlag
	genericiooptions.IOStreams
}

func newCmdVersion(streams genericiooptions.IOStreams) *cobra.Command {
	o := &VersionOptions{Output: newOutputFlag("json"), IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return &ExitCodeError{Code: ExitError, Err: err}
			}
			return o.Run()
		},
	}
	o.Output.AddFlag(cmd.Flags())
	return cmd
}

// Validate checks flag values.
func (o *VersionOptions) Validate() error { return o.Output.Validate() }

// Run prints the build's version.
func (o *VersionOptions) Run() error {
	v := Version()
	if o.Output.Output == "json" {
		b, err := json.MarshalIndent(v, "", "    ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(o.Out, string(b))
		return err
	}
	dev := ""
	if v.Version == "dev" {
		dev = " (development build)"
	}
	_, err := fmt.Fprintf(o.Out, "kubectl-irsa %s%s\ncommit: %s\nbuilt: %s\ngo: %s %s\n", v.Version, dev, v.Commit, v.BuildDate, v.GoVersion, v.Platform)
	return err
}
