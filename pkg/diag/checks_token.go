package diag

import (
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

func init() {
	register(
		Check{ID: "IRSA-TOKEN-001", Severity: SeverityError, Title: "The projected token's audience is the service account's audience",
			LooksAt: "pod volume aws-iam-token serviceAccountToken.audience, serviceaccount annotation eks.amazonaws.com/audience", Run: checkTokenAudience},
		Check{ID: "IRSA-TOKEN-002", Severity: SeverityError, Title: "AWS_WEB_IDENTITY_TOKEN_FILE points at the projected IRSA token",
			LooksAt: "container env AWS_WEB_IDENTITY_TOKEN_FILE, volume mounts and projected token volumes", Run: checkTokenPath},
		Check{ID: "IRSA-TOKEN-003", Severity: SeverityWarning, Title: "Non-root containers can read the token file",
			LooksAt: "pod and container securityContext runAsUser/runAsNonRoot/fsGroup, projected volume defaultMode", Run: checkTokenReadable},
		Check{ID: "IRSA-TOKEN-004", Severity: SeverityWarning, Title: "The token's expirationSeconds is what the annotations ask for",
			LooksAt: "pod volume aws-iam-token expirationSeconds, pod and serviceaccount token-expiration annotations", Run: checkTokenExpiration},
	)
}

func checkTokenAudience(_ *Input, subj *facts.Subject) []Finding {
	if _, ok := facts.IntendedRoleARN(subj); !ok {
		return nil
	}
	sa := subj.ServiceAccount
	// Under the prefix the webhook runs with (--annotation-prefix).
	annotated, hasAnnotation := sa.Annotations[facts.AnnotationPrefixOf(subj)+"/audience"]
	if _, annotatedRole := facts.RoleARNAnnotation(sa); !annotatedRole && !hasAnnotation {
		if e := subj.WebhookConfig; e != nil && e.Audience != "" {
			annotated, hasAnnotation = e.Audience, true
		}
	}
	var out []Finding
	for _, pf := range subj.Pods {
		_, tok := facts.TokenVolume(pf.Pod)
		if tok == nil {
			continue
		}
		src := ev("token audience", tok.Audience, "pod.spec.volumes["+facts.TokenVolumeName+"].projected.sources.serviceAccountToken.audience")
		switch {
		case hasAnnotation && annotated != "" && tok.Audience != annotated:
			out = append(out, fail(podRef(pf.Pod), fmt.Sprintf("Projected token audience %q differs from the service account's audience %q: the pod predates the annotation", tok.Audience, annotated),
				[]Evidence{src, ev(facts.AnnotationAudience, annotated, "serviceaccount.metadata.annotations")}, RestartCommand(pf)))
		case !hasAnnotation && tok.Audience != facts.DefaultAudience:
			f := fail(podRef(pf.Pod), fmt.Sprintf("Projected token audience %q is not the default %q; the IAM OIDC provider must list it as a client ID", tok.Audience, facts.DefaultAudience),
				[]Evidence{src}, "add the audience to the provider's client IDs, or annotate the service account with "+facts.AnnotationAudience+"="+facts.DefaultAudience+" and "+RestartCommand(pf))
			f.Severity = SeverityInfo
			out = append(out, f)
		default:
			out = append(out, pass(podRef(pf.Pod), "Projected token audience matches the service account", src))
		}
	}
	return out
}

// projectedTokenFiles maps each file path a container can see from projected
// service-account-token volumes to that volume's name.
func projectedTokenFiles(p *corev1.Pod, c facts.Container) map[string]string {
	files := map[string]string{}
	for _, m := range c.VolumeMounts {
		for _, v := range p.Spec.Volumes {
			if v.Name != m.Name || v.Projected == nil {
				continue
			}
			for _, src := range v.Projected.Sources {
				if src.ServiceAccountToken == nil {
					continue
				}
				if m.SubPath != "" {
					if m.SubPath == src.ServiceAccountToken.Path {
						files[m.MountPath] = v.Name
					}
					continue
				}
				files[path.Join(m.MountPath, src.ServiceAccountToken.Path)] = v.Name
			}
		}
	}
	return files
}

func checkTokenPath(_ *Input, subj *facts.Subject) []Finding {
	var out []Finding
	for _, pf := range subj.Pods {
		p := pf.Pod
		if facts.IsWindows(p) {
			continue
		}
		bad := false
		for _, c := range facts.Containers(p) {
			file, set, fromRef := facts.EnvValue(c.Container, facts.EnvTokenFile)
			if !set || fromRef {
				continue
			}
			src := ev(facts.EnvTokenFile, file, containerField(c, "env"))
			switch vol, ok := projectedTokenFiles(p, c)[path.Clean(file)]; {
			case strings.HasPrefix(file, facts.KubernetesDefaultTokenDir+"/"):
				bad = true
				out = append(out, fail(containerRef(p, c), "AWS_WEB_IDENTITY_TOKEN_FILE points at the Kubernetes API token, whose audience is the API server: STS answers \"Incorrect token audience\"",
					[]Evidence{src}, "set "+facts.EnvTokenFile+"="+facts.TokenPath+" (or remove it and let the webhook inject it) in "+ownerText(pf)))
			case !ok:
				bad = true
				out = append(out, fail(containerRef(p, c), "No projected service-account token volume mounted in this container provides the file AWS_WEB_IDENTITY_TOKEN_FILE names",
					[]Evidence{src}, "mount the "+facts.TokenVolumeName+" volume at "+facts.TokenMountPath+" or point "+facts.EnvTokenFile+" at "+facts.TokenPath+" in "+ownerText(pf)))
			case vol != facts.TokenVolumeName:
				f := pass(containerRef(p, c), "AWS_WEB_IDENTITY_TOKEN_FILE is served by projected volume "+vol, src)
				out = append(out, f)
			case path.Dir(path.Clean(file)) != facts.TokenMountPath:
				// Judged from the pod's own spec: a webhook run with
				// --token-mount-path mounts the same volume elsewhere.
				out = append(out, pass(containerRef(p, c), "AWS_WEB_IDENTITY_TOKEN_FILE is the webhook's token, mounted at a non-default path (the webhook runs with --token-mount-path)",
					src, ev("mount path", path.Dir(path.Clean(file)), containerField(c, "volumeMounts")+" (default "+facts.TokenMountPath+")")))
			}
		}
		if !bad {
			out = append(out, pass(podRef(p), "AWS_WEB_IDENTITY_TOKEN_FILE points at a projected token"))
		}
	}
	return out
}

// effectiveUID returns a container's runAsUser and whether it must run as non-root.
func effectiveUID(p *corev1.Pod, c facts.Container) (uid *int64, nonRoot bool) {
	if psc := p.Spec.SecurityContext; psc != nil {
		uid = psc.RunAsUser
		nonRoot = psc.RunAsNonRoot != nil && *psc.RunAsNonRoot
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			uid = sc.RunAsUser
		}
		if sc.RunAsNonRoot != nil {
			nonRoot = *sc.RunAsNonRoot
		}
	}
	return uid, nonRoot
}

