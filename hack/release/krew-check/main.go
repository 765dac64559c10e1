// Command krew-check checks a GoReleaser dist/ directory the way krew-index
// and `kubectl krew install` would, without krew:
//
//  1. renders plugins/krew.yaml (the krew-release-bot template) for dist's tag
//     with the real archives' sha256s;
//  2. validates it, and GoReleaser's dist/krew/NAME.yaml, by krew's rules,
//     archives included (sha256, bin, LICENSE), and the checksums file;
//  3. checks that both manifests agree on everything but URLs;
//  4. installs this machine's archive into a fresh krew root and runs
//     `kubectl NAME version` through the real kubectl, with only ROOT/bin
//     prepended to PATH, expecting exactly the tag; with -complete-shim it
//     also asks kubectl for completions through the kubectl_complete-NAME shim.
//
// Usage: go run ./hack/release/krew-check -dist dist -template plugins/krew.yaml
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/hack/release/krewcheck"
)

type options struct {
	dist, template, kubectl, shim, keep string
}

func main() {
	var o options
	flag.StringVar(&o.dist, "dist", "dist", "GoReleaser's output directory")
	flag.StringVar(&o.template, "template", "plugins/krew.yaml", "krew-release-bot manifest template")
	flag.StringVar(&o.kubectl, "kubectl", "/usr/bin/kubectl", "the kubectl that dispatches to the installed plugin")
	flag.StringVar(&o.shim, "complete-shim", "", "kubectl_complete-NAME script to put on PATH and exercise through `kubectl __complete` (empty: skip)")
	flag.StringVar(&o.keep, "root", "", "krew root to install into (default: a temporary directory, removed afterwards)")
	flag.Parse()

	ctx, stop := context.WithTimeout(context.Background(), 5*time.Minute)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "krew-check: FAIL\n%v\n", err)
		os.Exit(1)
	}
	fmt.Println("krew-check: OK")
}

// metadata is the part of GoReleaser's dist/metadata.json the check needs.
type metadata struct {
	ProjectName string `json:"project_name"`
	Tag         string `json:"tag"`
	Version     string `json:"version"`
}

