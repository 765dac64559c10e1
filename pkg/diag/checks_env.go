package diag

import (
	"fmt"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

func init() {
	register(
		Check{ID: "IRSA-CRED-001", Severity: SeverityError, Title: "No static AWS keys shadow IRSA",
			LooksAt: "container env and envFrom Secrets/ConfigMaps: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY", Run: checkStaticKeys},
		Check{ID: "IRSA-CRED-002", Severity: SeverityWarning, Title: "No profile or shared credentials file shadows IRSA",
			LooksAt: "container env AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE; mounts under .aws", Run: checkProfiles},
		Check{ID: "IRSA-CRED-003", Severity: SeverityWarning, Title: "Pod Identity and IRSA are not both configured",
			LooksAt: "container env AWS_CONTAINER_CREDENTIALS_FULL_URI next to AWS_WEB_IDENTITY_TOKEN_FILE", Run: checkPodIdentityMix},
		Check{ID: "IRSA-REGION-001", Severity: SeverityError, Title: "Containers have a region where the partition needs one",
			LooksAt: "container env AWS_REGION/AWS_DEFAULT_REGION (env and envFrom), partition of the role ARN", Run: checkRegion},
		Check{ID: "IRSA-REGION-002", Severity: SeverityWarning, Title: "AWS_STS_REGIONAL_ENDPOINTS is regional",
			LooksAt: "container env AWS_STS_REGIONAL_ENDPOINTS, partition of the role ARN", Run: checkRegionalEndpoints},
		Check{ID: "IRSA-REGION-003", Severity: SeverityWarning, Title: "AWS_REGION and AWS_DEFAULT_REGION agree",
			LooksAt: "container env AWS_REGION and AWS_DEFAULT_REGION where both are literal values", Run: checkRegionsAgree},
	)
}

// unreadableSources turns envFrom sources the collector could not read into
// unknown findings, once per source.
func unreadableSources(pf facts.PodFacts, c facts.Container, seen map[string]bool) []Finding {
	_, bad := envKeysFromSources(pf, c)
	var out []Finding
	for _, src := range bad {
		id := src.Kind + "/" + src.Name
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, unknown(containerRef(pf.Pod, c), "Could not read "+id+" used through envFrom: "+src.Err.Message,
			fmt.Sprintf("grant get on %ss in namespace %s (only key names are read, never values)", strings.ToLower(src.Kind), pf.Pod.Namespace)))
	}
	return out
}

func checkStaticKeys(_ *Input, subj *facts.Subject) []Finding {
	var out []Finding
	for _, pf := range subj.Pods {
		p := pf.Pod
		seen := map[string]bool{}
		clean := true
		for _, c := range facts.Containers(p) {
			out = append(out, unreadableSources(pf, c, seen)...)
			var evs []Evidence
			for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
				if origin := envOrigin(pf, c, name); origin != "" {
					evs = append(evs, ev(name, "<set, value not shown>", containerField(c, origin)))
				}
			}
			if len(evs) == 0 {
				continue
			}
			clean = false
			msg := "Static AWS keys in the environment come first in every SDK's credential chain, so IRSA is never used"
			if podIdentityOnly(c) {
				msg = "Static AWS keys in the environment come first in every SDK's credential chain, so EKS Pod Identity is never used"
			}
			out = append(out, fail(containerRef(p, c), msg,
				evs, "remove AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from the container (env or the envFrom source) in "+ownerText(pf)+", then "+RestartCommand(pf)))
		}
		if clean {
			out = append(out, pass(podRef(p), "No static AWS keys in the environment"))
		}
	}
	return out
}

