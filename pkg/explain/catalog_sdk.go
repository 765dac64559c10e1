package explain

import "strings"

// notMutated is the usual reason a pod has no IRSA environment
// (docs/behaviour.md#webhook-admission, #webhook-decision-flow; docs/behaviour.md#f6-pod-not-mutated).
var notMutated = cause("The pod has no IRSA environment: the webhook did not mutate it",
	"The webhook acts only when a pod is created: a pod older than the role-arn annotation, a misspelt annotation key, a webhook that does not match the pod (selectors, skip label) or was down (failurePolicy Ignore) leaves AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE unset, and the SDK falls through to the next source.",
	"correct the service account's eks.amazonaws.com/role-arn annotation (or the webhook's selectors), then restart the pods so that the webhook mutates them.",
	"IRSA-POD-001", "IRSA-SA-002", "IRSA-SA-003", "IRSA-WEBHOOK-001", "IRSA-WEBHOOK-002")

var oldSDK = cause("The SDK is older than the IRSA minimum, or the code bypasses the default credential chain",
	"Old SDKs ignore AWS_WEB_IDENTITY_TOKEN_FILE (minimum versions include boto3 1.9.220, Go v1 1.23.13, Java v2 2.10.11 with the sts module); code that builds an instance-profile or static provider itself never uses IRSA.",
	"upgrade the SDK to at least the IRSA minimum and build clients from its default credential chain.")

