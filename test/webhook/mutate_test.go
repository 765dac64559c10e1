package webhook

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	testNS   = "shop"
	testSA   = "app"
	testRole = "arn:aws:iam::111122223333:role/app"
	tokenEnv = IRSAMountPath + "/token"
	piToken  = PodIdentityMountPath + "/eks-pod-identity-token"
)

func env(kv ...string) []corev1.EnvVar {
	var out []corev1.EnvVar
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, corev1.EnvVar{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

var (
	irsaMount = corev1.VolumeMount{Name: IRSAVolumeName, MountPath: IRSAMountPath, ReadOnly: true}
	piMount   = corev1.VolumeMount{Name: PodIdentityVolumeName, MountPath: PodIdentityMountPath, ReadOnly: true}
)

func tokenVolume(name, audience, path string, exp int64) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
			Audience: audience, ExpirationSeconds: &exp, Path: path}}},
	}}}
}

func irsaVolume(audience string, exp int64) corev1.Volume {
	return tokenVolume(IRSAVolumeName, audience, "token", exp)
}

func piVolume(exp int64) corev1.Volume {
	return tokenVolume(PodIdentityVolumeName, PodIdentityAudience, "eks-pod-identity-token", exp)
}

func sa(annotations ...string) *corev1.ServiceAccount {
	s := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: testSA, Namespace: testNS, Annotations: map[string]string{}}}
	for i := 0; i+1 < len(annotations); i += 2 {
		s.Annotations[annotations[i]] = annotations[i+1]
	}
	return s
}

func roleSA(annotations ...string) *corev1.ServiceAccount {
	return sa(append([]string{AnnotationRoleARN, testRole}, annotations...)...)
}

func ctr(name string, e ...corev1.EnvVar) corev1.Container {
	return corev1.Container{Name: name, Image: "registry.k8s.io/pause:3.10", Env: e}
}

func withMounts(c corev1.Container, m ...corev1.VolumeMount) corev1.Container {
	c.VolumeMounts = append(c.VolumeMounts, m...)
	return c
}

func podOf(containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: testNS},
		Spec:       corev1.PodSpec{ServiceAccountName: testSA, Containers: containers},
	}
}

type podEdit func(*corev1.Pod)

func annotate(kv ...string) podEdit {
	return func(p *corev1.Pod) {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Annotations[kv[i]] = kv[i+1]
		}
	}
}

func nodeSelector(k, v string) podEdit {
	return func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{k: v} }
}

func volumes(v ...corev1.Volume) podEdit {
	return func(p *corev1.Pod) { p.Spec.Volumes = append(p.Spec.Volumes, v...) }
}

