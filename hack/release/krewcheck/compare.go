package krewcheck

import (
	"errors"
	"fmt"
	"slices"
)

// ErrDrift says two manifests of one release disagree.
var ErrDrift = errors.New("manifests disagree")

// Compare reports every difference between two manifests of one release
// except their URIs: GoReleaser's generated manifest (dist/krew) and the
// rendered krew-release-bot template must describe the same plugin, version,
// platforms, checksums and bins, or the index would get something nobody
// checked.
func Compare(aName string, a Plugin, bName string, b Plugin) error {
	var errs []error
	diff := func(field, av, bv string) {
		if av != bv {
			errs = append(errs, fmt.Errorf("%w: %s: %s has %q, %s has %q", ErrDrift, field, aName, av, bName, bv))
		}
	}
	diff("apiVersion", a.APIVersion, b.APIVersion)
	diff("kind", a.Kind, b.Kind)
	diff("metadata.name", a.Metadata.Name, b.Metadata.Name)
	diff("spec.version", a.Spec.Version, b.Spec.Version)
	diff("spec.homepage", a.Spec.Homepage, b.Spec.Homepage)
	diff("spec.shortDescription", a.Spec.ShortDescription, b.Spec.ShortDescription)
	diff("spec.description", a.Spec.Description, b.Spec.Description)
	diff("spec.caveats", a.Spec.Caveats, b.Spec.Caveats)

	ap, err := byPlatform(a)
	if err != nil {
		return fmt.Errorf("%s: %w", aName, err)
	}
	bp, err := byPlatform(b)
	if err != nil {
		return fmt.Errorf("%s: %w", bName, err)
	}
	keys := make([]string, 0, len(ap)+len(bp))
	for k := range ap {
		keys = append(keys, k)
	}
	for k := range bp {
		if _, ok := ap[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		x, inA := ap[k]
		y, inB := bp[k]
		switch {
		case !inA:
			errs = append(errs, fmt.Errorf("%w: platform %s is only in %s", ErrDrift, k, bName))
		case !inB:
			errs = append(errs, fmt.Errorf("%w: platform %s is only in %s", ErrDrift, k, aName))
		default:
			diff(k+" sha256", x.Sha256, y.Sha256)
			diff(k+" bin", x.Bin, y.Bin)
			diff(k+" files", fmt.Sprint(x.Files), fmt.Sprint(y.Files))
		}
	}
	return errors.Join(errs...)
}

// byPlatform keys platforms by "os/arch". Both generators write plain
// matchLabels; anything else cannot be compared pairwise.
func byPlatform(p Plugin) (map[string]Platform, error) {
	out := map[string]Platform{}
	for i, pl := range p.Spec.Platforms {
		goos, goarch := pl.osArch()
		if goos == "" || goarch == "" || len(pl.Selector.MatchExpressions) > 0 {
			return nil, fmt.Errorf("platforms[%d]: selector is not matchLabels {os, arch}", i)
		}
		k := goos + "/" + goarch
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%w: %s appears twice", ErrOverlap, k)
		}
		out[k] = pl
	}
	return out, nil
}
