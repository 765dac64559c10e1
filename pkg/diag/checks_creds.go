package diag

import (
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

func init() {
	register(
		Check{ID: "CREDS-001", Severity: SeverityInfo, Title: "Which credentials each container really gets",
			LooksAt: "container env and envFrom keys in SDK credential-chain order: static keys, web identity, profile and shared files (.aws mounts), container credentials (Pod Identity agent), instance metadata; the Pod Identity association",
			Run:     checkCredentialSource},
	)
}

// credential is where a container's SDK gets its credentials from.
type credential struct {
	// kind names the link of the chain: "static keys", "web identity",
	// "shared files", "pod identity", "container endpoint", "ecs endpoint",
	// "instance metadata" or "none".
	kind string
	// text completes "Gets credentials from …", or is the whole sentence
	// when whole is set.
	text  string
	whole bool
	role  string
	evs   []Evidence
	// notes are where SDKs disagree or what else the container carries.
	notes []string
}

// chainLink is one link of the credential chain that the container's env
// triggers; conditional links (a profile, whose contents are not visible)
// hand over to the next when they hold nothing.
type chainLink struct {
	credential
	conditional bool
}

// containerCredential walks the SDK credential chain for one container
// (docs/behaviour.md#sdk-credential-chain): static environment keys, then
// web identity (IRSA), then a profile from the shared files, then the
// container credential endpoints (RELATIVE_URI before FULL_URI; Pod
// Identity when FULL_URI is the agent), then instance metadata. The Go v2
// order is the reference; notes say where JavaScript v3 and botocore differ.
func containerCredential(s *Input, subj *facts.Subject, pf facts.PodFacts, c facts.Container) credential {
	links := credentialLinks(s, subj, pf, c)
	first := links[0]
	if !first.conditional || len(links) == 1 {
		return first.credential
	}
	// A profile gives credentials only if it holds some; the files are not
	// read, so both outcomes are named.
	next := links[1]
	out := first.credential
	out.text += ", if that profile holds credentials; otherwise " + lowerFirst(describeCredential(next.credential))
	out.evs = append(out.evs, next.evs...)
	return out
}

func credentialLinks(s *Input, subj *facts.Subject, pf facts.PodFacts, c facts.Container) []chainLink {
	var links []chainLink
	add := func(cr credential, conditional bool) { links = append(links, chainLink{cr, conditional}) }
	profile := profileEvidence(pf, c)
	profileSet := envOrigin(pf, c, facts.EnvProfile) != ""
	if id, secret := envOrigin(pf, c, facts.EnvAccessKeyID), envOrigin(pf, c, facts.EnvSecretAccessKey); id != "" && secret != "" {
		cr := credential{kind: "static keys", text: "static keys in its environment, which every SDK uses before IRSA and Pod Identity",
			evs: []Evidence{ev(facts.EnvAccessKeyID, "<set, value not shown>", containerField(c, id)), ev(facts.EnvSecretAccessKey, "<set, value not shown>", containerField(c, secret))}}
		if profileSet {
			cr.notes = append(cr.notes, "JavaScript v3 skips environment keys when AWS_PROFILE is set and uses that profile")
		}
		add(cr, false)
	}
	if origin := envOrigin(pf, c, facts.EnvTokenFile); origin != "" {
		add(webIdentityCredential(pf, c, origin, len(profile) > 0), false)
	}
	if len(profile) > 0 {
		text := "the shared config files"
		if v, set, fromRef := facts.EnvValue(c.Container, facts.EnvProfile); set && !fromRef {
			text += " (profile " + v + ")"
		}
		add(credential{kind: "shared files", text: text, evs: profile}, true)
	}
	if origin := envOrigin(pf, c, facts.EnvContainerCredentialsRelative); origin != "" {
		add(credential{kind: "ecs endpoint", text: "the ECS container credentials endpoint 169.254.170.2 (" + facts.EnvContainerCredentialsRelative + "), which EKS does not serve",
			evs: []Evidence{ev(facts.EnvContainerCredentialsRelative, "<set>", containerField(c, origin))}}, false)
	}
	if origin := envOrigin(pf, c, facts.EnvContainerCredentialsFull); origin != "" {
		add(containerEndpointCredential(s, subj, c, origin), false)
	}
	add(instanceMetadataCredential(s, subj, pf, c), false)
	return links
}

func webIdentityCredential(pf facts.PodFacts, c facts.Container, origin string, profile bool) credential {
	cr := credential{kind: "web identity", evs: []Evidence{ev(facts.EnvTokenFile, tokenFileValue(c), containerField(c, origin))}}
	role, set, fromRef := facts.EnvValue(c.Container, facts.EnvRoleARN)
	roleOrigin := envOrigin(pf, c, facts.EnvRoleARN)
	switch {
	case roleOrigin == "":
		cr.kind, cr.whole = "none", true
		cr.text = "No credentials: it sets " + facts.EnvTokenFile + " without " + facts.EnvRoleARN + ", so Go v2 fails with \"role ARN is not set\" and boto3 with InvalidConfigError instead of trying the next link"
	case !set || fromRef:
		cr.role = "<from " + roleOrigin + ">"
		cr.text = "IRSA (its " + facts.EnvRoleARN + " comes from " + roleOrigin + ")"
		cr.evs = append(cr.evs, ev(facts.EnvRoleARN, "<not read>", containerField(c, roleOrigin)))
	default:
		cr.role = role
		cr.text = "IRSA (role " + role + ")"
		cr.evs = append(cr.evs, ev(facts.EnvRoleARN, role, containerField(c, "env")))
	}
	if profile {
		cr.notes = append(cr.notes, "JavaScript v3 uses the shared config profile before web identity, and botocore does when the profile assumes a role")
	}
	if facts.HasEnv(c.Container, facts.EnvContainerCredentialsFull) {
		cr.notes = append(cr.notes, "it also carries the Pod Identity variables, which every SDK tries only after web identity (IRSA-CRED-003)")
	}
	return cr
}

func tokenFileValue(c facts.Container) string {
	if v, set, fromRef := facts.EnvValue(c.Container, facts.EnvTokenFile); set && !fromRef {
		return v
	}
	return "<not read>"
}

// profileEvidence is what points the SDK at shared config files: the profile
// variables, or a volume mounted where the default ~/.aws files live.
func profileEvidence(pf facts.PodFacts, c facts.Container) []Evidence {
	var evs []Evidence
	for _, name := range []string{facts.EnvProfile, facts.EnvSharedCredentialsFile, facts.EnvConfigFile} {
		if origin := envOrigin(pf, c, name); origin != "" {
			v, set, fromRef := facts.EnvValue(c.Container, name)
			if !set || fromRef {
				v = "<not read>"
			}
			evs = append(evs, ev(name, v, containerField(c, origin)))
		}
	}
	for _, m := range c.VolumeMounts {
		if strings.HasSuffix(m.MountPath, "/.aws") || strings.Contains(m.MountPath, "/.aws/") {
			evs = append(evs, ev("volumeMount", m.Name+" at "+m.MountPath, containerField(c, "volumeMounts")))
		}
	}
	return evs
}

func containerEndpointCredential(s *Input, subj *facts.Subject, c facts.Container, origin string) credential {
	uri, set, fromRef := facts.EnvValue(c.Container, facts.EnvContainerCredentialsFull)
	if !set || fromRef {
		return credential{kind: "container endpoint", text: "the container credentials endpoint that " + facts.EnvContainerCredentialsFull + " names (its value comes from " + origin + " and was not read)",
			evs: []Evidence{ev(facts.EnvContainerCredentialsFull, "<not read>", containerField(c, origin))}}
	}
	src := ev(facts.EnvContainerCredentialsFull, uri, containerField(c, "env"))
	if !facts.IsPodIdentityAgentURI(uri) {
		if problem := facts.ContainerEndpointProblem(uri); problem != "" {
			return credential{kind: "none", whole: true, text: "No credentials from its container credentials endpoint " + uri + ": the SDKs refuse it, " + problem + " (PODID-ENV-001)", evs: []Evidence{src}}
		}
		return credential{kind: "container endpoint", text: "the container credentials endpoint " + uri + ", which is not the Pod Identity agent", evs: []Evidence{src}}
	}
	cr := credential{kind: "pod identity", evs: []Evidence{src}}
	assocs := associationsOf(s, subj)
	switch p := podIdentityFacts(s); {
	case len(assocs) > 0:
		a := assocs[0]
		cr.role = credentialRole(a)
		cr.text = "Pod Identity (" + associationRoleText(a) + ")"
		cr.evs = append(cr.evs, associationEvidence(a)...)
	case p != nil && p.Covers(subj.Namespace):
		cr.text = "Pod Identity, but no association covers " + subj.Key() + " any more, so the agent answers every fetch with ResourceNotFoundException (PODID-ASSOC-002)"
	default:
		cr.text = "Pod Identity (the association, and so the role, was not read)"
	}
	return cr
}

func podIdentityFacts(s *Input) *facts.PodIdentityFacts {
	if s.AWS == nil {
		return nil
	}
	return s.AWS.PodIdentity
}

func instanceMetadataCredential(s *Input, subj *facts.Subject, pf facts.PodFacts, c facts.Container) credential {
	if why := facts.FargateReason(pf.Pod); why != "" {
		return credential{kind: "none", whole: true, text: "No credentials: nothing earlier in the chain is set, and Fargate pods have no instance metadata to fall back to",
			evs: []Evidence{ev("fargate", why, "pod.spec")}}
	}
	if v, set, fromRef := facts.EnvValue(c.Container, facts.EnvEC2MetadataDisabled); set && !fromRef && strings.EqualFold(strings.TrimSpace(v), "true") {
		return credential{kind: "none", whole: true, text: "No credentials: nothing earlier in the chain is set, and " + facts.EnvEC2MetadataDisabled + "=true turns off the last link, instance metadata",
			evs: []Evidence{ev(facts.EnvEC2MetadataDisabled, v, containerField(c, "env"))}}
	}
	text := "the node's instance role through instance metadata (IMDS): it has no IRSA or Pod Identity variables"
	_, irsa := facts.IntendedRoleARN(subj)
	switch {
	case len(associationsOf(s, subj)) > 0:
		text += " although an association exists (PODID-ASSOC-001)"
	case irsa:
		text += " although the service account asks for IRSA (IRSA-POD-001)"
	}
	return credential{kind: "instance metadata", text: text}
}

// describeCredential is the finding's sentence.
func describeCredential(cr credential) string {
	var msg string
	switch {
	case cr.kind == "instance metadata":
		msg = "Falls back to " + cr.text
	case cr.whole:
		msg = cr.text
	default:
		msg = "Gets credentials from " + cr.text
	}
	if len(cr.notes) > 0 {
		msg += "; " + strings.Join(cr.notes, "; ")
	}
	return msg
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// checkCredentialSource says, per container, which credentials the SDK
// really gets. It never fails: the verdicts are the other checks'. For a
// subject that uses or is meant to use Pod Identity it is a notice, shown
// without --show-passed and first, because which link of the chain wins is
// what such a subject's reader needs before any verdict. Replicas get the
// same answer, so only the first container with each answer is the notice,
// naming the pods that share it; the rest are plain passes.
func checkCredentialSource(s *Input, subj *facts.Subject) []Finding {
	notice := podIdentitySubject(s, subj)
	var out []Finding
	first := map[string]int{} // container name and answer → index in out
	for _, pf := range subj.Pods {
		for _, c := range facts.Containers(pf.Pod) {
			cr := containerCredential(s, subj, pf, c)
			evs := append([]Evidence{ev("source", cr.kind, "SDK credential chain (Go v2 order)")}, cr.evs...)
			f := pass(containerRef(pf.Pod, c), describeCredential(cr), evs...)
			key := c.Name + "\x00" + f.Message
			if i, seen := first[key]; notice && seen {
				out[i].Evidence = appendSharedPod(out[i].Evidence, pf.Pod.Name)
			} else {
				first[key] = len(out)
				f.Notice = notice
			}
			out = append(out, f)
		}
	}
	return out
}

// appendSharedPod adds a pod to the notice's "same for pods" evidence.
func appendSharedPod(evs []Evidence, pod string) []Evidence {
	const key = "same for pods"
	for i := range evs {
		if evs[i].Key == key {
			evs[i].Value += ", " + pod
			return evs
		}
	}
	return append(evs, ev(key, pod, "the service account's other pods"))
}
