package explain

import "strings"

// entry says what an id means: its title, its causes ranked for the facts
// at hand, the commands that decide between them and notes.
type entry struct {
	title  string
	causes func(f map[string]string) []Cause
	next   func(f map[string]string) []string
	notes  func(f map[string]string) []string
}

// cause builds a cause whose detail ends with the action that removes it:
// "<detail> Fix: <fix>". fix is one imperative sentence; a fix that changes
// what the webhook reads only when a pod is created (annotations, env, the
// pod spec) says to restart the pods (docs/behaviour.md#webhook-admission).
func cause(summary, detail, fix string, checks ...string) Cause {
	d := "Fix: " + fix
	if detail != "" {
		d = detail + " " + d
	}
	return Cause{Summary: summary, Detail: d, CheckIDs: checks}
}

// promote moves cs[i] to the front, keeping the others in order.
func promote(cs []Cause, i int) []Cause {
	out := append([]Cause{cs[i]}, cs[:i]...)
	return append(out, cs[i+1:]...)
}

func static(cs ...Cause) func(map[string]string) []Cause {
	return func(map[string]string) []Cause { return append([]Cause(nil), cs...) }
}

var catalog = map[string]entry{}

func register(id string, e entry) { catalog[id] = e }

// docs/behaviour.md#sts-validation-order step 2; docs/behaviour.md#f1-no-openidconnect-provider causes a–e, #f13-china-and-govcloud, #f14-cross-account-irsa.
func init() {
	register("sts-no-oidc-provider", entry{
		title: "STS found no IAM OIDC provider for the token's issuer in the role's account",
		causes: func(f map[string]string) []Cause {
			cs := []Cause{
				cause("No IAM OIDC provider was created for this cluster's issuer",
					"STS looks for a provider whose URL equals the token's iss in the role's account. Every cluster has its own issuer id, so a new or re-created cluster needs a new provider; providers of old clusters do not match.",
					"create the provider: aws iam create-open-id-connect-provider --url <issuer> --client-id-list sts.amazonaws.com (or eksctl utils associate-iam-oidc-provider --approve).",
					"IRSA-OIDC-001", "IRSA-ISSUER-001"),
				cause("The provider exists, but in another account than the role",
					"The provider must exist in the account of the role in AWS_ROLE_ARN, not only in the cluster's account.",
					"create it in the role's account"+ofAccount(f)+" with that account's credentials, or chain to the role from a role in the cluster's account.",
					"IRSA-OIDC-001"),
				cause("STS was called in the wrong partition or region",
					"China and GovCloud issuers need STS of their own partition; without AWS_REGION/AWS_DEFAULT_REGION an SDK can call the commercial or global endpoint, where no such provider exists.",
					"set AWS_REGION and AWS_DEFAULT_REGION to the cluster's region in the pod template, then restart the pods.",
					"IRSA-REGION-001", "IRSA-REGION-002"),
				cause("The provider was registered with a different URL form",
					"A provider for the dual-stack host oidc-eks.<region>.api.aws does not match tokens whose iss is oidc.eks.<region>.amazonaws.com, and vice versa; a trailing slash or upper-case id differ too. The provider URL must equal iss exactly.",
					"create a provider whose URL is the token's iss exactly, and delete the mismatched one once nothing uses it.",
					"IRSA-OIDC-001", "IRSA-ISSUER-001"),
				cause("The pod got IRSA env although the service account should use Pod Identity",
					"When a Pod Identity association exists, a webhook cache race can inject IRSA env instead; the role then has no OIDC trust and no provider is needed by design.",
					"recreate the pod so that the webhook injects the Pod Identity environment.",
					"IRSA-CRED-003", "IRSA-POD-001"),
			}
			switch {
			case f["partition"] != "" && f["partition"] != "aws":
				cs = promote(cs, 2)
			case f["dual_stack_issuer"] == "true":
				cs = append(cs[:1], promote(cs[1:], 2)...)
			}
			return cs
		},
		next: func(f map[string]string) []string {
			issuer := arg(f, "issuer", "")
			if issuer == "" {
				issuer = arg(f, "token_iss", "ISSUER_URL")
			}
			out := []string{
				"aws iam list-open-id-connect-providers   # with credentials of the role's account" + ofAccount(f),
				"aws iam get-open-id-connect-provider --open-id-connect-provider-arn " + providerARN(f),
				"aws iam create-open-id-connect-provider --url " + issuer + " --client-id-list sts.amazonaws.com",
			}
			if issuer == "ISSUER_URL" {
				out = append([]string{"aws eks describe-cluster --name CLUSTER --query cluster.identity.oidc.issuer --output text"}, out...)
			}
			return out
		},
	})

	// docs/behaviour.md#sts-validation-order step 3, #trusted-ca-library, #thumbprints-per-issuer-type, #common-mistakes; docs/behaviour.md#f2-thumbprint-mismatch.
	register("sts-thumbprint-mismatch", entry{
		title: "The IAM OIDC provider's thumbprint does not match the issuer's TLS certificate",
		causes: static(
			cause("The provider's thumbprint list holds a wrong or stale certificate hash",
				"The thumbprint must be the SHA-1 of the last certificate the JWKS host serves; a leaf or intermediate hash, or a CA rotation, breaks it. kubectl irsa thumbprint compares them.",
				"replace the list with the thumbprint kubectl irsa thumbprint prints (kubectl irsa thumbprint --update, or aws iam update-open-id-connect-provider-thumbprint, which replaces the whole list).",
				"IRSA-OIDC-003"),
			cause("The issuer's jwks_uri is served by another host or CA than the thumbprint was computed for",
				"STS checks the TLS chain of the jwks_uri host, which can differ from the issuer host (self-hosted issuers on S3/CloudFront, kOps).",
				"add the thumbprint of the jwks_uri host's last certificate, which kubectl irsa thumbprint shows, to the provider's list.",
				"IRSA-ISSUER-001", "IRSA-OIDC-003"),
		),
		next: func(f map[string]string) []string {
			return []string{"kubectl irsa thumbprint", "aws iam get-open-id-connect-provider --open-id-connect-provider-arn " + providerARN(f) + " --query ThumbprintList"}
		},
		notes: func(f map[string]string) []string {
			if isEKSIssuer(f) {
				return []string{"Since 2023 AWS validates EKS-hosted issuers (publicly trusted CAs) with its own CA library and ignores thumbprints; this error with an oidc.eks… issuer is unusual, so first make sure the token's iss is the issuer you expect."}
			}
			return nil
		},
	})

	// docs/behaviour.md#sts-validation-order steps 3–4; docs/behaviour.md#f11-expired-token-or-jwks.
	register("sts-verification-key", entry{
		title: "STS could not fetch or match the key that signed the token",
		causes: func(f map[string]string) []Cause {
			cs := []Cause{
				cause("A transient failure fetching the issuer's discovery document or JWKS",
					"AWS reports this as often transient and SDKs retry (aws/aws-cli#7194, awslabs/aws-sdk-rust#827). If a retry succeeds, nothing is misconfigured.",
					"retry; if every attempt fails, look at the causes below.",
				),
				cause("The token's signing key (kid) is not in the issuer's JWKS",
					"The service-account signing key was rotated and the published JWKS lags, a self-hosted issuer's JWKS was not updated, or the token comes from another cluster that uses the same issuer URL.",
					"publish the API server's current keys (kubectl get --raw /openid/v1/jwks) at the issuer's jwks_uri, and give each cluster its own issuer URL.",
					"IRSA-ISSUER-001"),
				cause("The issuer's discovery document or JWKS is not reachable from AWS",
					"STS fetches <issuer>/.well-known/openid-configuration and its jwks_uri over the internet; a private S3 bucket, a private endpoint or an expired or privately signed certificate fails every time.",
					"make both URLs publicly reachable over HTTPS with a valid certificate, and register its thumbprint if the CA is private.",
					"IRSA-ISSUER-001", "IRSA-OIDC-003"),
			}
			if f["issuer"] != "" && !isEKSIssuer(f) {
				cs = promote(cs, 2)
			}
			return cs
		},
		next: func(f map[string]string) []string {
			iss := arg(f, "issuer", "ISSUER_URL")
			return []string{"curl -sS " + iss + "/.well-known/openid-configuration", "kubectl get --raw /openid/v1/jwks", "kubectl irsa thumbprint"}
		},
	})

	// docs/behaviour.md#sts-validation-order step 5, #partitions-and-audiences, #common-mistakes; docs/behaviour.md#f3-incorrect-token-audience.
	register("sts-incorrect-audience", entry{
		title: "The token's audience is not in the OIDC provider's client ID list",
		causes: func(f map[string]string) []Cause {
			cs := []Cause{
				cause("The provider's ClientIDList lacks the token's audience",
					"ClientIDList must contain the projected token's aud exactly: sts.amazonaws.com on EKS in every partition, China included. Typos such as sts.amazon.com or sts.amazonaws.com.cn, and stray spaces, are common.",
					"add the token's audience with aws iam add-client-id-to-open-id-connect-provider.",
					"IRSA-OIDC-002"),
				cause("The service account asks for a custom audience the provider does not list",
					"The eks.amazonaws.com/audience annotation changes the projected token's aud; the same value must be in ClientIDList.",
					"add that audience to ClientIDList, or remove the annotation and restart the pods.",
					"IRSA-SA-005", "IRSA-TOKEN-001", "IRSA-OIDC-002"),
				cause("AWS_WEB_IDENTITY_TOKEN_FILE points at a token with another audience",
					"e.g. the API server's default token /var/run/secrets/kubernetes.io/serviceaccount/token, whose aud is the API server.",
					"remove the hand-set AWS_WEB_IDENTITY_TOKEN_FILE so that the webhook points it at /var/run/secrets/eks.amazonaws.com/serviceaccount/token, then restart the pods.",
					"IRSA-TOKEN-002"),
			}
			aud := strings.ToLower(f["token_aud"])
			switch {
			case strings.Contains(aud, "kubernetes") || strings.Contains(f["token_path"], "kubernetes.io/serviceaccount"):
				cs = promote(cs, 2)
			case aud != "" && aud != "sts.amazonaws.com":
				cs = promote(cs, 1)
			}
			return cs
		},
		next: func(f map[string]string) []string {
			return []string{
				"aws iam get-open-id-connect-provider --open-id-connect-provider-arn " + providerARN(f) + " --query ClientIDList",
				"aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn " + providerARN(f) + " --client-id " + arg(f, "token_aud", "sts.amazonaws.com"),
			}
		},
	})

	// docs/behaviour.md#projected-service-account-token, #sts-validation-order step 6; docs/behaviour.md#f11-expired-token-or-jwks.
	register("sts-token-expired", entry{
		title: "STS says the web identity token has expired",
		causes: func(f map[string]string) []Cause {
			cs := []Cause{
				cause("The application read the token once and keeps sending it",
					"kubelet rewrites the token file at 80% of its lifetime or after 24 h and SDKs re-read it; code that reads the file once, passes the token to AssumeRoleWithWebIdentity itself, or an SDK older than the IRSA minimum fails once the token expires. expired_by says how long ago that was.",
					"use the SDK's default credential chain, which re-reads the file, or re-read the file before each call, and upgrade SDKs older than the IRSA minimum.",
					"IRSA-TOKEN-004"),
				cause("Clock skew between the node and AWS",
					"IAM accepts a token up to 5 minutes past exp; when now−exp is only minutes and the token was fresh, the node's clock is off.",
					"sync the node's clock (chrony or NTP, e.g. against the Amazon Time Sync Service).",
				),
				cause("The token's lifetime is short and kubelet failed to refresh it",
					"A small eks.amazonaws.com/token-expiration or a failing projected-volume refresh (FailedMount events) leaves an expired file in place.",
					"fix what the FailedMount events report, or raise the token-expiration annotation, then restart the pods.",
					"IRSA-TOKEN-004", "IRSA-SA-007"),
			}
			if d := leadingInt(f["expired_by"]); d > 0 && d <= 900 {
				cs = promote(cs, 1)
			}
			return cs
		},
		next: func(f map[string]string) []string {
			return []string{"kubectl get events -n " + arg(f, "namespace", "NAMESPACE") + " --field-selector involvedObject.name=" + arg(f, "pod", "POD_NAME") + ",reason=FailedMount"}
		},
	})

	// docs/behaviour.md#sts-validation-order step 1.
	register("sts-missing-claim", entry{
		title: "The web identity token lacks a claim STS requires",
		causes: static(
			cause("AWS_WEB_IDENTITY_TOKEN_FILE points at a token that is not a projected service-account token",
				"Legacy secret-based service-account tokens carry no aud or exp; tokens minted by other systems may lack aud or sub. The IRSA token is /var/run/secrets/eks.amazonaws.com/serviceaccount/token.",
				"point AWS_WEB_IDENTITY_TOKEN_FILE at the projected token, or remove the hand-set variable so that the webhook sets it, then restart the pods.",
				"IRSA-TOKEN-002", "IRSA-POD-001"),
			cause("The projected token volume was written by hand without an audience",
				"A custom aws-iam-token volume must request audience sts.amazonaws.com.",
				"set audience: sts.amazonaws.com in the aws-iam-token volume, or remove the volume so that the webhook adds it, then restart the pods.",
				"IRSA-TOKEN-001"),
		),
	})

	// docs/behaviour.md#sts-validation-order step 8, #trust-policy-condition-keys, #principal-and-action, #common-mistakes; docs/behaviour.md#f4-accessdenied-from-the-trust-policy, #f14-cross-account-irsa.
	register("sts-access-denied", entry{
		title: "STS refused AssumeRoleWithWebIdentity: the role does not admit this token",
		causes: static(
			cause("The trust policy's :sub condition does not match system:serviceaccount:<namespace>:<service-account>",
				"A namespace or name typo, StringEquals with a * (never matches, use StringLike), or a broken condition key (with https://, the provider ARN, a wrong host, :aud and :sub swapped, an unsubstituted placeholder) all make the condition false.",
				"set the condition to \"<issuer host/path>:sub\": \"system:serviceaccount:<namespace>:<service-account>\" under StringEquals (StringLike for a pattern).",
				"IRSA-TRUST-001", "IRSA-TRUST-003"),
			cause("The trust policy's Federated principal names another OIDC provider",
				"A role copied from another cluster or made before the cluster was re-created trusts an old issuer id or region; the principal must be arn:<partition>:iam::<role account>:oidc-provider/<issuer host/path>.",
				"set Principal.Federated to this cluster's provider ARN and the condition keys to its URL.",
				"IRSA-TRUST-001", "IRSA-OIDC-001", "IRSA-ISSUER-001"),
			cause("The pod runs with an old AWS_ROLE_ARN",
				"The webhook sets AWS_ROLE_ARN when the pod is created; a later change of the role-arn annotation needs the pod recreated.",
				"restart the pods (kubectl rollout restart) so that the webhook writes the current role ARN.",
				"IRSA-POD-002"),
			cause("The role does not exist",
				"STS gives the same AccessDenied for a missing role: a typo in the annotation, a deleted role or a wrong account number in the ARN.",
				"create the role, or correct the role-arn annotation to an existing role and restart the pods.",
				"IRSA-ROLE-001", "IRSA-SA-004"),
			cause("The role is in another account than the OIDC provider its trust policy names",
				"Cross-account: the provider must exist in the role's account and the principal must name that account's provider.",
				"create the provider in the role's account and name it in the trust policy's Federated principal.",
				"IRSA-OIDC-001", "IRSA-TRUST-001"),
			cause("The :aud condition does not match the token's audience",
				"Even when the audience is in the provider's ClientIDList, a trust condition on :aud with another value denies.",
				"set the :aud condition to the token's audience, sts.amazonaws.com by default.",
				"IRSA-TRUST-001", "IRSA-TOKEN-001", "IRSA-OIDC-002"),
			cause("An explicit Deny, or no statement allowing sts:AssumeRoleWithWebIdentity",
				"A Deny statement (or an organisation RCP) wins over any Allow; a statement allowing only sts:AssumeRole does not cover web identity.",
				"remove or narrow the Deny, and allow sts:AssumeRoleWithWebIdentity (not only sts:AssumeRole) for the provider.",
				"IRSA-TRUST-001", "IRSA-TRUST-003"),
		),
		next: func(f map[string]string) []string {
			return []string{
				"aws iam get-role --role-name " + arg(f, "role_name", "ROLE_NAME") + " --query Role.AssumeRolePolicyDocument",
				"kubectl get serviceaccount " + arg(f, "service_account", "SERVICE_ACCOUNT") + " -n " + arg(f, "namespace", "NAMESPACE") + ` -o jsonpath='{.metadata.annotations.eks\.amazonaws\.com/role-arn}'`,
			}
		},
		notes: func(map[string]string) []string {
			return []string{"For AssumeRoleWithWebIdentity, AccessDenied is about the role's trust policy, its existence or its principal, never about its permission policies; STS gives the same message for every cause below."}
		},
	})

	// docs/behaviour.md#f5-invalid-role-arn.
	register("sts-request-arn-invalid", entry{
		title: "STS rejected the role ARN as malformed",
		causes: static(
			cause("The service account's role-arn annotation is not a valid role ARN",
				"It must be arn:<partition>:iam::<12-digit account>:role/<path/name>; extra colons (arn:aws:iam::::123…), a missing account, spaces or a bare role name are common.",
				"correct the role-arn annotation, then restart the pods.",
				"IRSA-SA-004"),
			cause("The pod still carries an older, malformed AWS_ROLE_ARN",
				"env is written when the pod is created.",
				"recreate the pod once the annotation is fixed.",
				"IRSA-POD-002"),
			cause("AWS_ROLE_ARN is set by hand in the pod spec or a profile",
				"A container's own AWS_ROLE_ARN is kept by the webhook.",
				"remove the hand-set AWS_ROLE_ARN (or the profile's role_arn) so that the webhook sets it from the annotation, then restart the pods.",
				"IRSA-POD-001", "IRSA-CRED-002"),
		),
	})

	// docs/behaviour.md#sts-validation-order step 9, #session-details.
	register("sts-duration-exceeds-max", entry{
		title: "The requested session duration exceeds the role's MaxSessionDuration",
		causes: static(
			cause("The application or SDK configuration asks for a longer session than the role allows",
				"SDKs default to 1 h; an explicit DurationSeconds above the role's MaxSessionDuration (900 s to 12 h) fails.",
				"lower DurationSeconds, or raise the role's maximum (aws iam update-role --max-session-duration).",
				"IRSA-ROLE-001"),
		),
	})

	// docs/behaviour.md#sdk-side-failures; docs/behaviour.md#f12-sts-endpoint.
	register("sts-region-disabled", entry{
		title: "STS is not activated in the region the SDK called",
		causes: static(
			cause("The account has deactivated the regional STS endpoint",
				"",
				"activate STS for the region in IAM → Account settings → Security Token Service, or set AWS_REGION to a region where STS is active and restart the pods.",
				"IRSA-REGION-001", "IRSA-REGION-002"),
			cause("The region is an opt-in region the account has not enabled",
				"The pod's AWS_REGION names a region the account cannot use.",
				"enable the region for the account, or set AWS_REGION to an enabled region and restart the pods.",
				"IRSA-REGION-001"),
		),
		next: func(f map[string]string) []string {
			return []string{"aws sts get-caller-identity --region " + arg(f, "region", "REGION")}
		},
	})

	// docs/behaviour.md#sdk-side-failures ([EKSUG] security-iam-troubleshoot).
	register("sts-signature-region", entry{
		title: "The request was signed for a region the STS endpoint does not accept",
		causes: static(
			cause("The application calls the global STS endpoint while the pod is set up for regional STS",
				"A client pinned to sts.amazonaws.com rejects a request signed for the pod's region.",
				"use the regional endpoint sts.<region>.amazonaws.com: drop the hard-coded endpoint, or set AWS_STS_REGIONAL_ENDPOINTS=regional and restart the pods.",
				"IRSA-REGION-002"),
			cause("The region in the pod's environment is missing or wrong",
				"Credentials are scoped to the signing region; an empty or misspelt AWS_REGION makes the scope invalid.",
				"set AWS_REGION and AWS_DEFAULT_REGION to the cluster's region, then restart the pods.",
				"IRSA-REGION-001"),
		),
	})

	register("sts-idp-communication", entry{
		title: "STS could not communicate with the token's identity provider",
		causes: static(
			cause("The issuer was briefly unreachable from AWS",
				"The STS model documents IDPCommunicationError as transient.",
				"retry a limited number of times, with back-off.",
			),
			cause("A self-hosted issuer is down or not reachable from the internet",
				"STS must fetch the discovery document and JWKS from the issuer URL.",
				"make the issuer URL reachable from the internet over HTTPS, and keep it up.",
				"IRSA-ISSUER-001", "IRSA-OIDC-003"),
		),
		next: func(f map[string]string) []string {
			return []string{"curl -sS " + arg(f, "issuer", "ISSUER_URL") + "/.well-known/openid-configuration"}
		},
	})

	register("sts-idp-rejected-claim", entry{
		title: "The identity provider rejected the token's claims",
		causes: static(
			cause("The token is expired or revoked at the identity provider",
				"IDPRejectedClaim comes mainly from legacy social identity providers and is not normally seen with EKS.",
				"point AWS_WEB_IDENTITY_TOKEN_FILE at the pod's projected token, or remove the hand-set variable, then restart the pods.",
				"IRSA-TOKEN-002"),
		),
	})

	register("sts-packed-policy-too-large", entry{
		title: "The session policy or tags passed to STS are too large",
		causes: static(cause("The application passes a large session policy or session tags",
			"SDKs set no session policy by default; the code or profile that adds Policy/PolicyArns does.",
			"shorten the session policy and tags the application passes, or pass none.")),
	})
	register("sts-malformed-policy", entry{
		title: "The session policy passed to STS is malformed",
		causes: static(cause("The application passes an invalid session policy",
			"SDKs set no session policy by default; the code or profile that adds Policy does.",
			"correct or remove the session policy the application passes.")),
	})

	// A code without one of the known messages: walk the pipeline.
	register("sts-invalid-identity-token", entry{
		title: "STS rejected the web identity token",
		causes: static(
			cause("No IAM OIDC provider for the token's issuer in the role's account", "See https://docs.aws.amazon.com/eks/latest/userguide/enable-iam-roles-for-service-accounts.html.",
				"create the provider for the cluster's issuer in the role's account.", "IRSA-OIDC-001", "IRSA-ISSUER-001"),
			cause("The token's audience is not in the provider's ClientIDList", "See https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html.",
				"add the token's audience to the provider's ClientIDList.", "IRSA-OIDC-002", "IRSA-TOKEN-001"),
			cause("The issuer's JWKS cannot be fetched or trusted", "See https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc_verify-thumbprint.html.",
				"make the issuer's JWKS publicly reachable over HTTPS, and register the thumbprint kubectl irsa thumbprint prints if its CA is private.", "IRSA-OIDC-003", "IRSA-ISSUER-001"),
			cause("The token file is not the pod's projected token", "See https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html.",
				"point AWS_WEB_IDENTITY_TOKEN_FILE at the projected token, or remove the hand-set variable, then restart the pods.", "IRSA-TOKEN-002"),
		),
		notes: func(map[string]string) []string {
			return []string{"The message is not one of the known InvalidIdentityToken messages; the causes follow STS's validation order."}
		},
	})
}

func isEKSIssuer(f map[string]string) bool {
	iss := strings.ToLower(f["issuer"] + " " + f["token_iss"])
	return strings.Contains(iss, "oidc.eks.") || strings.Contains(iss, "oidc-eks.")
}

func ofAccount(f map[string]string) string {
	if a := f["account"]; a != "" {
		return " (" + a + ")"
	}
	return ""
}

// providerARN builds the provider ARN from the issuer and the role's
// account (docs/behaviour.md#principal-and-action), with placeholders for what is unknown.
func providerARN(f map[string]string) string {
	if p := f["provider_arn"]; p != "" {
		return shellArg(p)
	}
	host := f["issuer_host"]
	if host == "" {
		host = strings.TrimPrefix(f["token_iss"], "https://")
	}
	if host == "" {
		return "PROVIDER_ARN"
	}
	part, acct := f["partition"], f["account"]
	if part == "" {
		part = "aws"
	}
	if acct == "" {
		acct = "ACCOUNT_ID"
	}
	return shellArg("arn:" + part + ":iam::" + acct + ":oidc-provider/" + host)
}
