// Package krewcheck checks release artefacts by krew's rules without krew:
// krew cannot be built from the Go module proxy (docs/e2e.md, "Release tooling"), so the release
// check renders the krew-release-bot template with local archives, validates
// the manifest the way krew's validate-krew-manifest does, and installs an
// archive the way `kubectl krew install` lays it out.
//
// The rules follow krew's documentation (plugin-manifest.md, naming guide)
// and its validator's documented behaviour; no krew code is copied.
package krewcheck

import (
	"fmt"
	"os"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The manifest's type, as krew-index expects it.
const (
	APIVersion = "krew.googlecontainertools.github.com/v1alpha2"
	Kind       = "Plugin"
)

// Plugin is a krew plugin manifest.
type Plugin struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`
}

// Metadata holds the plugin's name: `kubectl krew install NAME`.
type Metadata struct {
	Name string `json:"name"`
}

// Spec is the manifest's body.
type Spec struct {
	Version          string     `json:"version"`
	Homepage         string     `json:"homepage,omitempty"`
	ShortDescription string     `json:"shortDescription"`
	Description      string     `json:"description,omitempty"`
	Caveats          string     `json:"caveats,omitempty"`
	Platforms        []Platform `json:"platforms"`
}

// Platform is one downloadable archive and the os/arch it serves.
type Platform struct {
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
	URI      string                `json:"uri"`
	Sha256   string                `json:"sha256"`
	// Files, when set, moves only these paths out of the archive; krew's
	// recommended default is to leave it out and extract everything.
	Files []FileOperation `json:"files,omitempty"`
	Bin   string          `json:"bin"`
}

// FileOperation copies From (a path or glob in the archive) to To (a
// directory in the install dir).
type FileOperation struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Parse decodes a manifest strictly: a misspelt key (`sha256sum`, `selectors`)
// is silently dropped by a lenient decoder, so krew-index would see a platform
// without it.
func Parse(data []byte) (Plugin, error) {
	var p Plugin
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return Plugin{}, fmt.Errorf("decoding the manifest: %w", err)
	}
	return p, nil
}

// ReadFile parses the manifest at path.
func ReadFile(path string) (Plugin, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Plugin{}, fmt.Errorf("reading the manifest: %w", err)
	}
	p, err := Parse(data)
	if err != nil {
		return Plugin{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// osArch reads the os and arch a platform's selector names in matchLabels,
// the form both krew-release-bot templates and GoReleaser write.
func (p Platform) osArch() (goos, goarch string) {
	if p.Selector == nil {
		return "", ""
	}
	return p.Selector.MatchLabels["os"], p.Selector.MatchLabels["arch"]
}
