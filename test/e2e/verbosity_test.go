//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Values of the verbosity runs' Secret and literal env vars. They are
// distinct from every other scenario's so that a hit names its source.
const (
	verboseSecretKeyID   = "AKIAE2EVERBOSESECRET"
	verboseSecretValue   = "e2e-verbose-secret-value-from-the-secret"
	verboseLiteralKeyID  = "AKIAE2EVERBOSELITERA"
	verboseLiteralSecret = "e2e-verbose-secret-value-written-in-the-pod-spec"
)

// TestVerbosityKeepsSecrets runs diagnose at -v=10, where client-go logs every
// request it makes with its URL, headers and (unless the plugin stops it)
// body, through the real kubectl against the real API server. No token, no
// credential and no Secret value may reach stdout or stderr, in clear, in
// base64 (a Secret's data in a JSON body) or hex-dumped (a protobuf body),
// and the run must still produce its normal findings.
func TestVerbosityKeepsSecrets(t *testing.T) {
	s := startSuite(t)
	cases := []struct {
		name, ns string
		setup    func(w *world) string
		flags    []string
		fail     []string
		code     int
		// values must not be printed, nor their base64.
		values []string
		// logged are request paths the -v=10 log must show: the read
		// happened, and was logged.
		logged func(w *world) []string
		check  func(w *world, fs []finding)
	}{
		{name: "static keys through an envFrom Secret", ns: "e2e-verbose-secret", fail: []string{"IRSA-CRED-001"}, code: 2,
			values: []string{verboseSecretKeyID, verboseSecretValue},
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				if _, err := w.cs.CoreV1().Secrets(w.ns).Create(w.ctx, &corev1.Secret{
					ObjectMeta: metav1.ObjectMeta{Name: "aws-keys"},
					StringData: map[string]string{"AWS_ACCESS_KEY_ID": verboseSecretKeyID, "AWS_SECRET_ACCESS_KEY": verboseSecretValue},
				}, metav1.CreateOptions{}); err != nil {
					w.t.Fatal(err)
				}
				w.pod(w.newPod("web", "app").EnvFromSecret("app", "aws-keys", ""))
				return "pod/web"
			},
			logged: func(w *world) []string { return []string{"/api/v1/namespaces/" + w.ns + "/secrets/aws-keys"} },
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-CRED-001", "fail")
				mentions(w.t, f, "message", f.Message, "Static AWS keys")
			}},
		{name: "static keys written into the pod spec", ns: "e2e-verbose-literal", fail: []string{"IRSA-CRED-001"}, code: 2,
			values: []string{verboseLiteralKeyID, verboseLiteralSecret},
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.pod(w.newPod("web", "app").Env("app", "AWS_ACCESS_KEY_ID", verboseLiteralKeyID).
					Env("app", "AWS_SECRET_ACCESS_KEY", verboseLiteralSecret))
				return "pod/web"
			},
			logged: func(w *world) []string { return []string{"/api/v1/namespaces/" + w.ns + "/pods"} },
			check: func(w *world, fs []finding) {
				hit(w.t, fs, "IRSA-CRED-001", "fail")
			}},
		{name: "probe: a token minted, verified and accepted by the emulated STS", ns: "e2e-verbose-probe", code: 0,
			flags: []string{"--probe", "--show-passed"},
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.pod(w.newPod("web", "app"))
				return "pod/web"
			},
			logged: func(w *world) []string {
				return []string{"/api/v1/namespaces/" + w.ns + "/serviceaccounts/app/token"}
			},
			check: func(w *world, fs []finding) {
				hit(w.t, fs, "IRSA-PROBE-003", "pass")
				if n := w.aws.Count("sts:AssumeRoleWithWebIdentity"); n != 1 {
					w.t.Errorf("%d AssumeRoleWithWebIdentity calls, want 1: the probe must have got credentials to hide", n)
				}
			}},
		{name: "cloudtrail: events that carry issued access key ids are read, never printed", ns: "e2e-verbose-trail", code: 0,
			flags: []string{"--cloudtrail", "--show-passed"},
			setup: func(w *world) string {
				role := w.healthy(acctA, "app", "app")
				w.irsaSA("app", role)
				w.pod(w.newPod("web", "app"))
				if got := w.exchange("app", role, goV2Agent, regionalSTS); got != "" {
					w.t.Fatalf("exchange: %s", got)
				}
				// What the test looks for is there to be found: CloudTrail
				// logs the session's access key id (secretShapes has ASIA…).
				if evs := w.aws.TrailEvents(acctA, "us-west-2"); len(evs) != 1 || !strings.Contains(evs[0].Payload, `"accessKeyId":"ASIA`) {
					w.t.Fatalf("the emulator logged %d events, without the access key id this case guards", len(evs))
				}
				return "pod/web"
			},
			logged: func(*world) []string { return nil },
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "CLOUDTRAIL-READ-001", "pass")
				mentions(w.t, f, "message", f.Message, "1 event of this service account")
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			w := s.newWorld(ctx, t, c.ns, nil)
			args := append([]string{"diagnose", c.setup(w), "-n", w.ns, "-o", "json", "-v=10"}, c.flags...)
			out, stderr, code := w.irsa(args...)
			if code != c.code {
				t.Errorf("exit code %d, want %d", code, c.code)
			}
			fs := findings(t, out)
			assertIDs(t, "failing", statusIDs(fs, "fail"), c.fail, fs)
			c.check(w, fs)
			for _, p := range c.logged(w) {
				if !strings.Contains(stderr, p) {
					t.Errorf("the -v=10 log does not show the request to %s", p)
				}
			}
			assertNothingSecret(t, "stdout", out, c.values)
			assertNothingSecret(t, "stderr", stderr, c.values)
			if t.Failed() {
				t.Logf("kubectl irsa %s: %d bytes of stdout, %d of stderr (not logged: they may hold what the test looks for)",
					strings.Join(args, " "), len(out), len(stderr))
			}
		})
	}
}