// checkTokenReadable applies the kubelet's ownership rules for projected
// tokens (docs/behaviour.md#token-file-permissions, Kubernetes ≥ 1.19): owned by the one runAsUser
// all containers share (0600), else root with the volume's mode (0644 by
// default), group fsGroup when set. It warns only when a non-root container
// really cannot read the file under those rules.
func checkTokenReadable(_ *Input, subj *facts.Subject) []Finding {
	var out []Finding
	for _, pf := range subj.Pods {
		p := pf.Pod
		vol, tok := facts.TokenVolume(p)
		if vol == nil || tok == nil || facts.IsWindows(p) {
			continue
		}
		mode := int32(0o644)
		if vol.Projected.DefaultMode != nil {
			mode = *vol.Projected.DefaultMode
		}
		containers := facts.Containers(p)
		if shareOneUID(p, containers) {
			continue // the file is owned by that user; every container can read it
		}
		var fsGroup *int64
		if p.Spec.SecurityContext != nil {
			fsGroup = p.Spec.SecurityContext.FSGroup
		}
		for _, c := range containers {
			if _, mounted := facts.MountOf(c.Container, facts.TokenVolumeName); !mounted {
				continue
			}
			uid, nonRoot := effectiveUID(p, c)
			if (uid == nil && !nonRoot) || (uid != nil && *uid == 0) {
				continue // root, or an image user we cannot know: no honest verdict
			}
			readable := mode&0o004 != 0 || (fsGroup != nil && mode&0o040 != 0)
			if readable {
				continue
			}
			who := "a non-root user"
			if uid != nil {
				who = fmt.Sprintf("user %d", *uid)
			}
			out = append(out, fail(containerRef(p, c), fmt.Sprintf("Container runs as %s, but the token file is root-owned with mode %04o: the SDK fails with \"permission denied\"", who, mode),
				[]Evidence{ev("defaultMode", fmt.Sprintf("%04o", mode), "pod.spec.volumes["+facts.TokenVolumeName+"].projected.defaultMode"),
					ev("fsGroup", fmtOptInt(fsGroup), "pod.spec.securityContext.fsGroup")},
				"set spec.securityContext.fsGroup (e.g. 65534) in "+ownerText(pf)+", or drop the restrictive defaultMode, then "+RestartCommand(pf)))
		}
	}
	return out
}

