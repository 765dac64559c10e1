package krewcheck

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/version"
)

// Each rule has its own error, so that a caller (and a test) can tell which
// one a manifest broke; the wrapping message names the platform and values.
var (
	ErrFileName         = errors.New("manifest file name does not match metadata.name")
	ErrName             = errors.New("invalid plugin name")
	ErrType             = errors.New("not a krew Plugin manifest")
	ErrVersion          = errors.New("version is not semver with a leading v")
	ErrDescription      = errors.New("invalid description")
	ErrHomepage         = errors.New("invalid homepage")
	ErrNoPlatforms      = errors.New("no platforms")
	ErrSelector         = errors.New("invalid platform selector")
	ErrUnmatched        = errors.New("platform selector matches no supported os/arch")
	ErrOverlap          = errors.New("platform selectors overlap")
	ErrURI              = errors.New("invalid platform uri")
	ErrSha256Format     = errors.New("sha256 is not 64 lower-case hex characters")
	ErrSha256Mismatch   = errors.New("sha256 does not match the archive")
	ErrArchive          = errors.New("archive cannot be read")
	ErrBinMissing       = errors.New("bin is not in the archive")
	ErrBinNotExecutable = errors.New("bin is not executable")
	ErrNoLicense        = errors.New("no LICENSE file in the archive")
	ErrFiles            = errors.New("invalid files operation")
)

var (
	safeName  = regexp.MustCompile(`^[\w-]+$`)
	sha256Hex = regexp.MustCompile(`^[a-f0-9]{64}$`)
)

// knownPlatforms are the os/arch pairs krew installs for. A selector must
// match at least one, and no pair may be matched by two platforms: krew would
// pick one of them silently.
var knownPlatforms = func() [][2]string {
	out := make([][2]string, 0, 24)
	for _, goos := range []string{"darwin", "linux", "windows", "freebsd"} {
		for _, goarch := range []string{"386", "amd64", "arm", "arm64", "ppc64le", "s390x"} {
			out = append(out, [2]string{goos, goarch})
		}
	}
	return out
}()

// Resolver maps a platform's uri to the local archive it names; nil skips
// every archive check (krew's -skip-install).
type Resolver func(uri string) (string, error)

// Validate checks the manifest at file (its name matters: krew-index requires
// plugins/NAME.yaml) by krew's rules and, with resolve, every platform's
// archive: its sha256, its bin and its LICENSE. It returns every problem
// found, joined.
func Validate(file string, p Plugin, resolve Resolver) error {
	errs := validateMetadata(file, p)
	selectors := make([]labels.Selector, len(p.Spec.Platforms))
	for i, pl := range p.Spec.Platforms {
		var perrs []error
		selectors[i], perrs = validatePlatform(i, pl, resolve)
		errs = append(errs, perrs...)
	}
	errs = append(errs, overlaps(selectors)...)
	return errors.Join(errs...)
}

// problem formats one broken rule, wrapping its sentinel error.
func problem(err error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{err}, args...)...)
}

// validateMetadata checks everything but the platforms.
func validateMetadata(file string, p Plugin) []error {
	var errs []error
	if base := filepath.Base(file); filepath.Ext(base) != ".yaml" || strings.TrimSuffix(base, ".yaml") != p.Metadata.Name {
		errs = append(errs, problem(ErrFileName, "file %s, metadata.name %q (krew-index wants plugins/%s.yaml)", base, p.Metadata.Name, p.Metadata.Name))
	}
	if !safeName.MatchString(p.Metadata.Name) {
		errs = append(errs, problem(ErrName, "%q must match %s", p.Metadata.Name, safeName))
	}
	if p.APIVersion != APIVersion || p.Kind != Kind {
		errs = append(errs, problem(ErrType, "apiVersion %q kind %q, want %s %s", p.APIVersion, p.Kind, APIVersion, Kind))
	}
	if !strings.HasPrefix(p.Spec.Version, "v") {
		errs = append(errs, problem(ErrVersion, "%q has no leading v", p.Spec.Version))
	} else if _, err := version.ParseSemantic(p.Spec.Version); err != nil {
		errs = append(errs, problem(ErrVersion, "%q: %v", p.Spec.Version, err))
	}
	switch {
	case strings.TrimSpace(p.Spec.ShortDescription) == "":
		errs = append(errs, problem(ErrDescription, "shortDescription is empty"))
	case strings.ContainsAny(p.Spec.ShortDescription, "\r\n"):
		errs = append(errs, problem(ErrDescription, "shortDescription must be one line"))
	}
	if strings.TrimSpace(p.Spec.Description) == "" {
		errs = append(errs, problem(ErrDescription, "description is empty"))
	}
	if p.Spec.Homepage != "" && !strings.HasPrefix(p.Spec.Homepage, "https://") {
		errs = append(errs, problem(ErrHomepage, "%q is not an https URL", p.Spec.Homepage))
	}
	if len(p.Spec.Platforms) == 0 {
		errs = append(errs, problem(ErrNoPlatforms, "spec.platforms is empty"))
	}
	return errs
}