func init() {
	// docs/behaviour.md#sdk-side-failures, #token-file-permissions; docs/behaviour.md#f7-token-file-unreadable.
	register("sdk-token-file-unreadable", entry{
		title: "The SDK could not read the web identity token file",
		causes: func(f map[string]string) []Cause {
			cs := []Cause{
				cause("The container's user cannot read the token file",
					"Before Kubernetes 1.19 the projected file was 0600 root; today containers with different runAsUser values and no fsGroup still get this.",
					"set the pod's securityContext.fsGroup (e.g. 65534), then restart the pods.",
					"IRSA-TOKEN-003"),
				cause("The token volume is not mounted in this container",
					"A container skipped by eks.amazonaws.com/skip-containers, added after the pod was mutated, or given a copied AWS_WEB_IDENTITY_TOKEN_FILE has the variable but not the file.",
					"remove the container from skip-containers and drop the copied AWS_WEB_IDENTITY_TOKEN_FILE, then restart the pods so that the webhook mounts the token.",
					"IRSA-POD-001", "IRSA-POD-004", "IRSA-TOKEN-002"),
				cause("AWS_WEB_IDENTITY_TOKEN_FILE points at the wrong path",
					"The webhook mounts the token at /var/run/secrets/eks.amazonaws.com/serviceaccount/token (Windows: C:\\var\\run\\secrets\\eks.amazonaws.com\\serviceaccount\\token).",
					"point AWS_WEB_IDENTITY_TOKEN_FILE at that path, or remove the hand-set variable, then restart the pods.",
					"IRSA-TOKEN-002"),
			}
			if f["file_error"] == "not-found" {
				cs = promote(cs, 1)
			}
			return cs
		},
	})

	// docs/behaviour.md#sts-validation-order, #injected-environment (early exit), #sdk-credential-chain.
	register("sdk-role-arn-not-set", entry{
		title: "The SDK found a web identity token file but no role ARN",
		causes: static(
			cause("The container sets AWS_WEB_IDENTITY_TOKEN_FILE itself, without AWS_ROLE_ARN",
				"If a container sets either web-identity variable, the webhook adds neither; the SDK then has a token file and no role. Go v2 and botocore fail hard instead of falling through.",
				"remove the container's own AWS_WEB_IDENTITY_TOKEN_FILE (or set AWS_ROLE_ARN next to it), then restart the pods.",
				"IRSA-POD-001"),
			cause("AWS_ROLE_ARN is present but empty",
				"An explicit empty value in the pod spec, or an empty role-arn annotation when the pod was created.",
				"set the role-arn annotation to the role's ARN and drop the empty AWS_ROLE_ARN from the pod spec, then restart the pods.",
				"IRSA-POD-002", "IRSA-SA-002"),
			cause("A shared config profile sets web_identity_token_file without role_arn",
				"botocore reads both from the profile when the environment has none.",
				"add role_arn to the profile, or remove its web_identity_token_file.",
				"IRSA-CRED-002"),
		),
	})

	// docs/behaviour.md#sts-validation-order, #sdk-credential-chain, #irsa-minimums; docs/behaviour.md#f8-sdk-without-web-identity.
	register("sdk-java-sts-module-missing", entry{
		title: "The Java SDK cannot use web identity tokens: the STS module is missing",
		causes: static(
			cause("The application's classpath lacks the STS module",
				"Shaded jars and trimmed dependency sets drop it.",
				"add software.amazon.awssdk:sts (Java v2, at least 2.10.11) or com.amazonaws:aws-java-sdk-sts (Java v1, at least 1.12.782) to the application's dependencies."),
			cause("Until it is added the SDK skips web identity and may use the node role",
				"The Java chain moves on to profiles, container and instance credentials.",
				"add the STS module and redeploy; do not grant the node role what the pod needs.",
				"IRSA-POD-001"),
		),
		next: func(map[string]string) []string {
			return []string{"mvn dependency:tree | grep -E 'software.amazon.awssdk:sts|aws-java-sdk-sts'"}
		},
	})

	// docs/behaviour.md#f6-pod-not-mutated; docs/behaviour.md#sdk-credential-chain.
	register("sdk-no-credentials", entry{
		title: "The SDK found no credentials at all",
		causes: static(
			notMutated,
			cause("The pod runs as another service account than the annotated one",
				"serviceAccountName of the pod (or its workload template) names a service account without the role-arn annotation.",
				"set serviceAccountName to the annotated service account (or annotate the one the pod uses), then restart the pods.",
				"IRSA-SA-001", "IRSA-POD-003"),
			oldSDK,
			cause("Pod Identity was intended but is not set up for this pod",
				"No association for the service account, or the eks-pod-identity-agent add-on is missing, so no container-credential env was injected.",
				"create the association and install the eks-pod-identity-agent add-on, then restart the pods.",
				"PODID-ASSOC-001", "PODID-AGENT-001", "IRSA-CRED-003"),
		),
		notes: func(map[string]string) []string {
			return []string{"Messages such as \"no EC2 IMDS role found\" come from the last link of the chain (instance metadata); the interesting question is why the IRSA link before it had nothing."}
		},
	})

	// docs/behaviour.md#f9-node-role-instead-of-irsa; docs/behaviour.md#sdk-credential-chain, #session-details.
	register("node-role-used", entry{
		title: "The pod is using the node's instance role, not its IRSA role",
		causes: static(
			notMutated,
			cause("Credentials that come before web identity in the chain are present",
				"A mounted config with credential_source = Ec2InstanceMetadata, AWS_PROFILE, a credentials file or static keys win over IRSA; JS v3 even prefers a shared-config profile to web identity.",
				"remove the static keys, AWS_PROFILE and mounted credentials or config files from the pod, then restart the pods.",
				"IRSA-CRED-001", "IRSA-CRED-002"),
			oldSDK,
			cause("Pod Identity was intended, but the agent or association is missing, so the SDK fell back to instance metadata",
				"Without container-credential env the chain ends at IMDS, which hands out the node role unless the hop limit or a network policy blocks it.",
				"create the association and install the eks-pod-identity-agent add-on, then restart the pods.",
				"CREDS-001", "PODID-ASSOC-001", "IRSA-CRED-003"),
		),
		notes: func(f map[string]string) []string {
			n := "The session name of an EC2 instance profile is the instance id (i-…); IRSA sessions are named by the SDK (Go v2: Unix nanoseconds, botocore: botocore-session-<epoch>)."
			if r := f["node_role"]; r != "" {
				n += " Here the role is " + r + " on instance " + f["instance_id"] + "."
			}
			return []string{n}
		},
	})

	// Not an IRSA failure as such: some identity was denied an action.
	register("aws-permission-denied", entry{
		title: "An AWS API call was denied for the identity the pod uses",
		causes: func(f map[string]string) []Cause {
			cs := []Cause{
				cause("IRSA works, but the role's permission policies do not allow the action",
					"The caller is the assumed role"+roleSuffix(f)+".",
					"add the action"+actionSuffix(f)+" to the role's permission policies.",
					"IRSA-ROLE-002"),
				cause("The pod uses another identity than the role in its annotation",
					"Static keys, a profile or a credentials file shadow IRSA; compare the principal with the role-arn annotation.",
					"remove the static keys, profile or credentials file from the pod, then restart the pods.",
					"IRSA-CRED-001", "IRSA-CRED-002", "IRSA-POD-002"),
				cause("A resource policy, permission boundary, SCP or KMS key policy denies it",
					"The denial message names the policy type when AWS includes it (\"because no resource-based policy allows…\", \"with an explicit deny in a service control policy\").",
					"change the policy the message names so that it allows the role."),
			}
			if strings.Contains(f["principal"], ":user/") || (f["session_name"] != "" && !sdkSessionRe.MatchString(f["session_name"])) {
				cs = promote(cs, 1)
			}
			return cs
		},
		next: func(f map[string]string) []string {
			return []string{"aws iam list-attached-role-policies --role-name " + arg(f, "role_name", "ROLE_NAME"), "aws iam list-role-policies --role-name " + arg(f, "role_name", "ROLE_NAME")}
		},
	})

	register("aws-credentials-expired", entry{
		title: "The credentials the application signs with have expired",
		causes: static(
			cause("The application caches credentials and never refreshes them",
				"Clients built from a credentials snapshot keep signing with it; IRSA sessions last 1 h by default.",
				"use the SDK's refreshing credentials provider instead of a snapshot."),
			oldSDK,
			cause("Temporary static credentials were put into the environment",
				"AWS_ACCESS_KEY_ID/AWS_SESSION_TOKEN from a Secret expire and shadow IRSA.",
				"remove AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the pod (env and envFrom Secrets), then restart the pods.",
				"IRSA-CRED-001"),
		),
	})

	// docs/behaviour.md#partitions-and-audiences, #f13-china-and-govcloud,
	// #sdk-credential-chain: AWS does not know the access key id the request
	// was signed with. No policy is evaluated yet, so no permission fixes it.
	register("aws-invalid-client-token", entry{
		title:  "AWS does not recognise the credentials the request was signed with",
		causes: invalidClientTokenCauses,
		next: func(f map[string]string) []string {
			return []string{
				"aws sts get-caller-identity --region " + arg(f, "region", "REGION") + "   # with the pod's credentials: works once the region and partition are right",
				"kubectl get pod " + arg(f, "pod", "POD_NAME") + " -n " + arg(f, "namespace", "NAMESPACE") + " -o jsonpath='{.spec.containers[*].env[*].name}'   # AWS_REGION, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID?",
				"aws iam list-access-keys --user-name USER_NAME   # the keys' Status; a deleted key is not listed",
			}
		},
		notes: func(map[string]string) []string {
			return []string{"InvalidClientTokenId (UnrecognizedClientException in JSON services) is decided before any policy: the endpoint does not know the access key id, so no IAM permission changes it."}
		},
	})

	// docs/behaviour.md#sdk-credential-chain, #common-mistakes.
	register("sdk-container-host-rejected", entry{
		title: "The SDK rejected the Pod Identity credentials endpoint",
		causes: static(
			cause("The SDK is older than the Pod Identity minimum",
				"Before Go v2 config v1.25.0 (and equivalents in other SDKs) only loopback hosts were allowed, so http://169.254.170.23 is refused; minimums are listed at https://docs.aws.amazon.com/eks/latest/userguide/pod-id-minimum-sdk.html.",
				"upgrade the SDK to at least the Pod Identity minimum."),
			cause("AWS_CONTAINER_CREDENTIALS_FULL_URI was set by hand to an unsupported host",
				"http hosts must be loopback, 169.254.170.2, 169.254.170.23 or fd00:ec2::23.",
				"remove the hand-set AWS_CONTAINER_CREDENTIALS_FULL_URI so that the webhook sets it, then restart the pods.",
				"PODID-ENV-001", "IRSA-CRED-003"),
		),
	})

	// docs/behaviour.md#f12-sts-endpoint, #f13-china-and-govcloud; docs/behaviour.md#partitions-and-audiences, #sdk-credential-chain.
	register("sts-endpoint-unreachable", entry{
		title: "The SDK could not reach the STS endpoint",
		causes: func(f map[string]string) []Cause {
			cs := []Cause{
				cause("A private network has no route to the endpoint the SDK uses",
					"A VPC with only the regional STS interface endpoint cannot reach the global sts.amazonaws.com (us-east-1).",
					"use regional STS: set AWS_STS_REGIONAL_ENDPOINTS=regional or the eks.amazonaws.com/sts-regional-endpoints=true annotation, then restart the pods.",
					"IRSA-REGION-002", "IRSA-SA-006"),
				cause("The SDK has no region, or uses the wrong partition's endpoint",
					"Without AWS_REGION/AWS_DEFAULT_REGION some SDKs use the global endpoint; China needs sts.<region>.amazonaws.com.cn.",
					"set AWS_REGION and AWS_DEFAULT_REGION to the cluster's region, then restart the pods.",
					"IRSA-REGION-001"),
				cause("Egress, a proxy, DNS or a network policy blocks STS",
					"HTTPS_PROXY without a matching NO_PROXY, egress network policies or DNS failures.",
					"allow HTTPS to the STS endpoint through the proxy (NO_PROXY), the network policies and DNS."),
			}
			h := f["sts_host"]
			if regionalCN := strings.Contains(h, "sts.cn-") && !strings.HasSuffix(h, ".cn"); regionalCN {
				cs = promote(cs, 1)
			}
			return cs
		},
	})

	// docs/behaviour.md#f13-china-and-govcloud.
	register("arn-partition-invalid", entry{
		title: "An ARN names the wrong partition",
		causes: static(
			cause("An ARN hard-codes arn:aws in a China or GovCloud account (or the reverse)",
				"Role, provider and trust-policy ARNs must use the cluster's partition (aws-cn, aws-us-gov).",
				"replace arn:aws with the cluster's partition in the annotation and the trust policy, then restart the pods.",
				"IRSA-SA-004", "IRSA-TRUST-001", "IRSA-TRUST-003"),
			cause("The pod has no region, so the SDK assumes the commercial partition",
				"The SDK derives the partition from the region.",
				"set AWS_REGION and AWS_DEFAULT_REGION to the cluster's region, then restart the pods.", "IRSA-REGION-001"),
		),
	})

	// docs/behaviour.md#f15-trust-policy-size-and-stale-issuers.
	register("iam-trust-policy-size", entry{
		title: "The role's trust policy is larger than IAM allows",
		causes: static(
			cause("Too many clusters or service accounts in one trust policy",
				"ACLSizePerRole is 2048 characters by default (raisable to 4096).",
				"use one role per workload, StringLike patterns with care, or Pod Identity, which needs no per-cluster trust entries.",
				"IRSA-TRUST-002"),
			cause("Entries for deleted clusters were never removed",
				"Each re-created cluster gets a new issuer id; old provider statements stay behind.",
				"remove the statements for the issuers of deleted clusters.",
				"IRSA-TRUST-003"),
		),
	})

	// docs/behaviour.md#webhook-admission.
	register("webhook-call-failed", entry{
		title: "The API server could not call the pod identity webhook",
		causes: static(
			cause("The pod identity webhook is down, unreachable or its certificate is invalid",
				"With failurePolicy Ignore pods are admitted without IRSA env; with Fail their creation fails.",
				"fix the webhook's deployment, service or certificate, then recreate the pods created meanwhile.",
				"IRSA-WEBHOOK-001", "IRSA-WEBHOOK-002"),
		),
		next: func(map[string]string) []string {
			return []string{"kubectl get mutatingwebhookconfiguration pod-identity-webhook -o yaml"}
		},
	})

	register("kubelet-token-mount-failed", entry{
		title: "kubelet could not project the service account token",
		causes: static(
			cause("The service account does not exist (any more)",
				"kubelet requests the token for pod.spec.serviceAccountName.",
				"create the service account, or set serviceAccountName to an existing one, then restart the pods.",
				"IRSA-SA-001"),
			cause("The API server does not accept the requested audience or TokenRequest is not enabled",
				"Self-managed clusters need --service-account-issuer, signing keys and an audience the API server issues.",
				"set --service-account-issuer, --service-account-key-file and --service-account-signing-key-file on the API server, then restart the pods.",
				"IRSA-TOKEN-001", "IRSA-ISSUER-001"),
		),
	})
}