func run(ctx context.Context, o options) error {
	var md metadata
	if err := readJSON(filepath.Join(o.dist, "metadata.json"), &md); err != nil {
		return fmt.Errorf("reading dist metadata (run make dist first): %w", err)
	}
	// The archive names and the krew version are built from v+Version, the
	// bot's from the tag: they must be one string.
	if md.Tag != "v"+md.Version {
		return fmt.Errorf("dist was built as version %q from tag %q: a release must be built from its vX.Y.Z tag, not a snapshot", md.Version, md.Tag)
	}
	tag := md.Tag
	step("dist %s, tag %s", o.dist, tag)

	text, err := os.ReadFile(o.template)
	if err != nil {
		return fmt.Errorf("reading the template: %w", err)
	}
	rendered, err := krewcheck.Render(string(text), tag, localAsset(o.dist, ""))
	if err != nil {
		return fmt.Errorf("%s: %w", o.template, err)
	}
	plugin, err := krewcheck.Parse(rendered)
	if err != nil {
		return fmt.Errorf("rendered %s: %w", o.template, err)
	}
	// krew-index requires plugins/NAME.yaml, and Validate checks the name
	// the file is written under.
	renderedFile := filepath.Join(o.dist, "krew-rendered", plugin.Metadata.Name+".yaml")
	if err := os.MkdirAll(filepath.Dir(renderedFile), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(renderedFile, rendered, 0o644); err != nil {
		return err
	}
	step("rendered %s into %s", o.template, renderedFile)

	// Release assets are published under HOMEPAGE/releases/download/TAG/.
	prefix := strings.TrimSuffix(plugin.Spec.Homepage, "/") + "/releases/download/" + tag + "/"
	if err := krewcheck.Validate(renderedFile, plugin, localAsset(o.dist, prefix)); err != nil {
		return fmt.Errorf("%s breaks krew's rules:\n%w", renderedFile, err)
	}
	if plugin.Spec.Version != tag {
		return fmt.Errorf("%s: spec.version %q is not the tag %q", renderedFile, plugin.Spec.Version, tag)
	}
	step("%s follows krew's rules: %d platforms, sha256s, bins and LICENSE checked in every archive", renderedFile, len(plugin.Spec.Platforms))

	generatedFile := filepath.Join(o.dist, "krew", plugin.Metadata.Name+".yaml")
	generated, err := krewcheck.ReadFile(generatedFile)
	if err != nil {
		return fmt.Errorf("GoReleaser's manifest (krews block in .goreleaser.yml): %w", err)
	}
	if err := krewcheck.Validate(generatedFile, generated, localAsset(o.dist, "")); err != nil {
		return fmt.Errorf("%s breaks krew's rules:\n%w", generatedFile, err)
	}
	if err := krewcheck.Compare(generatedFile, generated, o.template, plugin); err != nil {
		return fmt.Errorf("keep .goreleaser.yml's krews block and %s in step:\n%w", o.template, err)
	}
	step("%s agrees with the rendered template on everything but URLs", generatedFile)

	if err := checkChecksums(o.dist, md); err != nil {
		return err
	}

	return installAndRun(ctx, o, plugin, tag)
}

func installAndRun(ctx context.Context, o options, plugin krewcheck.Plugin, tag string) error {
	root := o.keep
	if root == "" {
		tmp, err := os.MkdirTemp("", "krew-root-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		root = tmp
	}
	link, err := krewcheck.Install(root, plugin, runtime.GOOS, runtime.GOARCH, localAsset(o.dist, ""))
	if err != nil {
		return fmt.Errorf("installing like krew into %s: %w", root, err)
	}
	step("installed %s/%s into %s (%s)", runtime.GOOS, runtime.GOARCH, root, link)

	binDir := filepath.Dir(link)
	env := withPath(os.Environ(), binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := command(ctx, env, o.kubectl, plugin.Metadata.Name, "version")
	if err != nil {
		return err
	}
	first, _, _ := strings.Cut(out, "\n")
	if want := "kubectl-" + plugin.Metadata.Name + " " + tag; first != want {
		return fmt.Errorf("kubectl %s version printed %q, want %q:\n%s", plugin.Metadata.Name, first, want, out)
	}
	step("%s %s version: %s", o.kubectl, plugin.Metadata.Name, first)

	if o.shim == "" {
		return nil
	}
	// The manual step krew cannot do: the completion shim on PATH. kubectl
	// (>= 1.26) runs kubectl_complete-NAME for `kubectl NAME <TAB>`.
	shimDir := filepath.Join(root, "completion")
	if err := os.MkdirAll(shimDir, 0o755); err != nil {
		return err
	}
	data, err := os.ReadFile(o.shim)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(shimDir, filepath.Base(o.shim)), data, 0o755); err != nil {
		return err
	}
	env = withPath(os.Environ(), binDir+string(os.PathListSeparator)+shimDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err = command(ctx, env, o.kubectl, "__complete", plugin.Metadata.Name, "")
	if err != nil {
		return err
	}
	for _, want := range []string{"diagnose", "completion", "version"} {
		if !hasLinePrefix(out, want) {
			return fmt.Errorf("kubectl __complete %s '' through %s does not offer %q:\n%s", plugin.Metadata.Name, filepath.Base(o.shim), want, out)
		}
	}
	step("%s __complete %s '' (through %s) offers its subcommands", o.kubectl, plugin.Metadata.Name, filepath.Base(o.shim))
	return nil
}

// localAsset resolves a release URL to the file of that name in dist. With a
// prefix, the URL must also start with it (right owner, repo and tag).
func localAsset(dist, prefix string) krewcheck.Resolver {
	return func(uri string) (string, error) {
		if prefix != "" && !strings.HasPrefix(uri, prefix) {
			return "", fmt.Errorf("%s is not under %s", uri, prefix)
		}
		f := filepath.Join(dist, path.Base(uri))
		if _, err := os.Stat(f); err != nil {
			return "", fmt.Errorf("no archive %s in %s for %s", path.Base(uri), dist, uri)
		}
		return f, nil
	}
}

// checkChecksums compares GoReleaser's checksums file, which users verify
// downloads with, against the archives.
func checkChecksums(dist string, md metadata) error {
	name := md.ProjectName + "_" + md.Tag + "_checksums.txt"
	f, err := os.Open(filepath.Join(dist, name))
	if err != nil {
		return fmt.Errorf("checksums file: %w", err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, file, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			return fmt.Errorf("%s: malformed line %q", name, sc.Text())
		}
		got, err := krewcheck.FileSHA256(filepath.Join(dist, file))
		if err != nil {
			return fmt.Errorf("%s lists %s: %w", name, file, err)
		}
		if got != sum {
			return fmt.Errorf("%s: %s has %s, the file says %s", name, file, got, sum)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s lists no file", name)
	}
	step("%s matches its %d archives", name, n)
	return nil
}

func command(ctx context.Context, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func withPath(env []string, p string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PATH=") {
			out = append(out, kv)
		}
	}
	return append(out, "PATH="+p)
}

func hasLinePrefix(out, prefix string) bool {
	for line := range strings.SplitSeq(out, "\n") {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	return false
}

func readJSON(file string, v any) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

func step(format string, args ...any) {
	fmt.Printf("krew-check: "+format+"\n", args...)
}
