// Package release tests the release check's krew rules (hack/release/krewcheck)
// on archives built in the test, and the repository's own krew template and
// GoReleaser configuration against each other. They need neither GoReleaser
// nor the network; `make dist release-check` runs the same rules on the real
// archives.
package release

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-irsa/kubectl-irsa/hack/release/krewcheck"
)

const (
	tag     = "v1.2.3"
	baseURL = "https://github.com/kubectl-irsa/kubectl-irsa/releases/download/" + tag + "/"
)

type file struct {
	name string
	mode int64
	body string
}

var (
	license = file{"LICENSE", 0o644, "Apache License\n"}
	readme  = file{"README.md", 0o644, "# kubectl-irsa\n"}
	unixBin = file{"kubectl-irsa", 0o755, "#!/bin/sh\necho \"kubectl-irsa " + tag + "\"\n"}
	winBin  = file{"kubectl-irsa.exe", 0o755, "MZ"}
)

// writeArchive writes files into dir/name as .tar.gz or .zip by its suffix.
func writeArchive(t *testing.T, dir, name string, files ...file) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if strings.HasSuffix(name, ".zip") {
		zw := zip.NewWriter(f)
		for _, fl := range files {
			h := &zip.FileHeader{Name: fl.name, Method: zip.Deflate}
			h.SetMode(os.FileMode(fl.mode))
			w, err := zw.CreateHeader(h)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write([]byte(fl.body)); err != nil {
				t.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, fl := range files {
		if err := tw.WriteHeader(&tar.Header{Name: fl.name, Mode: fl.mode, Size: int64(len(fl.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(fl.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// release is a small valid release: two archives in dir and their manifest.
type release struct {
	dir    string
	plugin krewcheck.Plugin
}

func newRelease(t *testing.T) *release {
	t.Helper()
	r := &release{dir: t.TempDir()}
	r.plugin = krewcheck.Plugin{
		APIVersion: krewcheck.APIVersion,
		Kind:       krewcheck.Kind,
		Metadata:   krewcheck.Metadata{Name: "irsa"},
		Spec: krewcheck.Spec{
			Version:          tag,
			Homepage:         "https://github.com/kubectl-irsa/kubectl-irsa",
			ShortDescription: "Diagnose IRSA",
			Description:      "Diagnoses IAM Roles for Service Accounts.\n",
		},
	}
	r.addPlatform(t, "linux", "amd64", unixBin, license, readme)
	r.addPlatform(t, "windows", "amd64", winBin, license, readme)
	return r
}

// addPlatform writes the archive for os/arch holding files and appends its
// platform, with the archive's real sha256, to the manifest.
func (r *release) addPlatform(t *testing.T, goos, goarch string, files ...file) {
	t.Helper()
	ext, bin := ".tar.gz", "kubectl-irsa"
	if goos == "windows" {
		ext, bin = ".zip", "kubectl-irsa.exe"
	}
	name := "kubectl-irsa_" + tag + "_" + goos + "_" + goarch + ext
	p := writeArchive(t, r.dir, name, files...)
	sum, err := krewcheck.FileSHA256(p)
	if err != nil {
		t.Fatal(err)
	}
	r.plugin.Spec.Platforms = append(r.plugin.Spec.Platforms, krewcheck.Platform{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"os": goos, "arch": goarch}},
		URI:      baseURL + name,
		Sha256:   sum,
		Bin:      bin,
	})
}

func (r *release) resolve(uri string) (string, error) {
	p := filepath.Join(r.dir, path.Base(uri))
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

func (r *release) validate(file string) error {
	return krewcheck.Validate(file, r.plugin, r.resolve)
}

// assertOnly checks that err reports exactly one problem, of kind want, and
// that its message names the evidence.
func assertOnly(t *testing.T, err, want error, evidence ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Validate passed, want %v", want)
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	if len(errs) != 1 || !errors.Is(errs[0], want) {
		t.Fatalf("Validate = %v\nwant only %v", err, want)
	}
	for _, e := range evidence {
		if !strings.Contains(err.Error(), e) {
			t.Errorf("error %q does not name %q", err, e)
		}
	}
}

func TestValidReleasePasses(t *testing.T) {
	r := newRelease(t)
	if err := r.validate("plugins/irsa.yaml"); err != nil {
		t.Fatalf("a valid release fails: %v", err)
	}
}

func TestOverlappingSelectors(t *testing.T) {
	r := newRelease(t)
	// A selector on os alone also matches linux/amd64, already served.
	r.addPlatform(t, "linux", "arm64", unixBin, license)
	r.plugin.Spec.Platforms[2].Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"os": "linux"}}
	assertOnly(t, r.validate("irsa.yaml"), krewcheck.ErrOverlap, "linux/amd64 is matched by platforms[0] and platforms[2]")
}

func TestOverlapThroughExpressions(t *testing.T) {
	r := newRelease(t)
	r.addPlatform(t, "darwin", "arm64", unixBin, license)
	r.plugin.Spec.Platforms[2].Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: "os", Operator: metav1.LabelSelectorOpIn, Values: []string{"darwin", "windows"}},
		{Key: "arch", Operator: metav1.LabelSelectorOpIn, Values: []string{"amd64", "arm64"}},
	}}
	assertOnly(t, r.validate("irsa.yaml"), krewcheck.ErrOverlap, "windows/amd64 is matched by platforms[1] and platforms[2]")
}

func TestWrongSha256(t *testing.T) {
	r := newRelease(t)
	r.plugin.Spec.Platforms[0].Sha256 = strings.Repeat("0", 64)
	assertOnly(t, r.validate("irsa.yaml"), krewcheck.ErrSha256Mismatch, "linux/amd64", "manifest says "+strings.Repeat("0", 64))
}

func TestSha256NotLowerHex(t *testing.T) {
	r := newRelease(t)
	r.plugin.Spec.Platforms[1].Sha256 = strings.ToUpper(r.plugin.Spec.Platforms[1].Sha256)
	assertOnly(t, r.validate("irsa.yaml"), krewcheck.ErrSha256Format, "windows/amd64")
}

func TestMissingLicense(t *testing.T) {
	r := newRelease(t)
	r.addPlatform(t, "darwin", "arm64", unixBin, readme)
	assertOnly(t, r.validate("irsa.yaml"), krewcheck.ErrNoLicense, "darwin/arm64", "kubectl-irsa_v1.2.3_darwin_arm64.tar.gz holds README.md, kubectl-irsa")
}

func TestBinMissing(t *testing.T) {
	r := newRelease(t)
	r.addPlatform(t, "windows", "arm64", file{"kubectl-irsa", 0o755, "MZ"}, license)
	assertOnly(t, r.validate("irsa.yaml"), krewcheck.ErrBinMissing, "windows/arm64", `"kubectl-irsa.exe" is not in kubectl-irsa_v1.2.3_windows_arm64.zip`)
}

func TestBinNotExecutable(t *testing.T) {
	r := newRelease(t)
	r.addPlatform(t, "linux", "arm64", file{"kubectl-irsa", 0o644, "#!/bin/sh\n"}, license)
	assertOnly(t, r.validate("irsa.yaml"), krewcheck.ErrBinNotExecutable, "linux/arm64", "-rw-r--r--")
}

func TestNameMismatch(t *testing.T) {
	r := newRelease(t)
	assertOnly(t, r.validate("plugins/aws-irsa.yaml"), krewcheck.ErrFileName, `file aws-irsa.yaml, metadata.name "irsa"`)
}

func TestVersionWithoutV(t *testing.T) {
	r := newRelease(t)
	r.plugin.Spec.Version = "1.2.3"
	assertOnly(t, r.validate("irsa.yaml"), krewcheck.ErrVersion, `"1.2.3" has no leading v`)
	r.plugin.Spec.Version = "v1.2"
	assertOnly(t, r.validate("irsa.yaml"), krewcheck.ErrVersion, `"v1.2"`)
}

func TestMissingSelector(t *testing.T) {
	r := newRelease(t)
	r.plugin.Spec.Platforms[1].Selector = nil
	assertOnly(t, r.validate("irsa.yaml"), krewcheck.ErrSelector, "platforms[1]", "would match every machine")
}

func TestURIMustBeAnArchive(t *testing.T) {
	r := newRelease(t)
	r.plugin.Spec.Platforms[0].URI = "http://example.com/kubectl-irsa"
	err := krewcheck.Validate("irsa.yaml", r.plugin, nil)
	assertOnly(t, err, krewcheck.ErrURI, "must be https and end in .tar.gz or .zip")
}

func TestShortDescriptionOneLine(t *testing.T) {
	r := newRelease(t)
	r.plugin.Spec.ShortDescription = "Diagnose\nIRSA"
	assertOnly(t, r.validate("irsa.yaml"), krewcheck.ErrDescription, "one line")
}

func TestUnsafeArchiveEntry(t *testing.T) {
	r := newRelease(t)
	r.addPlatform(t, "darwin", "amd64", unixBin, license, file{"../../evil", 0o644, "x"})
	assertOnly(t, r.validate("irsa.yaml"), krewcheck.ErrArchive, `"../../evil" escapes the install directory`)
}

func TestStrictDecoding(t *testing.T) {
	_, err := krewcheck.Parse([]byte("apiVersion: x\nkind: Plugin\nspec:\n  platforms:\n  - sha256sum: abc\n"))
	if err == nil || !strings.Contains(err.Error(), "sha256sum") {
		t.Fatalf("a misspelt key must fail decoding, got %v", err)
	}
}

func TestRenderAddURIAndSha(t *testing.T) {
	r := newRelease(t)
	tmpl := `version: {{ .TagName }}
platforms:
- selector:
    matchLabels: {os: linux, arch: amd64}
  {{addURIAndSha "` + baseURL[:strings.LastIndex(baseURL[:len(baseURL)-1], "/")+1] + `{{ .TagName }}/kubectl-irsa_{{ .TagName }}_linux_amd64.tar.gz" .TagName }}
  bin: kubectl-irsa
`
	// The bot indents the sha256 line by four spaces; this template's
	// platform keys sit at two, so parse only the uri here.
	out, err := krewcheck.Render(tmpl, tag, r.resolve)
	if err != nil {
		t.Fatal(err)
	}
	want := "uri: " + baseURL + "kubectl-irsa_v1.2.3_linux_amd64.tar.gz\n    sha256: " + r.plugin.Spec.Platforms[0].Sha256
	if !strings.Contains(string(out), want) {
		t.Errorf("rendered:\n%s\nwant it to contain:\n%s", out, want)
	}

	_, err = krewcheck.Render(`{{addURIAndSha "`+baseURL+`missing.tar.gz" .TagName }}`, tag, r.resolve)
	if err == nil || !strings.Contains(err.Error(), "missing.tar.gz") {
		t.Errorf("a template naming an asset that was not built must fail, got %v", err)
	}
	_, err = krewcheck.Render(`{{ .TagName | indent 4 }}`, tag, r.resolve)
	if err == nil || !strings.Contains(err.Error(), `function "indent" not defined`) {
		t.Errorf("a function the check does not implement must fail the render, got %v", err)
	}
}

func TestCompareReportsDrift(t *testing.T) {
	a := newRelease(t).plugin
	b := a
	b.Spec.Platforms = append([]krewcheck.Platform(nil), a.Spec.Platforms...)
	b.Spec.Caveats = "needs iam:GetRole\n"
	b.Spec.Platforms[1].Bin = "kubectl-irsa"
	b.Spec.Platforms[0].URI = "https://example.com/elsewhere.tar.gz" // URLs may differ
	err := krewcheck.Compare("goreleaser", a, "template", b)
	if !errors.Is(err, krewcheck.ErrDrift) {
		t.Fatalf("Compare = %v, want drift", err)
	}
	for _, want := range []string{`spec.caveats: goreleaser has "", template has "needs iam:GetRole\n"`, `windows/amd64 bin: goreleaser has "kubectl-irsa.exe", template has "kubectl-irsa"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Compare = %v\nwant it to name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "uri") || strings.Contains(err.Error(), "elsewhere") {
		t.Errorf("Compare must ignore URLs: %v", err)
	}
	if err := krewcheck.Compare("a", a, "b", a); err != nil {
		t.Errorf("a manifest differs from itself: %v", err)
	}
}

func TestInstallLikeKrew(t *testing.T) {
	r := newRelease(t)
	root := t.TempDir()
	link, err := krewcheck.Install(root, r.plugin, "linux", "amd64", r.resolve)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "bin", "kubectl-irsa"); link != want {
		t.Errorf("link = %s, want %s", link, want)
	}
	target, err := os.Readlink(link)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "store", "irsa", tag, "kubectl-irsa"); target != want {
		t.Errorf("link points at %s, want %s", target, want)
	}
	for _, f := range []string{"LICENSE", "README.md"} {
		if _, err := os.Stat(filepath.Join(root, "store", "irsa", tag, f)); err != nil {
			t.Errorf("%s not extracted: %v", f, err)
		}
	}
	if _, err := exec.LookPath("sh"); err == nil {
		out, err := exec.Command(link).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "kubectl-irsa "+tag {
			t.Errorf("running the installed bin: %q, %v", out, err)
		}
	}

	if _, err := krewcheck.Install(t.TempDir(), r.plugin, "darwin", "arm64", r.resolve); !errors.Is(err, krewcheck.ErrNoPlatform) {
		t.Errorf("Install for an unserved platform = %v, want ErrNoPlatform", err)
	}
	r.plugin.Spec.Platforms[0].Sha256 = strings.Repeat("a", 64)
	if _, err := krewcheck.Install(t.TempDir(), r.plugin, "linux", "amd64", r.resolve); !errors.Is(err, krewcheck.ErrSha256Mismatch) {
		t.Errorf("Install with a wrong sha256 = %v, want ErrSha256Mismatch", err)
	}
}

// TestRepositoryTemplate renders the repository's plugins/krew.yaml against
// archives laid out as .goreleaser.yml names them and checks it by krew's
// rules, and checks that the krews block of .goreleaser.yml says the same
// things, so a broken template fails `make test`, not only a release.
func TestRepositoryTemplate(t *testing.T) {
	text, err := os.ReadFile("../../plugins/krew.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, goos := range []string{"linux", "darwin", "windows"} {
		for _, goarch := range []string{"amd64", "arm64"} {
			name, bin := "kubectl-irsa_"+tag+"_"+goos+"_"+goarch+".tar.gz", unixBin
			if goos == "windows" {
				name, bin = strings.TrimSuffix(name, ".tar.gz")+".zip", winBin
			}
			writeArchive(t, dir, name, bin, license, readme)
		}
	}
	resolve := func(uri string) (string, error) {
		if !strings.HasPrefix(uri, baseURL) {
			t.Errorf("uri %s is not under %s", uri, baseURL)
		}
		return filepath.Join(dir, path.Base(uri)), nil
	}
	out, err := krewcheck.Render(string(text), tag, resolve)
	if err != nil {
		t.Fatal(err)
	}
	plugin, err := krewcheck.Parse(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := krewcheck.Validate("plugins/irsa.yaml", plugin, resolve); err != nil {
		t.Fatalf("plugins/krew.yaml rendered for %s breaks krew's rules:\n%v", tag, err)
	}
	if plugin.Spec.Version != tag || len(plugin.Spec.Platforms) != 6 {
		t.Errorf("version %q with %d platforms, want %s with 6", plugin.Spec.Version, len(plugin.Spec.Platforms), tag)
	}
	for _, perm := range []string{"iam:GetRole", "iam:GetOpenIDConnectProvider", "iam:ListOpenIDConnectProviders", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "eks:DescribeCluster", "sts:GetCallerIdentity", "iam:UpdateOpenIDConnectProviderThumbprint", "serviceaccounts/token", "pods, serviceaccounts", "kubectl_complete-irsa"} {
		if !strings.Contains(plugin.Spec.Caveats, perm) {
			t.Errorf("caveats do not mention %s", perm)
		}
	}

	var gr struct {
		Krews []struct {
			Name             string `json:"name"`
			Homepage         string `json:"homepage"`
			ShortDescription string `json:"short_description"`
			Description      string `json:"description"`
			Caveats          string `json:"caveats"`
		} `json:"krews"`
	}
	data, err := os.ReadFile("../../.goreleaser.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &gr); err != nil {
		t.Fatal(err)
	}
	if len(gr.Krews) != 1 {
		t.Fatalf(".goreleaser.yml has %d krews entries, want 1", len(gr.Krews))
	}
	k := gr.Krews[0]
	for _, f := range []struct{ field, goreleaser, template string }{
		{"name", k.Name, plugin.Metadata.Name},
		{"homepage", k.Homepage, plugin.Spec.Homepage},
		{"short_description", k.ShortDescription, plugin.Spec.ShortDescription},
		{"description", k.Description, plugin.Spec.Description},
		{"caveats", k.Caveats, plugin.Spec.Caveats},
	} {
		if f.goreleaser != f.template {
			t.Errorf("krews %s in .goreleaser.yml and plugins/krew.yaml differ:\n%q\n%q", f.field, f.goreleaser, f.template)
		}
	}
}