func roleSuffix(f map[string]string) string {
	if r := f["role_name"]; r != "" {
		return " " + r
	}
	return ""
}

func actionSuffix(f map[string]string) string {
	if a := f["action"]; a != "" {
		return " " + a
	}
	return ""
}

// invalidClientTokenCauses ranks the causes of InvalidClientTokenId
// (docs/behaviour.md#partitions-and-audiences, #f13-china-and-govcloud): an
// IRSA pod in China without a region first, as AWS's China troubleshooting
// describes; static keys first when the text shows where the SDK found them
// or a commercial region rules China out.
func invalidClientTokenCauses(f map[string]string) []Cause {
	cs := []Cause{
		cause("An IRSA pod in a China region (or GovCloud) has no AWS_REGION or AWS_DEFAULT_REGION",
			"Without a region the SDK signs for the aws partition's global endpoint sts.amazonaws.com, which knows no aws-cn (or aws-us-gov) credentials. The webhook injects both variables only when it runs with a region and the container sets neither; botocore and the AWS CLI read only AWS_DEFAULT_REGION.",
			"set AWS_REGION and AWS_DEFAULT_REGION to the cluster's region"+regionExample(f)+" in the pod template, then restart the pods.",
			"IRSA-REGION-001"),
		cause("The credentials belong to another partition than the endpoint",
			"aws, aws-cn and aws-us-gov are separate: keys, roles and sessions of one are unknown to the endpoints of the others, so a region, profile or AWS_ENDPOINT_URL of one partition with credentials of another fails.",
			"use a region and endpoint of the partition the credentials come from (drop a hand-set AWS_ENDPOINT_URL, profile or region of the other partition), then restart the pods.",
			"IRSA-REGION-001", "IRSA-CRED-002"),
		cause("Static access keys in the pod are deactivated, deleted or mistyped",
			"The endpoint knows no such access key id. Static keys come before IRSA in every SDK's credential chain, so a forgotten AWS_ACCESS_KEY_ID from a Secret or a mounted credentials file is used even where IRSA is set up, and fails once its key is rotated or its user deleted.",
			"remove AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (env and envFrom Secrets) and mounted credentials files so that IRSA is used, or replace them with an active key, then restart the pods.",
			"IRSA-CRED-001", "IRSA-CRED-002"),
		cause("Session credentials from the global STS endpoint are used in an opt-in region",
			"Session tokens of sts.amazonaws.com are valid only in regions enabled by default, unless the account makes the global endpoint issue tokens valid in all regions; regional endpoints always do (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_enable-regions.html).",
			"use regional STS: set AWS_STS_REGIONAL_ENDPOINTS=regional or the eks.amazonaws.com/sts-regional-endpoints=true annotation, then restart the pods.",
			"IRSA-REGION-002", "IRSA-SA-006"),
	}
	switch {
	case f["credential_source"] != "" || strings.Contains(f["principal"], ":user/"):
		cs = promote(cs, 2)
	case f["partition"] == "aws" && f["region"] != "":
		// A commercial region is known: China is out, the keys come first.
		cs = []Cause{cs[2], cs[1], cs[3], cs[0]}
	}
	return cs
}

func regionExample(f map[string]string) string {
	if r := f["region"]; r != "" {
		return " (" + r + ")"
	}
	return " (e.g. cn-north-1)"
}
