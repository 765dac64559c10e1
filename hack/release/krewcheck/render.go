package krewcheck

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"text/template"
)

// Render executes a krew-release-bot template for tag. Like the bot, it
// provides {{ .TagName }} and addURIAndSha, whose first argument is itself a
// template over TagName; unlike the bot, which downloads the published asset,
// it hashes the local file that resolve names for the URL, so a template can
// be checked before anything is published. Any other function (the bot also
// offers sprig's) fails the render: the check proves only what it runs.
func Render(text, tag string, resolve func(url string) (string, error)) ([]byte, error) {
	data := struct{ TagName string }{TagName: tag}
	funcs := template.FuncMap{
		"addURIAndSha": func(urlTemplate, tagName string) (string, error) {
			t, err := template.New("url").Option("missingkey=error").Parse(urlTemplate)
			if err != nil {
				return "", fmt.Errorf("addURIAndSha: parsing %q: %w", urlTemplate, err)
			}
			var url bytes.Buffer
			if err := t.Execute(&url, struct{ TagName string }{TagName: tagName}); err != nil {
				return "", fmt.Errorf("addURIAndSha: %w", err)
			}
			path, err := resolve(url.String())
			if err != nil {
				return "", fmt.Errorf("addURIAndSha %s: %w", url.String(), err)
			}
			sum, err := FileSHA256(path)
			if err != nil {
				return "", fmt.Errorf("addURIAndSha %s: %w", url.String(), err)
			}
			// The bot's output shape: two keys, the second indented for a
			// platform entry at the template's usual depth.
			return fmt.Sprintf("uri: %s\n    sha256: %s", url.String(), sum), nil
		},
	}
	t, err := template.New("krew").Option("missingkey=error").Funcs(funcs).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parsing the template: %w", err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, data); err != nil {
		return nil, fmt.Errorf("rendering the template: %w", err)
	}
	return out.Bytes(), nil
}

// FileSHA256 is the lower-case hex sha256 of a file, as krew compares it.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