func labels(kv ...string) podEdit {
	return func(p *corev1.Pod) {
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}

// piLabel is the label the webhook puts on Pod Identity pods.
var piLabel = labels(LabelPodIdentity, LabelPodIdentityEnabled)

func initContainers(c ...corev1.Container) podEdit {
	return func(p *corev1.Pod) { p.Spec.InitContainers = c }
}

func build(containers []corev1.Container, edits ...podEdit) *corev1.Pod {
	p := podOf(containers...)
	for _, e := range edits {
		e(p)
	}
	return p
}

var fixedJitter = func() int64 { return 80000 }

func TestMutate(t *testing.T) {
	irsaFull := env(EnvRoleARN, testRole, EnvWebIdentityTokenFile, tokenEnv)
	piFull := env(EnvContainerCredentialsFullURI, PodIdentityFullURI, EnvContainerAuthorizationTokenFile, piToken)
	assoc := []Association{{Namespace: testNS, ServiceAccount: testSA}}
	emptyVol := corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}

	// Case names start with the docs/behaviour.md anchor of the rule they test.
	tests := []struct {
		name string
		cfg  Config
		pod  *corev1.Pod
		sa   *corev1.ServiceAccount
		// want is nil when the pod must come back unchanged.
		want *corev1.Pod
	}{
		{
			name: "#injected-environment/#token-volume-and-mount IRSA: env, mount and projected token volume with the defaults",
			pod:  podOf(ctr("app")),
			sa:   roleSA(),
			want: build([]corev1.Container{withMounts(ctr("app", irsaFull...), irsaMount)}, volumes(irsaVolume(DefaultAudience, 86400))),
		},
		{
			name: "#webhook-decision-flow step 2: service account not found ⇒ unmodified",
			pod:  podOf(ctr("app")),
			sa:   nil,
		},
		{
			name: "#webhook-decision-flow step 3: no role-arn annotation ⇒ unmodified",
			pod:  podOf(ctr("app")),
			sa:   sa(AnnotationAudience, "x"),
		},
		{
			name: "#webhook-decision-flow step 3: empty role-arn annotation ⇒ unmodified",
			pod:  podOf(ctr("app")),
			sa:   sa(AnnotationRoleARN, ""),
		},
		{
			name: "#webhook-inputs audience annotation sets the token audience",
			pod:  podOf(ctr("app")),
			sa:   roleSA(AnnotationAudience, "amazonaws.com"),
			want: build([]corev1.Container{withMounts(ctr("app", irsaFull...), irsaMount)}, volumes(irsaVolume("amazonaws.com", 86400))),
		},
		{
			name: "#webhook-inputs --token-audience default applies without the annotation",
			cfg:  Config{Audience: "sts.example"},
			pod:  podOf(ctr("app")),
			sa:   roleSA(),
			want: build([]corev1.Container{withMounts(ctr("app", irsaFull...), irsaMount)}, volumes(irsaVolume("sts.example", 86400))),
		},
		{
			name: "#injected-environment order: STS variable, both region variables, then credentials",
			cfg:  Config{DefaultRegion: "eu-west-1", RegionalSTS: true},
			pod:  podOf(ctr("app")),
			sa:   roleSA(),
			want: build([]corev1.Container{withMounts(ctr("app", env(EnvSTSRegionalEndpoints, "regional", EnvDefaultRegion, "eu-west-1", EnvRegion, "eu-west-1",
				EnvRoleARN, testRole, EnvWebIdentityTokenFile, tokenEnv)...), irsaMount)}, volumes(irsaVolume(DefaultAudience, 86400))),
		},
		{
			name: "#webhook-inputs sts-regional-endpoints=false on the SA overrides the flag",
			cfg:  Config{RegionalSTS: true},
			pod:  podOf(ctr("app")),
			sa:   roleSA(AnnotationSTSRegionalEndpoints, "false"),
			want: build([]corev1.Container{withMounts(ctr("app", irsaFull...), irsaMount)}, volumes(irsaVolume(DefaultAudience, 86400))),
		},
		{
			name: "#webhook-inputs sts-regional-endpoints is strconv.ParseBool: TRUE enables it",
			pod:  podOf(ctr("app")),
			sa:   roleSA(AnnotationSTSRegionalEndpoints, "TRUE"),
			want: build([]corev1.Container{withMounts(ctr("app", append(env(EnvSTSRegionalEndpoints, "regional"), irsaFull...)...), irsaMount)}, volumes(irsaVolume(DefaultAudience, 86400))),
		},
		{
			name: "#webhook-inputs invalid sts-regional-endpoints is ignored: the flag stays",
			cfg:  Config{RegionalSTS: true},
			pod:  podOf(ctr("app")),
			sa:   roleSA(AnnotationSTSRegionalEndpoints, "yes"),
			want: build([]corev1.Container{withMounts(ctr("app", append(env(EnvSTSRegionalEndpoints, "regional"), irsaFull...)...), irsaMount)}, volumes(irsaVolume(DefaultAudience, 86400))),
		},
		{
			name: "#injected-environment one region key present ⇒ no region variables; existing env never overwritten",
			cfg:  Config{DefaultRegion: "eu-west-1"},
			pod:  podOf(ctr("app", env(EnvRegion, "us-east-2")...)),
			sa:   roleSA(),
			want: build([]corev1.Container{withMounts(ctr("app", append(env(EnvRegion, "us-east-2"), irsaFull...)...), irsaMount)}, volumes(irsaVolume(DefaultAudience, 86400))),
		},
		{
			name: "#injected-environment region from envFrom is not seen: region variables still injected",
			cfg:  Config{DefaultRegion: "eu-west-1"},
			pod: func() *corev1.Pod {
				c := ctr("app")
				c.EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "aws"}}}}
				return podOf(c)
			}(),
			sa: roleSA(),
			want: func() *corev1.Pod {
				c := withMounts(ctr("app", append(env(EnvDefaultRegion, "eu-west-1", EnvRegion, "eu-west-1"), irsaFull...)...), irsaMount)
				c.EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "aws"}}}}
				return build([]corev1.Container{c}, volumes(irsaVolume(DefaultAudience, 86400)))
			}(),
		},
		{
			name: "#injected-environment no default region configured ⇒ no region variables",
			cfg:  Config{},
			pod:  podOf(ctr("app")),
			sa:   roleSA(),
			want: build([]corev1.Container{withMounts(ctr("app", irsaFull...), irsaMount)}, volumes(irsaVolume(DefaultAudience, 86400))),
		},
		{
			name: "#injected-environment early exit: web-identity + region + STS present ⇒ container untouched, no mount (volume still added)",
			cfg:  Config{DefaultRegion: "eu-west-1", RegionalSTS: true},
			pod:  podOf(ctr("app", env(EnvRoleARN, "arn:aws:iam::111122223333:role/manual", EnvRegion, "eu-west-1", EnvSTSRegionalEndpoints, "regional")...)),
			sa:   roleSA(),
			want: build([]corev1.Container{ctr("app", env(EnvRoleARN, "arn:aws:iam::111122223333:role/manual", EnvRegion, "eu-west-1", EnvSTSRegionalEndpoints, "regional")...)},
				volumes(irsaVolume(DefaultAudience, 86400))),
		},
		{
			name: "#injected-environment only AWS_ROLE_ARN set by hand ⇒ no AWS_WEB_IDENTITY_TOKEN_FILE, but mount and region",
			cfg:  Config{DefaultRegion: "eu-west-1"},
			pod:  podOf(ctr("app", env(EnvRoleARN, "arn:aws:iam::111122223333:role/manual")...)),
			sa:   roleSA(),
			want: build([]corev1.Container{withMounts(ctr("app", env(EnvRoleARN, "arn:aws:iam::111122223333:role/manual", EnvDefaultRegion, "eu-west-1", EnvRegion, "eu-west-1")...), irsaMount)},
				volumes(irsaVolume(DefaultAudience, 86400))),
		},
		{
			name: "#injected-environment only AWS_WEB_IDENTITY_TOKEN_FILE set ⇒ no AWS_ROLE_ARN",
			pod:  podOf(ctr("app", env(EnvWebIdentityTokenFile, "/tmp/t")...)),
			sa:   roleSA(),
			want: build([]corev1.Container{withMounts(ctr("app", env(EnvWebIdentityTokenFile, "/tmp/t")...), irsaMount)}, volumes(irsaVolume(DefaultAudience, 86400))),
		},
		{
			name: "#webhook-inputs token-expiration on the SA",
			pod:  podOf(ctr("app")),
			sa:   roleSA(AnnotationTokenExpiration, "3600"),
			want: build([]corev1.Container{withMounts(ctr("app", irsaFull...), irsaMount)}, volumes(irsaVolume(DefaultAudience, 3600))),
		},
		{
			name: "#webhook-inputs token-expiration below 600 is raised to 600",
			pod:  podOf(ctr("app")),
			sa:   roleSA(AnnotationTokenExpiration, "100"),
			want: build([]corev1.Container{withMounts(ctr("app", irsaFull...), irsaMount)}, volumes(irsaVolume(DefaultAudience, 600))),
		},
		{
			name: "#webhook-inputs token-expiration has no upper cap",
			pod:  podOf(ctr("app")),
			sa:   roleSA(AnnotationTokenExpiration, "1000000"),
			want: build([]corev1.Container{withMounts(ctr("app", irsaFull...), irsaMount)}, volumes(irsaVolume(DefaultAudience, 1000000))),
		},
		{
			name: "#webhook-inputs non-integer token-expiration is ignored",
			pod:  podOf(ctr("app")),
			sa:   roleSA(AnnotationTokenExpiration, "1h"),
			want: build([]corev1.Container{withMounts(ctr("app", irsaFull...), irsaMount)}, volumes(irsaVolume(DefaultAudience, 86400))),
		},
		{
			name: "#webhook-inputs pod token-expiration wins over the SA's",
			pod:  build([]corev1.Container{ctr("app")}, annotate(AnnotationTokenExpiration, "7200")),
			sa:   roleSA(AnnotationTokenExpiration, "3600"),
			want: build([]corev1.Container{withMounts(ctr("app", irsaFull...), irsaMount)}, annotate(AnnotationTokenExpiration, "7200"), volumes(irsaVolume(DefaultAudience, 7200))),
		},
		{
			name: "#webhook-inputs invalid pod token-expiration falls back to the SA's",
			pod:  build([]corev1.Container{ctr("app")}, annotate(AnnotationTokenExpiration, "soon")),
			sa:   roleSA(AnnotationTokenExpiration, "3600"),
			want: build([]corev1.Container{withMounts(ctr("app", irsaFull...), irsaMount)}, annotate(AnnotationTokenExpiration, "soon"), volumes(irsaVolume(DefaultAudience, 3600))),
		},
		{
			name: "#webhook-inputs skip-containers is one CSV record, untrimmed: \"a, b\" skips a and \" b\", not b",
			pod:  build([]corev1.Container{ctr("a"), ctr(" b"), ctr("b")}, annotate(AnnotationSkipContainers, "a, b")),
			sa:   roleSA(),
			want: build([]corev1.Container{ctr("a"), ctr(" b"), withMounts(ctr("b", irsaFull...), irsaMount)},
				annotate(AnnotationSkipContainers, "a, b"), volumes(irsaVolume(DefaultAudience, 86400))),
		},
		{
			name: "#webhook-inputs skip-containers parse error ⇒ nothing skipped",
			pod:  build([]corev1.Container{ctr("a"), ctr("b")}, annotate(AnnotationSkipContainers, `a,b"c`)),
			sa:   roleSA(),
			want: build([]corev1.Container{withMounts(ctr("a", irsaFull...), irsaMount), withMounts(ctr("b", irsaFull...), irsaMount)},
				annotate(AnnotationSkipContainers, `a,b"c`), volumes(irsaVolume(DefaultAudience, 86400))),
		},
		{
			name: "#webhook-inputs skip-containers: only the first CSV record counts",
			pod:  build([]corev1.Container{ctr("a"), ctr("b")}, annotate(AnnotationSkipContainers, "a\nb")),
			sa:   roleSA(),
			want: build([]corev1.Container{ctr("a"), withMounts(ctr("b", irsaFull...), irsaMount)},
				annotate(AnnotationSkipContainers, "a\nb"), volumes(irsaVolume(DefaultAudience, 86400))),
		},
		{
			name: "#init-and-ephemeral-containers init containers (native sidecars too) are mutated and honour skip-containers",
			pod: build([]corev1.Container{ctr("app")}, annotate(AnnotationSkipContainers, "skipped"),
				initContainers(ctr("init"), ctr("skipped"))),
			sa: roleSA(),
			want: build([]corev1.Container{withMounts(ctr("app", irsaFull...), irsaMount)}, annotate(AnnotationSkipContainers, "skipped"),
				initContainers(withMounts(ctr("init", irsaFull...), irsaMount), ctr("skipped")), volumes(irsaVolume(DefaultAudience, 86400))),
		},
		{
			name: "#init-and-ephemeral-containers ephemeral containers are not touched",
			pod: func() *corev1.Pod {
				p := podOf(ctr("app"))
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
				return p
			}(),
			sa: roleSA(),
			want: func() *corev1.Pod {
				p := build([]corev1.Container{withMounts(ctr("app", irsaFull...), irsaMount)}, volumes(irsaVolume(DefaultAudience, 86400)))
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
				return p
			}(),
		},
		{
			name: "#windows-pods Windows nodeSelector: Windows token path in env, mountPath unchanged",
			pod:  build([]corev1.Container{ctr("app")}, nodeSelector("kubernetes.io/os", "windows")),
			sa:   roleSA(),
			want: build([]corev1.Container{withMounts(ctr("app", env(EnvRoleARN, testRole, EnvWebIdentityTokenFile, `C:\var\run\secrets\eks.amazonaws.com\serviceaccount\token`)...), irsaMount)},
				nodeSelector("kubernetes.io/os", "windows"), volumes(irsaVolume(DefaultAudience, 86400))),
		},
		{
			name: "#windows-pods the beta os label counts too",
			pod:  build([]corev1.Container{ctr("app")}, nodeSelector("beta.kubernetes.io/os", "windows")),
			sa:   roleSA(),
			want: build([]corev1.Container{withMounts(ctr("app", env(EnvRoleARN, testRole, EnvWebIdentityTokenFile, `C:\var\run\secrets\eks.amazonaws.com\serviceaccount\token`)...), irsaMount)},
				nodeSelector("beta.kubernetes.io/os", "windows"), volumes(irsaVolume(DefaultAudience, 86400))),
		},
		{
			name: "#windows-pods nodeAffinity is not considered",
			pod: func() *corev1.Pod {
				p := podOf(ctr("app"))
				p.Spec.Affinity = windowsAffinity()
				return p
			}(),
			sa: roleSA(),
			want: func() *corev1.Pod {
				p := build([]corev1.Container{withMounts(ctr("app", irsaFull...), irsaMount)}, volumes(irsaVolume(DefaultAudience, 86400)))
				p.Spec.Affinity = windowsAffinity()
				return p
			}(),
		},
		{
			name: "#token-volume-and-mount a volume named aws-iam-token already exists ⇒ not added again",
			pod:  build([]corev1.Container{ctr("app")}, volumes(irsaVolume("mine", 1234))),
			sa:   roleSA(),
			want: build([]corev1.Container{withMounts(ctr("app", irsaFull...), irsaMount)}, volumes(irsaVolume("mine", 1234))),
		},
		{
			name: "#token-volume-and-mount a mount NAMED aws-iam-token exists (other path) ⇒ no second mount",
			pod:  build([]corev1.Container{withMounts(ctr("app"), corev1.VolumeMount{Name: IRSAVolumeName, MountPath: "/elsewhere"})}, volumes(emptyVol)),
			sa:   roleSA(),
			want: build([]corev1.Container{withMounts(ctr("app", irsaFull...), corev1.VolumeMount{Name: IRSAVolumeName, MountPath: "/elsewhere"})},
				volumes(emptyVol, irsaVolume(DefaultAudience, 86400))),
		},
		{
			// The API server fills serviceAccountName in before webhooks run;
			// the webhook does not assume "default" (pkg/handler/handler.go).
			name: "an empty serviceAccountName matches no association: unmodified",
			pod: func() *corev1.Pod {
				p := podOf(ctr("app"))
				p.Spec.ServiceAccountName = ""
				return p
			}(),
			cfg: Config{Associations: []Association{{Namespace: testNS, ServiceAccount: "default"}}, PodIdentityExpiration: fixedJitter},
			sa:  nil,
		},
		{
			name: "#webhook-decision-flow step 1/#pod-identity-injection Pod Identity wins over the role-arn annotation",
			cfg:  Config{Associations: assoc, PodIdentityExpiration: fixedJitter},
			pod:  podOf(ctr("app")),
			sa:   roleSA(),
			want: build([]corev1.Container{withMounts(ctr("app", piFull...), piMount)}, piLabel, volumes(piVolume(80000))),
		},
		{
			// pkg/cache/cache.go GetCommonConfigurations: an unknown service
			// account means regional STS off and 86400, whatever the flags.
			name: "#pod-identity-injection Pod Identity needs no service account object; without one regional STS is off despite the flag",
			cfg:  Config{Associations: assoc, PodIdentityExpiration: fixedJitter, DefaultRegion: "eu-west-1", RegionalSTS: true},
			pod:  podOf(ctr("app")),
			sa:   nil,
			want: build([]corev1.Container{withMounts(ctr("app", append(env(EnvDefaultRegion, "eu-west-1", EnvRegion, "eu-west-1"), piFull...)...), piMount)},
				piLabel, volumes(piVolume(80000))),
		},
		{
			name: "#pod-identity-injection Pod Identity with a known service account gets the regional STS flag",
			cfg:  Config{Associations: assoc, PodIdentityExpiration: fixedJitter, DefaultRegion: "eu-west-1", RegionalSTS: true},
			pod:  podOf(ctr("app")),
			sa:   sa(),
			want: build([]corev1.Container{withMounts(ctr("app", append(env(EnvSTSRegionalEndpoints, "regional", EnvDefaultRegion, "eu-west-1", EnvRegion, "eu-west-1"), piFull...)...), piMount)},
				piLabel, volumes(piVolume(80000))),
		},
		{
			name: "#pod-identity-injection Pod Identity honours token-expiration (no jitter then)",
			cfg:  Config{Associations: assoc, PodIdentityExpiration: fixedJitter},
			pod:  build([]corev1.Container{ctr("app")}, annotate(AnnotationTokenExpiration, "3600")),
			sa:   sa(),
			want: build([]corev1.Container{withMounts(ctr("app", piFull...), piMount)}, annotate(AnnotationTokenExpiration, "3600"), piLabel, volumes(piVolume(3600))),
		},
		{
			name: "#pod-identity-injection Pod Identity on Windows uses the Windows token path",
			cfg:  Config{Associations: assoc, PodIdentityExpiration: fixedJitter},
			pod:  build([]corev1.Container{ctr("app")}, nodeSelector("kubernetes.io/os", "windows")),
			sa:   sa(),
			want: build([]corev1.Container{withMounts(ctr("app", env(EnvContainerCredentialsFullURI, PodIdentityFullURI,
				EnvContainerAuthorizationTokenFile, `C:\var\run\secrets\pods.eks.amazonaws.com\serviceaccount\eks-pod-identity-token`)...), piMount)},
				nodeSelector("kubernetes.io/os", "windows"), piLabel, volumes(piVolume(80000))),
		},
		{
			name: "#injected-environment Pod Identity early exit uses the container-credential keys",
			cfg:  Config{Associations: assoc, PodIdentityExpiration: fixedJitter},
			pod:  podOf(ctr("app", env(EnvContainerCredentialsFullURI, "http://x", EnvRegion, "r", EnvSTSRegionalEndpoints, "regional")...)),
			sa:   sa(),
			want: build([]corev1.Container{ctr("app", env(EnvContainerCredentialsFullURI, "http://x", EnvRegion, "r", EnvSTSRegionalEndpoints, "regional")...)}, piLabel, volumes(piVolume(80000))),
		},
		{
			name: "#injected-environment on the Pod Identity path web-identity keys do not trigger the early exit",
			cfg:  Config{Associations: assoc, PodIdentityExpiration: fixedJitter},
			pod:  podOf(ctr("app", env(EnvRoleARN, testRole, EnvRegion, "r", EnvSTSRegionalEndpoints, "regional")...)),
			sa:   sa(),
			want: build([]corev1.Container{withMounts(ctr("app", append(env(EnvRoleARN, testRole, EnvRegion, "r", EnvSTSRegionalEndpoints, "regional"), piFull...)...), piMount)},
				piLabel, volumes(piVolume(80000))),
		},
		{
			name: "an association in another namespace does not apply",
			cfg:  Config{Associations: []Association{{Namespace: "other", ServiceAccount: testSA}}},
			pod:  podOf(ctr("app")),
			sa:   roleSA(),
			want: build([]corev1.Container{withMounts(ctr("app", irsaFull...), irsaMount)}, volumes(irsaVolume(DefaultAudience, 86400))),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := tc.pod.DeepCopy()
			got, changed := Mutate(tc.cfg, testNS, tc.pod, tc.sa)
			if !reflect.DeepEqual(tc.pod, orig) {
				t.Fatal("Mutate modified its input pod")
			}
			want := tc.want
			if want == nil {
				want = orig
			}
			if changed != (tc.want != nil) {
				t.Errorf("changed = %v, want %v", changed, tc.want != nil)
			}
			assertSamePod(t, "Mutate", got, want)

			// The JSONPatch the webhook sends must produce the same pod.
			patch := patchFor(t, orig, got)
			if (patch == nil) != (tc.want == nil) {
				t.Errorf("patch = %s, want a patch: %v", patch, tc.want != nil)
			}
			assertSamePod(t, "patched", applyPatch(t, orig, patch), want)
		})
	}
}

