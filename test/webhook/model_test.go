package webhook

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// op is one expected patch operation; its value is marshalled like the
// webhook's.
func op(o, path string, value any) PatchOperation {
	return PatchOperation{Op: o, Path: path, Value: value}
}

func replaceContainer(c corev1.Container) PatchOperation {
	return op("replace", "/spec/containers/0", c)
}

func addVolumes(v ...corev1.Volume) PatchOperation { return op("add", "/spec/volumes", v) }

// TestModel covers what issue 16 added to the model of the real webhook.
// Each case asserts the exact JSON patch and the pod it produces. The real
// webhook's source file is named in each case.
func TestModel(t *testing.T) {
	const (
		cmRole    = "arn:aws:iam::111122223333:role/from-configmap"
		customDir = "/custom/token-dir/"
		prefix    = "iam.example.com"
	)
	irsaFull := env(EnvRoleARN, testRole, EnvWebIdentityTokenFile, tokenEnv)
	cmFull := env(EnvRoleARN, cmRole, EnvWebIdentityTokenFile, tokenEnv)
	piFull := env(EnvContainerCredentialsFullURI, PodIdentityFullURI, EnvContainerAuthorizationTokenFile, piToken)
	assoc := []Association{{Namespace: testNS, ServiceAccount: testSA}}
	cm := func(kv ...any) ConfigMapRoles {
		r := ConfigMapRoles{}
		for i := 0; i+1 < len(kv); i += 2 {
			r[kv[i].(string)] = kv[i+1].(Entry)
		}
		return r
	}
	customMount := corev1.VolumeMount{Name: IRSAVolumeName, MountPath: customDir, ReadOnly: true}
	existing := corev1.Volume{Name: PodIdentityVolumeName, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}

	tests := []struct {
		name string
		cfg  Config
		pod  *corev1.Pod
		in   Inputs
		// patch is the exact patch; nil when the pod must be admitted unmodified.
		patch []PatchOperation
	}{
		// 1. The empty audience annotation (pkg/cache/cache.go addSA).
		{
			name: "empty audience annotation: the token has no audience (the API server puts in its own)",
			pod:  podOf(ctr("app")),
			in:   Inputs{ServiceAccount: roleSA(AnnotationAudience, "")},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", irsaFull...), irsaMount)),
				addVolumes(irsaVolume("", 86400)),
			},
		},
		{
			name: "empty audience annotation wins over --token-audience too",
			cfg:  Config{Audience: "sts.example"},
			pod:  podOf(ctr("app")),
			in:   Inputs{ServiceAccount: roleSA(AnnotationAudience, "")},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", irsaFull...), irsaMount)),
				addVolumes(irsaVolume("", 86400)),
			},
		},

		// 3. Roles from the ConfigMap (pkg/cache/cache.go Get, populateCacheFromCM).
		{
			name: "configmap: an unannotated service account gets the entry's role, audience, regional STS and expiration",
			cfg:  Config{WatchConfigMap: true},
			pod:  podOf(ctr("app")),
			in: Inputs{ServiceAccount: sa(), ConfigMap: cm(testNS+"/"+testSA,
				Entry{RoleARN: cmRole, Audience: "amazonaws.com", UseRegionalSTS: true, TokenExpiration: 3600})},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", append(env(EnvSTSRegionalEndpoints, "regional"), cmFull...)...), irsaMount)),
				addVolumes(irsaVolume("amazonaws.com", 3600)),
			},
		},
		{
			name: "configmap: an entry without Audience projects a token with no audience; without UseRegionalSTS the flag does not apply",
			cfg:  Config{WatchConfigMap: true, RegionalSTS: true, Audience: "sts.example"},
			pod:  podOf(ctr("app")),
			in:   Inputs{ServiceAccount: sa(), ConfigMap: cm(testNS+"/"+testSA, Entry{RoleARN: cmRole, TokenExpiration: 86400})},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", cmFull...), irsaMount)),
				addVolumes(irsaVolume("", 86400)),
			},
		},
		{
			name: "configmap: the service account need not be known to the webhook",
			cfg:  Config{WatchConfigMap: true},
			pod:  podOf(ctr("app")),
			in:   Inputs{ConfigMap: cm(testNS+"/"+testSA, Entry{RoleARN: cmRole, Audience: DefaultAudience, TokenExpiration: 86400})},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", cmFull...), irsaMount)),
				addVolumes(irsaVolume(DefaultAudience, 86400)),
			},
		},
		{
			name: "configmap: \"*/name\" matches every namespace",
			cfg:  Config{WatchConfigMap: true},
			pod:  podOf(ctr("app")),
			in:   Inputs{ServiceAccount: sa(), ConfigMap: cm("*/"+testSA, Entry{RoleARN: cmRole, Audience: DefaultAudience, TokenExpiration: 86400})},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", cmFull...), irsaMount)),
				addVolumes(irsaVolume(DefaultAudience, 86400)),
			},
		},
		{
			name: "configmap: the pod's own namespace wins over \"*\"",
			cfg:  Config{WatchConfigMap: true},
			pod:  podOf(ctr("app")),
			in: Inputs{ServiceAccount: sa(), ConfigMap: cm(
				"*/"+testSA, Entry{RoleARN: "arn:aws:iam::111122223333:role/wildcard", Audience: "x", TokenExpiration: 86400},
				testNS+"/"+testSA, Entry{RoleARN: cmRole, Audience: DefaultAudience, TokenExpiration: 86400})},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", cmFull...), irsaMount)),
				addVolumes(irsaVolume(DefaultAudience, 86400)),
			},
		},
		{
			name: "configmap: a namespace pattern such as \"shop-*\" (the README's example) matches nothing",
			cfg:  Config{WatchConfigMap: true},
			pod:  podOf(ctr("app")),
			in:   Inputs{ServiceAccount: sa(), ConfigMap: cm("sho*/"+testSA, Entry{RoleARN: cmRole, TokenExpiration: 86400})},
		},
		{
			name: "configmap: the role-arn annotation wins, whole: the entry's audience is not used",
			cfg:  Config{WatchConfigMap: true},
			pod:  podOf(ctr("app")),
			in:   Inputs{ServiceAccount: roleSA(), ConfigMap: cm(testNS+"/"+testSA, Entry{RoleARN: cmRole, Audience: "amazonaws.com", TokenExpiration: 3600})},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", irsaFull...), irsaMount)),
				addVolumes(irsaVolume(DefaultAudience, 86400)),
			},
		},
		{
			name: "configmap: an entry's TokenExpiration under 600 is kept; the pod annotation still overrides it",
			cfg:  Config{WatchConfigMap: true},
			pod:  podOf(ctr("app")),
			in:   Inputs{ServiceAccount: sa(), ConfigMap: cm(testNS+"/"+testSA, Entry{RoleARN: cmRole, Audience: DefaultAudience, TokenExpiration: 300})},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", cmFull...), irsaMount)),
				addVolumes(irsaVolume(DefaultAudience, 300)),
			},
		},
		{
			name: "configmap: the pod's token-expiration annotation overrides the entry's",
			cfg:  Config{WatchConfigMap: true},
			pod:  build([]corev1.Container{ctr("app")}, annotate(AnnotationTokenExpiration, "7200")),
			in:   Inputs{ServiceAccount: sa(), ConfigMap: cm(testNS+"/"+testSA, Entry{RoleARN: cmRole, Audience: DefaultAudience, TokenExpiration: 3600})},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", cmFull...), irsaMount)),
				addVolumes(irsaVolume(DefaultAudience, 7200)),
			},
		},
		{
			name: "configmap: an entry with an empty RoleARN mutates nothing",
			cfg:  Config{WatchConfigMap: true},
			pod:  podOf(ctr("app")),
			in:   Inputs{ServiceAccount: sa(), ConfigMap: cm(testNS+"/"+testSA, Entry{Audience: DefaultAudience, TokenExpiration: 86400})},
		},
		{
			name: "configmap: a Pod Identity pod whose service account is unknown takes regional STS and expiration from its namespace's entry",
			cfg:  Config{WatchConfigMap: true, Associations: assoc, PodIdentityExpiration: fixedJitter},
			pod:  podOf(ctr("app")),
			in:   Inputs{ConfigMap: cm(testNS+"/"+testSA, Entry{RoleARN: cmRole, UseRegionalSTS: true, TokenExpiration: 3600})},
			patch: []PatchOperation{
				op("add", "/metadata/labels", map[string]string{LabelPodIdentity: LabelPodIdentityEnabled}),
				replaceContainer(withMounts(ctr("app", append(env(EnvSTSRegionalEndpoints, "regional"), piFull...)...), piMount)),
				addVolumes(piVolume(3600)),
			},
		},
		{
			name: "configmap: for a Pod Identity pod a \"*\" entry does not count",
			cfg:  Config{WatchConfigMap: true, Associations: assoc, PodIdentityExpiration: fixedJitter},
			pod:  podOf(ctr("app")),
			in:   Inputs{ConfigMap: cm("*/"+testSA, Entry{RoleARN: cmRole, UseRegionalSTS: true, TokenExpiration: 3600})},
			patch: []PatchOperation{
				op("add", "/metadata/labels", map[string]string{LabelPodIdentity: LabelPodIdentityEnabled}),
				replaceContainer(withMounts(ctr("app", piFull...), piMount)),
				addVolumes(piVolume(80000)),
			},
		},

		// 4. Flags (main.go; pkg/cache/cache.go addSA; pkg/handler/handler.go).
		{
			name: "--annotation-prefix: the service account annotations are read under it",
			cfg:  Config{AnnotationPrefix: prefix},
			pod:  podOf(ctr("app")),
			in: Inputs{ServiceAccount: sa(prefix+"/role-arn", testRole, prefix+"/audience", "amazonaws.com",
				prefix+"/sts-regional-endpoints", "true", prefix+"/token-expiration", "3600")},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", append(env(EnvSTSRegionalEndpoints, "regional"), irsaFull...)...), irsaMount)),
				addVolumes(irsaVolume("amazonaws.com", 3600)),
			},
		},
		{
			name: "--annotation-prefix: eks.amazonaws.com annotations are then ignored",
			cfg:  Config{AnnotationPrefix: prefix},
			pod:  podOf(ctr("app")),
			in:   Inputs{ServiceAccount: roleSA()},
		},
		{
			name: "--annotation-prefix: the pod's skip-containers and token-expiration are read under it too",
			cfg:  Config{AnnotationPrefix: prefix},
			pod: build([]corev1.Container{ctr("app"), ctr("sidecar")}, annotate(prefix+"/skip-containers", "sidecar", prefix+"/token-expiration", "7200",
				AnnotationSkipContainers, "app")),
			in: Inputs{ServiceAccount: sa(prefix+"/role-arn", testRole)},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", irsaFull...), irsaMount)),
				addVolumes(irsaVolume(DefaultAudience, 7200)),
			},
		},
		{
			name: "--annotation-prefix: the Pod Identity label keeps eks.amazonaws.com",
			cfg:  Config{AnnotationPrefix: prefix, Associations: assoc, PodIdentityExpiration: fixedJitter},
			pod:  podOf(ctr("app")),
			in:   Inputs{ServiceAccount: sa()},
			patch: []PatchOperation{
				op("add", "/metadata/labels", map[string]string{"eks.amazonaws.com/pod-identity": "enabled"}),
				replaceContainer(withMounts(ctr("app", piFull...), piMount)),
				addVolumes(piVolume(80000)),
			},
		},
		{
			name: "--token-mount-path: the mount keeps the value, the env has the cleaned join with token",
			cfg:  Config{MountPath: customDir},
			pod:  podOf(ctr("app")),
			in:   Inputs{ServiceAccount: roleSA()},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", env(EnvRoleARN, testRole, EnvWebIdentityTokenFile, "/custom/token-dir/token")...), customMount)),
				addVolumes(irsaVolume(DefaultAudience, 86400)),
			},
		},
		{
			name: "--token-mount-path on a Windows pod: C: and backslashes",
			cfg:  Config{MountPath: customDir},
			pod:  build([]corev1.Container{ctr("app")}, nodeSelector("kubernetes.io/os", "windows")),
			in:   Inputs{ServiceAccount: roleSA()},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", env(EnvRoleARN, testRole, EnvWebIdentityTokenFile, `C:\custom\token-dir\token`)...), customMount)),
				addVolumes(irsaVolume(DefaultAudience, 86400)),
			},
		},
		{
			name: "--token-expiration is the IRSA default; the service account annotation wins",
			cfg:  Config{TokenExpiration: 3600},
			pod:  podOf(ctr("app")),
			in:   Inputs{ServiceAccount: roleSA()},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", irsaFull...), irsaMount)),
				addVolumes(irsaVolume(DefaultAudience, 3600)),
			},
		},
		{
			name: "--token-expiration under 600 is raised to 600",
			cfg:  Config{TokenExpiration: 100},
			pod:  podOf(ctr("app")),
			in:   Inputs{ServiceAccount: roleSA()},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", irsaFull...), irsaMount)),
				addVolumes(irsaVolume(DefaultAudience, 600)),
			},
		},
		{
			name: "--token-expiration: a service account annotation overrides the flag",
			cfg:  Config{TokenExpiration: 3600},
			pod:  podOf(ctr("app")),
			in:   Inputs{ServiceAccount: roleSA(AnnotationTokenExpiration, "7200")},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", irsaFull...), irsaMount)),
				addVolumes(irsaVolume(DefaultAudience, 7200)),
			},
		},
		{
			name: "--token-expiration applies to a Pod Identity pod whose service account is known (no jitter: not 86400)",
			cfg:  Config{TokenExpiration: 3600, Associations: assoc, PodIdentityExpiration: fixedJitter},
			pod:  podOf(ctr("app")),
			in:   Inputs{ServiceAccount: sa()},
			patch: []PatchOperation{
				op("add", "/metadata/labels", map[string]string{LabelPodIdentity: LabelPodIdentityEnabled}),
				replaceContainer(withMounts(ctr("app", piFull...), piMount)),
				addVolumes(piVolume(3600)),
			},
		},
		{
			name: "--token-expiration does not apply to a Pod Identity pod whose service account is unknown",
			cfg:  Config{TokenExpiration: 3600, Associations: assoc, PodIdentityExpiration: fixedJitter},
			pod:  podOf(ctr("app")),
			patch: []PatchOperation{
				op("add", "/metadata/labels", map[string]string{LabelPodIdentity: LabelPodIdentityEnabled}),
				replaceContainer(withMounts(ctr("app", piFull...), piMount)),
				addVolumes(piVolume(80000)),
			},
		},
		{
			name: "--aws-default-region, --sts-regional-endpoint and --token-audience together",
			cfg:  Config{DefaultRegion: "eu-west-1", RegionalSTS: true, Audience: "sts.example"},
			pod:  podOf(ctr("app")),
			in:   Inputs{ServiceAccount: roleSA()},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", env(EnvSTSRegionalEndpoints, "regional", EnvDefaultRegion, "eu-west-1", EnvRegion, "eu-west-1",
					EnvRoleARN, testRole, EnvWebIdentityTokenFile, tokenEnv)...), irsaMount)),
				addVolumes(irsaVolume("sts.example", 86400)),
			},
		},

		// 5. The Pod Identity label (pkg/handler/handler.go getPodSpecPatch).
		{
			name: "label: a pod with other labels gets one more key",
			cfg:  Config{Associations: assoc, PodIdentityExpiration: fixedJitter},
			pod:  build([]corev1.Container{ctr("app")}, labels("app", "web")),
			in:   Inputs{ServiceAccount: sa()},
			patch: []PatchOperation{
				op("add", "/metadata/labels/eks.amazonaws.com~1pod-identity", LabelPodIdentityEnabled),
				replaceContainer(withMounts(ctr("app", piFull...), piMount)),
				addVolumes(piVolume(80000)),
			},
		},
		{
			name: "label: a value already there is overwritten",
			cfg:  Config{Associations: assoc, PodIdentityExpiration: fixedJitter},
			pod:  build([]corev1.Container{ctr("app")}, labels(LabelPodIdentity, "disabled")),
			in:   Inputs{ServiceAccount: sa()},
			patch: []PatchOperation{
				op("add", "/metadata/labels/eks.amazonaws.com~1pod-identity", LabelPodIdentityEnabled),
				replaceContainer(withMounts(ctr("app", piFull...), piMount)),
				addVolumes(piVolume(80000)),
			},
		},
		{
			name: "label: set even when no container and no volume changes",
			cfg:  Config{Associations: assoc, PodIdentityExpiration: fixedJitter},
			pod: build([]corev1.Container{ctr("app", env(EnvContainerCredentialsFullURI, "http://x", EnvRegion, "r", EnvSTSRegionalEndpoints, "regional")...)},
				volumes(existing)),
			in:    Inputs{ServiceAccount: sa()},
			patch: []PatchOperation{op("add", "/metadata/labels", map[string]string{LabelPodIdentity: LabelPodIdentityEnabled})},
		},
		{
			name: "label: OmitPodIdentityLabel models webhooks before #295",
			cfg:  Config{Associations: assoc, PodIdentityExpiration: fixedJitter, OmitPodIdentityLabel: true},
			pod:  podOf(ctr("app")),
			in:   Inputs{ServiceAccount: sa()},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", piFull...), piMount)),
				addVolumes(piVolume(80000)),
			},
		},
		{
			name: "label: IRSA pods get none",
			pod:  build([]corev1.Container{ctr("app")}, labels("app", "web")),
			in:   Inputs{ServiceAccount: roleSA()},
			patch: []PatchOperation{
				replaceContainer(withMounts(ctr("app", irsaFull...), irsaMount)),
				addVolumes(irsaVolume(DefaultAudience, 86400)),
			},
		},
		{
			name: "jitter: an explicit token-expiration of exactly 86400 is jittered too (addJitterToDefaultToken)",
			cfg:  Config{Associations: assoc, PodIdentityExpiration: fixedJitter},
			pod:  build([]corev1.Container{ctr("app")}, annotate(AnnotationTokenExpiration, "86400")),
			in:   Inputs{ServiceAccount: sa()},
			patch: []PatchOperation{
				op("add", "/metadata/labels", map[string]string{LabelPodIdentity: LabelPodIdentityEnabled}),
				replaceContainer(withMounts(ctr("app", piFull...), piMount)),
				addVolumes(piVolume(80000)),
			},
		},

		// 6. serviceAccountName as the API server filled it in (pkg/handler/handler.go).
		{
			name: "an empty serviceAccountName is not the default service account",
			cfg:  Config{WatchConfigMap: true, Associations: []Association{{Namespace: testNS, ServiceAccount: "default"}}},
			pod: func() *corev1.Pod {
				p := podOf(ctr("app"))
				p.Spec.ServiceAccountName = ""
				return p
			}(),
			in: Inputs{ConfigMap: cm(testNS+"/default", Entry{RoleARN: cmRole, TokenExpiration: 86400})},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := tc.pod.DeepCopy()
			got, changed := MutateWith(tc.cfg, testNS, tc.pod, tc.in)
			if !reflect.DeepEqual(tc.pod, orig) {
				t.Fatal("MutateWith modified its input pod")
			}
			if changed != (tc.patch != nil) {
				t.Errorf("changed = %v, want %v", changed, tc.patch != nil)
			}
			patch := patchFor(t, orig, got)
			want, err := MarshalPatch(tc.patch)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(patch, want) {
				t.Errorf("patch differs\n got: %s\nwant: %s", patch, want)
			}
			// The patch, applied as the API server does, gives MutateWith's pod.
			assertSamePod(t, "patched", applyPatch(t, orig, patch), got)
		})
	}
}

