package krewcheck

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Entry is a regular file in an archive.
type Entry struct {
	Name string // slash-separated, cleaned, relative
	Mode fs.FileMode
}

// archiveKind says how to open an archive; krew decides by content type, and
// the manifest's uri suffix is what the release check controls.
func archiveKind(name string) (string, error) {
	switch {
	case strings.HasSuffix(name, ".tar.gz"), strings.HasSuffix(name, ".tgz"):
		return "tar.gz", nil
	case strings.HasSuffix(name, ".zip"):
		return "zip", nil
	}
	return "", fmt.Errorf("%s: not a .tar.gz or .zip archive", name)
}

// cleanName rejects entries that would land outside the install directory
// ("../x", "/etc/x"): krew refuses them, and so must anything that extracts
// release archives.
func cleanName(name string) (string, error) {
	n := path.Clean(strings.TrimPrefix(name, "./"))
	if n == "." || path.IsAbs(n) || n == ".." || strings.HasPrefix(n, "../") {
		return "", fmt.Errorf("archive entry %q escapes the install directory", name)
	}
	return n, nil
}

// List returns the regular files of a .tar.gz or .zip archive.
func List(archive string) ([]Entry, error) {
	var out []Entry
	err := walk(archive, func(e Entry, _ io.Reader) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// Extract writes the archive's regular files under dir with their modes.
func Extract(archive, dir string) error {
	return walk(archive, func(e Entry, r io.Reader) error {
		dst := filepath.Join(dir, filepath.FromSlash(e.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, e.Mode.Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, r); err != nil {
			f.Close()
			return fmt.Errorf("extracting %s: %w", e.Name, err)
		}
		return f.Close()
	})
}

func walk(archive string, fn func(Entry, io.Reader) error) error {
	kind, err := archiveKind(archive)
	if err != nil {
		return err
	}
	if kind == "zip" {
		return walkZip(archive, fn)
	}
	return walkTarGz(archive, fn)
}

func walkTarGz(archive string, fn func(Entry, io.Reader) error) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", archive, err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", archive, err)
		}
		if h.Typeflag != tar.TypeReg {
			// Directories are implied by files; links and devices have no
			// place in a plugin archive and are not followed.
			continue
		}
		name, err := cleanName(h.Name)
		if err != nil {
			return fmt.Errorf("%s: %w", archive, err)
		}
		if err := fn(Entry{Name: name, Mode: h.FileInfo().Mode().Perm()}, tr); err != nil {
			return err
		}
	}
}

func walkZip(archive string, fn func(Entry, io.Reader) error) error {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return fmt.Errorf("%s: %w", archive, err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if !zf.Mode().IsRegular() {
			continue
		}
		name, err := cleanName(zf.Name)
		if err != nil {
			return fmt.Errorf("%s: %w", archive, err)
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("%s: %w", archive, err)
		}
		err = fn(Entry{Name: name, Mode: zf.Mode().Perm()}, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