// eyJHex is "eyJ", the start of every JWT's header and payload, as hex.Dump
// writes it: bytes 65 79 4a, one or two spaces apart.
var eyJHex = regexp.MustCompile(`65\s{1,2}79\s{1,2}4a`)

// assertNothingSecret fails when text, or the bytes of the hex dumps in it,
// holds a secretShapes match, one of values or its base64, or "eyJ" in hex.
// It names what it found and where, never the secret itself.
func assertNothingSecret(t *testing.T, stream, text string, values []string) {
	t.Helper()
	if eyJHex.MatchString(text) {
		t.Errorf("%s holds the hex of \"eyJ\": a hex-dumped token", stream)
	}
	for form, b := range map[string]string{"in clear": text, "hex-dumped": string(hexDumped(text))} {
		for _, re := range secretShapes {
			if re.MatchString(b) {
				t.Errorf("%s holds %s, %s", stream, re, form)
			}
		}
		for _, v := range values {
			for _, enc := range []string{v, base64.StdEncoding.EncodeToString([]byte(v))} {
				if strings.Contains(b, enc) {
					t.Errorf("%s holds the value starting %.6q, %s (encoded as %d characters)", stream, v, form, len(enc))
				}
			}
		}
	}
}

// hexDumpLine is one line of encoding/hex.Dump (client-go's form for a
// binary body), however klog indents it: an offset, then up to 16 bytes.
var hexDumpLine = regexp.MustCompile(`(?m)^\s*[0-9a-f]{8}\s\s((?:[0-9a-f]{2}\s{1,2}){1,16})`)

// hexDumped returns the bytes of every hex dump in text, in order.
func hexDumped(text string) []byte {
	var out []byte
	for _, m := range hexDumpLine.FindAllStringSubmatch(text, -1) {
		b, err := hex.DecodeString(strings.Join(strings.Fields(m[1]), ""))
		if err == nil {
			out = append(out, b...)
		}
	}
	return out
}
