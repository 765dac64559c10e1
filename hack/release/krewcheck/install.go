package krewcheck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
)

// ErrNoPlatform says no platform of the manifest matches the machine.
var ErrNoPlatform = errors.New("no platform matches")

// Install lays out a plugin the way `kubectl krew install` does under a krew
// root: the archive, verified against the manifest's sha256, extracted into
// ROOT/store/NAME/VERSION, and ROOT/bin/kubectl-NAME a symlink to the bin.
// archive maps the chosen platform's uri to a local file. It returns the
// symlink, which kubectl finds once ROOT/bin is on PATH.
func Install(root string, p Plugin, goos, goarch string, archive Resolver) (string, error) {
	var chosen *Platform
	for i := range p.Spec.Platforms {
		sel, err := platformSelector(p.Spec.Platforms[i].Selector)
		if err != nil {
			return "", fmt.Errorf("platforms[%d]: %w", i, err)
		}
		if sel.Matches(labels.Set{"os": goos, "arch": goarch}) {
			chosen = &p.Spec.Platforms[i]
			break
		}
	}
	if chosen == nil {
		return "", fmt.Errorf("%w %s/%s", ErrNoPlatform, goos, goarch)
	}
	file, err := archive(chosen.URI)
	if err != nil {
		return "", err
	}
	sum, err := FileSHA256(file)
	if err != nil {
		return "", err
	}
	if sum != chosen.Sha256 {
		return "", fmt.Errorf("%w: %s has %s, the manifest says %s", ErrSha256Mismatch, filepath.Base(file), sum, chosen.Sha256)
	}

	// krew extracts into a staging directory and moves it into the store
	// only when everything worked, so a failed install leaves no version.
	store := filepath.Join(root, "store", p.Metadata.Name, p.Spec.Version)
	staging := filepath.Join(root, "store", "."+p.Metadata.Name+"-staging")
	if err := os.RemoveAll(staging); err != nil {
		return "", err
	}
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return "", err
	}
	if len(chosen.Files) > 0 {
		// The release's own manifest extracts everything; files operations
		// are validated (Validate) but not replayed here.
		return "", fmt.Errorf("%w: install with files operations is not implemented", ErrFiles)
	}
	if err := Extract(file, staging); err != nil {
		return "", err
	}
	bin := filepath.Join(store, filepath.FromSlash(chosen.Bin))
	if _, err := os.Stat(filepath.Join(staging, filepath.FromSlash(chosen.Bin))); err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrBinMissing, chosen.Bin, err)
	}
	if err := os.MkdirAll(filepath.Dir(store), 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(staging, store); err != nil {
		return "", fmt.Errorf("moving into the store: %w", err)
	}

	// krew names the link after the plugin, dashes as underscores, since
	// kubectl maps `kubectl foo-bar` to kubectl-foo_bar.
	linkName := "kubectl-" + strings.ReplaceAll(p.Metadata.Name, "-", "_")
	if goos == "windows" {
		linkName += ".exe"
	}
	link := filepath.Join(root, "bin", linkName)
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return "", err
	}
	if err := os.Symlink(bin, link); err != nil {
		return "", fmt.Errorf("linking the bin: %w", err)
	}
	return link, nil
}