func checkProfiles(_ *Input, subj *facts.Subject) []Finding {
	var out []Finding
	for _, pf := range subj.Pods {
		p := pf.Pod
		clean := true
		for _, c := range facts.Containers(p) {
			var evs []Evidence
			for _, name := range []string{"AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"} {
				if origin := envOrigin(pf, c, name); origin != "" {
					v, _, _ := facts.EnvValue(c.Container, name)
					evs = append(evs, ev(name, v, containerField(c, origin)))
				}
			}
			for _, m := range c.VolumeMounts {
				if strings.HasSuffix(m.MountPath, "/.aws") || strings.Contains(m.MountPath, "/.aws/") {
					evs = append(evs, ev("volumeMount", m.Name+" at "+m.MountPath, containerField(c, "volumeMounts")))
				}
			}
			if len(evs) == 0 {
				continue
			}
			clean = false
			msg := "A profile or shared credentials file can take precedence over web identity (Go v2 and boto3 read static keys from it first; JS v3 prefers any profile)"
			if podIdentityOnly(c) {
				msg = "A profile or shared credentials file takes precedence over EKS Pod Identity: every SDK reads the shared files before the container credential provider"
			}
			out = append(out, fail(containerRef(p, c), msg,
				evs, "remove the profile variables or the mounted .aws files from the container in "+ownerText(pf)+", unless the profile itself uses web_identity_token_file"))
		}
		if clean {
			out = append(out, pass(podRef(p), "No AWS profile or shared credentials file in the container"))
		}
	}
	return out
}

// podIdentityOnly reports a container whose SDK would use Pod Identity but
// for what comes earlier in the chain: the agent's URI, no web identity.
func podIdentityOnly(c facts.Container) bool {
	return facts.UsesPodIdentity(c.Container) && !facts.HasEnv(c.Container, facts.EnvTokenFile)
}

func checkPodIdentityMix(_ *Input, subj *facts.Subject) []Finding {
	var out []Finding
	for _, pf := range subj.Pods {
		p := pf.Pod
		for _, c := range facts.Containers(p) {
			full, podID, _ := facts.EnvValue(c.Container, facts.EnvContainerCredentialsFull)
			if !podID || !facts.HasEnv(c.Container, facts.EnvTokenFile) {
				continue
			}
			out = append(out, fail(containerRef(p, c), "Container has both EKS Pod Identity and IRSA variables; every SDK uses web identity (IRSA) first, which the Pod Identity association does not expect",
				[]Evidence{ev(facts.EnvContainerCredentialsFull, full, containerField(c, "env")), ev(facts.EnvTokenFile, "<set>", containerField(c, "env"))},
				"pick one: remove the "+facts.AnnotationRoleARN+" annotation (Pod Identity) or delete the Pod Identity association (IRSA), then "+RestartCommand(pf)))
		}
	}
	return out
}

// partitionOf derives the partition from the service account's role ARN, or
// from a container's AWS_ROLE_ARN, never by assumption.
func partitionOf(subj *facts.Subject, c facts.Container) (awsarn.Partition, string, bool) {
	candidates := []string{}
	if v, ok := facts.RoleARNAnnotation(subj.ServiceAccount); ok {
		candidates = append(candidates, v)
	}
	if v, set, _ := facts.EnvValue(c.Container, facts.EnvRoleARN); set {
		candidates = append(candidates, v)
	}
	for _, v := range candidates {
		if a, err := awsarn.Parse(strings.TrimSpace(v)); err == nil {
			if p, ok := awsarn.LookupPartition(a.Partition); ok {
				return p, v, true
			}
		}
	}
	return awsarn.Partition{}, "", false
}

func checkRegion(_ *Input, subj *facts.Subject) []Finding {
	if _, ok := facts.IntendedRoleARN(subj); !ok {
		return nil
	}
	var out []Finding
	for _, pf := range subj.Pods {
		p := pf.Pod
		clean := true
		for _, c := range facts.Containers(p) {
			if !facts.HasEnv(c.Container, facts.EnvTokenFile) {
				continue // IRSA-POD-001 covers containers without IRSA
			}
			if envOrigin(pf, c, facts.EnvRegion) != "" || envOrigin(pf, c, facts.EnvDefaultRegion) != "" {
				continue
			}
			clean = false
			part, arn, ok := partitionOf(subj, c)
			f := fail(containerRef(p, c), "Container has neither AWS_REGION nor AWS_DEFAULT_REGION: Go v2 cannot pick an STS endpoint and older SDKs fall back to the global one",
				nil, "kubectl set env "+setEnvTarget(pf)+" AWS_REGION=<REGION> AWS_DEFAULT_REGION=<REGION> -n "+p.Namespace+" (or run the webhook with --aws-default-region)")
			f.Severity = SeverityWarning
			if ok {
				f.Evidence = []Evidence{ev("partition", part.ID, "role ARN "+arn)}
				if part.NeedsRegion {
					f.Severity = SeverityError
					f.Message = "Container has neither AWS_REGION nor AWS_DEFAULT_REGION, and partition " + part.ID + " has no global STS endpoint: credentials cannot be obtained"
				}
			}
			out = append(out, f)
		}
		if clean {
			out = append(out, pass(podRef(p), "Containers with IRSA have a region"))
		}
	}
	return out
}