func windowsAffinity() *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
			Key: "kubernetes.io/os", Operator: corev1.NodeSelectorOpIn, Values: []string{"windows"}}}}},
	}}}
}

// assertSamePod compares through JSON, so nil and empty slices are equal as
// they are on the wire.
func assertSamePod(t *testing.T, what string, got, want *corev1.Pod) {
	t.Helper()
	g, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g, w) {
		t.Errorf("%s pod differs\n got: %s\nwant: %s", what, g, w)
	}
}

func TestPodIdentityDefaultExpirationIsJittered(t *testing.T) {
	cfg := Config{Associations: []Association{{Namespace: testNS, ServiceAccount: testSA}}}
	seen := map[int64]bool{}
	for range 50 {
		got, _ := Mutate(cfg, testNS, podOf(ctr("app")), sa())
		exp := *got.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken.ExpirationSeconds
		if exp < 79200 || exp > 86400 {
			t.Fatalf("expirationSeconds %d outside [79200, 86400]", exp)
		}
		seen[exp] = true
	}
	if len(seen) < 2 {
		t.Errorf("50 pods all got the same expiration %v: not jittered", seen)
	}
}

func TestIRSADefaultExpirationIsNotJittered(t *testing.T) {
	for range 20 {
		got, _ := Mutate(Config{}, testNS, podOf(ctr("app")), roleSA())
		if exp := *got.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken.ExpirationSeconds; exp != 86400 {
			t.Fatalf("IRSA expirationSeconds = %d, want 86400 (docs/behaviour.md#token-volume-and-mount: no jitter)", exp)
		}
	}
}

func TestCreatePatchAppendsToExistingVolumes(t *testing.T) {
	orig := build([]corev1.Container{ctr("app")}, volumes(corev1.Volume{Name: "kube-api-access-x"}))
	got, _ := Mutate(Config{}, testNS, orig, roleSA())
	ops, err := CreatePatch(orig, got)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, op := range ops {
		paths = append(paths, op.Op+" "+op.Path)
	}
	want := []string{"replace /spec/containers/0", "add /spec/volumes/-"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("patch ops = %q, want %q", paths, want)
	}
}

// patchFor is the JSONPatch the webhook sends to turn orig into got.
func patchFor(t *testing.T, orig, got *corev1.Pod) []byte {
	t.Helper()
	ops, err := CreatePatch(orig, got)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := MarshalPatch(ops)
	if err != nil {
		t.Fatal(err)
	}
	return patch
}