func TestEmptyAudienceIsAbsentOnTheWire(t *testing.T) {
	pod := podOf(ctr("app"))
	got, _ := Mutate(Config{}, testNS, pod, roleSA(AnnotationAudience, ""))
	ops, err := CreatePatch(pod, got)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := MarshalPatch(ops)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(patch), `"audience"`) {
		t.Errorf("patch carries an audience field, want none so the API server uses its own: %s", patch)
	}
}

func TestParseConfigMapRoles(t *testing.T) {
	tests := []struct {
		name        string
		data        string
		want        ConfigMapRoles
		wantSkipped []string
		wantErr     bool
	}{
		{
			name: "the README's format; TokenExpiration 0 is the flag's value",
			data: `{"default/app":{"RoleARN":"arn:aws:iam::111122223333:role/a","Audience":"amazonaws.com","UseRegionalSTS":true,"TokenExpiration":0}}`,
			want: ConfigMapRoles{"default/app": {RoleARN: "arn:aws:iam::111122223333:role/a", Audience: "amazonaws.com", UseRegionalSTS: true, TokenExpiration: 3600}},
		},
		{
			name: "field names match case-insensitively; missing fields stay empty; short expirations are kept",
			data: `{"*/app":{"rolearn":"r","tokenExpiration":300}}`,
			want: ConfigMapRoles{"*/app": {RoleARN: "r", TokenExpiration: 300}},
		},
		{
			name: "a key with more slashes keeps its first two parts",
			data: `{"a/b/c":{"RoleARN":"r"}}`,
			want: ConfigMapRoles{"a/b": {RoleARN: "r", TokenExpiration: 3600}},
		},
		{
			name:        "keys without a slash and null entries are skipped (the real webhook panics)",
			data:        `{"app":{"RoleARN":"r"},"ns/null":null,"ns/ok":{"RoleARN":"r"}}`,
			want:        ConfigMapRoles{"ns/ok": {RoleARN: "r", TokenExpiration: 3600}},
			wantSkipped: []string{"app", "ns/null"},
		},
		{name: "invalid JSON", data: `{"ns/app":`, wantErr: true},
		{name: "a missing config key is invalid JSON too", data: "", wantErr: true},
		{name: "a wrong type fails the whole document", data: `{"ns/a":{"RoleARN":"r"},"ns/b":{"TokenExpiration":"3600"}}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, skipped, err := ParseConfigMapRoles(tc.data, 3600)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("roles = %+v, want %+v", got, tc.want)
			}
			slices.Sort(skipped)
			if !reflect.DeepEqual(skipped, tc.wantSkipped) {
				t.Errorf("skipped = %q, want %q", skipped, tc.wantSkipped)
			}
		})
	}
}

func TestConfigMapRoundTrip(t *testing.T) {
	roles := ConfigMapRoles{"shop/app": {RoleARN: testRole, Audience: DefaultAudience, UseRegionalSTS: true, TokenExpiration: 7200}}
	cm, err := ConfigMap("kube-system", roles)
	if err != nil {
		t.Fatal(err)
	}
	if cm.Name != "pod-identity-webhook" || cm.Namespace != "kube-system" {
		t.Errorf("configmap %s/%s", cm.Namespace, cm.Name)
	}
	var raw map[string]map[string]any
	if err := json.Unmarshal([]byte(cm.Data["config"]), &raw); err != nil {
		t.Fatal(err)
	}
	if raw["shop/app"]["RoleARN"] != testRole || raw["shop/app"]["UseRegionalSTS"] != true {
		t.Errorf("config = %s, want the real webhook's field names", cm.Data["config"])
	}
	got, _, err := ParseConfigMapRoles(cm.Data["config"], 86400)
	if err != nil || !reflect.DeepEqual(got, roles) {
		t.Errorf("round trip = %+v, %v; want %+v", got, err, roles)
	}
}