// validatePlatform checks platform i and, with resolve, its archive. It
// returns the platform's selector (nil when invalid) for the overlap check.
func validatePlatform(i int, pl Platform, resolve Resolver) (labels.Selector, []error) {
	var errs []error
	where := fmt.Sprintf("platforms[%d] (%s)", i, describe(pl))
	sel, err := platformSelector(pl.Selector)
	if err != nil {
		errs = append(errs, problem(ErrSelector, "%s: %v", where, err))
	}
	if sel != nil && !matchesAny(sel) {
		errs = append(errs, problem(ErrUnmatched, "%s", where))
	}
	if !strings.HasPrefix(pl.URI, "https://") || !isArchiveURI(pl.URI) {
		errs = append(errs, problem(ErrURI, "%s: %q must be https and end in .tar.gz or .zip", where, pl.URI))
	}
	if !sha256Hex.MatchString(pl.Sha256) {
		errs = append(errs, problem(ErrSha256Format, "%s: %q", where, pl.Sha256))
	}
	if pl.Bin == "" {
		errs = append(errs, problem(ErrBinMissing, "%s: bin is empty", where))
	}
	for _, op := range pl.Files {
		if op.From == "" || op.To == "" {
			errs = append(errs, problem(ErrFiles, "%s: from %q to %q", where, op.From, op.To))
		}
	}
	if resolve != nil && pl.URI != "" {
		errs = append(errs, checkArchive(where, pl, resolve)...)
	}
	return sel, errs
}

// overlaps judges selectors on concrete os/arch pairs, as krew matches them:
// two selectors written differently can still pick the same machine.
func overlaps(selectors []labels.Selector) []error {
	var errs []error
	for _, pair := range knownPlatforms {
		set := labels.Set{"os": pair[0], "arch": pair[1]}
		var hits []string
		for i, sel := range selectors {
			if sel != nil && sel.Matches(set) {
				hits = append(hits, fmt.Sprintf("platforms[%d]", i))
			}
		}
		if len(hits) > 1 {
			errs = append(errs, problem(ErrOverlap, "%s/%s is matched by %s", pair[0], pair[1], strings.Join(hits, " and ")))
		}
	}
	return errs
}

func isArchiveURI(uri string) bool {
	return strings.HasSuffix(uri, ".tar.gz") || strings.HasSuffix(uri, ".zip")
}

func describe(pl Platform) string {
	goos, goarch := pl.osArch()
	if goos == "" && goarch == "" {
		return path.Base(pl.URI)
	}
	return goos + "/" + goarch
}

// platformSelector converts a selector that may only speak of os and arch,
// the two labels krew sets.
func platformSelector(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil || (len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0) {
		return nil, errors.New("selector is missing: it would match every machine")
	}
	for k := range s.MatchLabels {
		if k != "os" && k != "arch" {
			return nil, fmt.Errorf("label %q: only os and arch are set by krew", k)
		}
	}
	for _, e := range s.MatchExpressions {
		if e.Key != "os" && e.Key != "arch" {
			return nil, fmt.Errorf("label %q: only os and arch are set by krew", e.Key)
		}
	}
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return nil, err
	}
	return sel, nil
}

func matchesAny(sel labels.Selector) bool {
	for _, pair := range knownPlatforms {
		if sel.Matches(labels.Set{"os": pair[0], "arch": pair[1]}) {
			return true
		}
	}
	return false
}

// checkArchive does what `kubectl krew install` would do with the download:
// compare the sha256, extract, find the bin and a LICENSE.
func checkArchive(where string, pl Platform, resolve Resolver) []error {
	var errs []error
	add := func(err error, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: "+format, append([]any{err, where}, args...)...))
	}
	file, err := resolve(pl.URI)
	if err != nil {
		add(ErrArchive, "%v", err)
		return errs
	}
	sum, err := FileSHA256(file)
	if err != nil {
		add(ErrArchive, "%v", err)
		return errs
	}
	if sha256Hex.MatchString(pl.Sha256) && sum != pl.Sha256 {
		add(ErrSha256Mismatch, "manifest says %s, %s has %s", pl.Sha256, filepath.Base(file), sum)
	}
	entries, err := List(file)
	if err != nil {
		add(ErrArchive, "%v", err)
		return errs
	}
	installed, err := installedFiles(entries, pl.Files)
	if err != nil {
		add(ErrFiles, "%v", err)
		return errs
	}
	if pl.Bin != "" {
		bin := path.Clean(filepath.ToSlash(pl.Bin))
		e, ok := installed[bin]
		switch {
		case !ok:
			add(ErrBinMissing, "%q is not in %s (it holds %s)", pl.Bin, filepath.Base(file), names(installed))
		case !strings.HasSuffix(bin, ".exe") && e.Mode&0o111 == 0:
			add(ErrBinNotExecutable, "%q in %s has mode %v", pl.Bin, filepath.Base(file), e.Mode)
		}
	}
	license := false
	for name := range installed {
		if strings.HasPrefix(strings.ToLower(path.Base(name)), "license") {
			license = true
			break
		}
	}
	if !license {
		add(ErrNoLicense, "%s holds %s", filepath.Base(file), names(installed))
	}
	return errs
}

// installedFiles is the install directory's content: the whole archive, or
// with files operations only what they move (krew's semantics: each match of
// From lands in directory To under its base name).
func installedFiles(entries []Entry, ops []FileOperation) (map[string]Entry, error) {
	out := map[string]Entry{}
	if len(ops) == 0 {
		for _, e := range entries {
			out[e.Name] = e
		}
		return out, nil
	}
	for _, op := range ops {
		matched := false
		for _, e := range entries {
			ok, err := path.Match(path.Clean(op.From), e.Name)
			if err != nil {
				return nil, fmt.Errorf("from %q: %w", op.From, err)
			}
			if ok {
				matched = true
				name := path.Join(path.Clean(op.To), path.Base(e.Name))
				out[name] = Entry{Name: name, Mode: e.Mode}
			}
		}
		if !matched {
			return nil, fmt.Errorf("from %q matches nothing in the archive", op.From)
		}
	}
	return out, nil
}

func names(m map[string]Entry) string {
	if len(m) == 0 {
		return "nothing"
	}
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}