func setEnvTarget(pf facts.PodFacts) string {
	if pf.Owner.Kind == "Deployment" || pf.Owner.Kind == "StatefulSet" || pf.Owner.Kind == "DaemonSet" {
		return strings.ToLower(pf.Owner.Kind) + "/" + pf.Owner.Name
	}
	return "pod/" + pf.Pod.Name
}

func checkRegionalEndpoints(_ *Input, subj *facts.Subject) []Finding {
	var out []Finding
	for _, pf := range subj.Pods {
		p := pf.Pod
		for _, c := range facts.Containers(p) {
			v, set, fromRef := facts.EnvValue(c.Container, facts.EnvRegionalSTS)
			if !set || fromRef || v == "regional" {
				continue
			}
			src := ev(facts.EnvRegionalSTS, v, containerField(c, "env"))
			fix := "set " + facts.EnvRegionalSTS + "=regional in " + ownerText(pf) + " (or annotate the service account " + facts.AnnotationRegionalSTS + "=true), then " + RestartCommand(pf)
			switch v {
			case "legacy":
				f := fail(containerRef(p, c), "AWS_STS_REGIONAL_ENDPOINTS=legacy sends older SDKs to the global STS endpoint in us-east-1: private clusters with only an STS VPC endpoint time out",
					[]Evidence{src}, fix)
				f.Severity = SeverityInfo
				if part, arn, ok := partitionOf(subj, c); ok && part.NeedsRegion {
					f.Severity = SeverityWarning
					f.Message = "AWS_STS_REGIONAL_ENDPOINTS=legacy in partition " + part.ID + ", which has no global STS endpoint"
					f.Evidence = append(f.Evidence, ev("partition", part.ID, "role ARN "+arn))
				}
				out = append(out, f)
			default:
				out = append(out, fail(containerRef(p, c), fmt.Sprintf("AWS_STS_REGIONAL_ENDPOINTS=%q is neither regional nor legacy; SDKs ignore or reject it", v), []Evidence{src}, fix))
			}
		}
	}
	return out
}

// checkRegionsAgree flags a container that names two regions. SDKs read
// different variables: botocore (boto3, the AWS CLI) reads only
// AWS_DEFAULT_REGION, while the Go, Java and JavaScript SDKs read AWS_REGION
// first (docs/behaviour.md#sdk-credential-chain). One pod then calls STS,
// and everything else, in two regions depending on the language. The
// webhook injects both with one value, and only when neither is set
// (docs/behaviour.md#injected-environment), so two values were written by
// hand. Values from envFrom or valueFrom are not read, so they are not
// compared.
func checkRegionsAgree(_ *Input, subj *facts.Subject) []Finding {
	if _, ok := facts.IntendedRoleARN(subj); !ok {
		return nil
	}
	var out []Finding
	for _, pf := range subj.Pods {
		p := pf.Pod
		clean := true
		for _, c := range facts.Containers(p) {
			region, set, fromRef := facts.EnvValue(c.Container, facts.EnvRegion)
			def, defSet, defFromRef := facts.EnvValue(c.Container, facts.EnvDefaultRegion)
			if !set || !defSet || fromRef || defFromRef || region == def {
				continue
			}
			clean = false
			out = append(out, fail(containerRef(p, c),
				fmt.Sprintf("AWS_REGION=%s but AWS_DEFAULT_REGION=%s: boto3 and the AWS CLI use %s, the Go, Java and JavaScript SDKs %s, so STS and every other call go to a region that depends on the SDK", region, def, def, region),
				[]Evidence{ev(facts.EnvRegion, region, containerField(c, "env")), ev(facts.EnvDefaultRegion, def, containerField(c, "env"))},
				fmt.Sprintf("kubectl set env %s -c %s %s=%s -n %s (one region in both; or remove both and let the webhook inject the cluster's)",
					setEnvTarget(pf), c.Name, facts.EnvDefaultRegion, region, p.Namespace)))
		}
		if clean {
			out = append(out, pass(podRef(p), "No container names two different regions"))
		}
	}
	return out
}
