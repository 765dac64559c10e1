package explain

// checkTitles mirrors the titles of `kubectl irsa checks` (pkg/diag). The
// package stays free of pkg/diag's Kubernetes dependencies; a test keeps
// the copy in step with the real catalogue.
var checkTitles = map[string]string{
	"IRSA-CRED-001":    "No static AWS keys shadow IRSA",
	"IRSA-CRED-002":    "No profile or shared credentials file shadows IRSA",
	"IRSA-CRED-003":    "Pod Identity and IRSA are not both configured",
	"IRSA-ISSUER-001":  "The cluster's OIDC issuer is known",
	"IRSA-OIDC-001":    "An IAM OIDC provider for the issuer exists in the role's account",
	"IRSA-OIDC-002":    "The token's audience is one of the provider's client IDs",
	"IRSA-OIDC-003":    "The provider's thumbprints fit the issuer's served TLS chain",
	"IRSA-POD-001":     "Every container got the IRSA env and token mount",
	"IRSA-POD-002":     "The pod's AWS_ROLE_ARN matches the service account's annotation",
	"IRSA-POD-003":     "Live pods run as the service account their workload names",
	"IRSA-POD-004":     "skip-containers annotation names real containers exactly",
	"IRSA-REGION-001":  "Containers have a region where the partition needs one",
	"IRSA-REGION-002":  "AWS_STS_REGIONAL_ENDPOINTS is regional",
	"IRSA-ROLE-001":    "The IAM role exists",
	"IRSA-ROLE-002":    "The role has permission policies",
	"IRSA-SA-001":      "Service account exists",
	"IRSA-SA-002":      "Service account has an eks.amazonaws.com/role-arn annotation",
	"IRSA-SA-003":      "No near-miss role-arn annotation keys",
	"IRSA-SA-004":      "Role ARN annotation is a valid IAM role ARN",
	"IRSA-SA-005":      "Audience annotation is a plausible audience",
	"IRSA-SA-006":      "sts-regional-endpoints annotation is a boolean",
	"IRSA-SA-007":      "token-expiration annotations are integers in range",
	"IRSA-TOKEN-001":   "The projected token's audience is the service account's audience",
	"IRSA-TOKEN-002":   "AWS_WEB_IDENTITY_TOKEN_FILE points at the projected IRSA token",
	"IRSA-TOKEN-003":   "Non-root containers can read the token file",
	"IRSA-TOKEN-004":   "The token's expirationSeconds is what the annotations ask for",
	"IRSA-TRUST-001":   "The role's trust policy lets this service account assume it",
	"IRSA-TRUST-002":   "The trust policy does not let other identities assume the role",
	"IRSA-TRUST-003":   "The trust policy's statements for this provider have no defects",
	"IRSA-WEBHOOK-001": "The pod identity webhook is registered",
	"IRSA-WEBHOOK-002": "The pod identity webhook's selectors and rules include the pod",
}

// CheckTitles returns a copy of the check ids explain refers to, with their
// titles.
func CheckTitles() map[string]string {
	out := make(map[string]string, len(checkTitles))
	for k, v := range checkTitles {
		out[k] = v
	}
	return out
}