// shareOneUID reports whether every container has a known runAsUser and it is
// the same one, in which case the kubelet gives the token file to that user.
func shareOneUID(p *corev1.Pod, containers []facts.Container) bool {
	var shared *int64
	allSame := true
	for _, c := range containers {
		uid, _ := effectiveUID(p, c)
		switch {
		case uid == nil:
			allSame = false
		case shared == nil:
			shared = uid
		case *shared != *uid:
			allSame = false
		}
	}
	return allSame && shared != nil
}

func fmtOptInt(v *int64) string {
	if v == nil {
		return "<unset>"
	}
	return fmt.Sprint(*v)
}

func checkTokenExpiration(_ *Input, subj *facts.Subject) []Finding {
	if _, ok := facts.IntendedRoleARN(subj); !ok {
		return nil
	}
	var out []Finding
	for _, pf := range subj.Pods {
		p := pf.Pod
		_, tok := facts.TokenVolume(p)
		if tok == nil || tok.ExpirationSeconds == nil {
			continue
		}
		got := *tok.ExpirationSeconds
		want, source := facts.DefaultTokenExpiration, "webhook default"
		if v, ok := subj.ServiceAccount.Annotations[facts.AnnotationTokenExpiration]; ok {
			if n, ok := facts.ParseTokenExpiration(v); ok {
				want, source = n, "serviceaccount annotation"
			}
		}
		if v, ok := p.Annotations[facts.AnnotationTokenExpiration]; ok {
			if n, ok := facts.ParseTokenExpiration(v); ok {
				want, source = n, "pod annotation"
			}
		}
		src := ev("expirationSeconds", fmt.Sprint(got), "pod.spec.volumes["+facts.TokenVolumeName+"].projected.sources.serviceAccountToken.expirationSeconds")
		if got != want {
			f := fail(podRef(p), fmt.Sprintf("Token expirationSeconds is %d, but the %s asks for %d: the pod predates the change", got, source, want),
				[]Evidence{src, ev("expected", fmt.Sprint(want), source)}, RestartCommand(pf))
			f.Severity = SeverityInfo
			out = append(out, f)
			continue
		}
		out = append(out, pass(podRef(p), "Token expirationSeconds matches the annotations", src))
	}
	return out
}
