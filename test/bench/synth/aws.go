package synth

import (
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

// IAMPageSize is IAM's default page size.
const IAMPageSize = 100

// ConfigureAWS gives the emulator spec's IAM side for an issuer host
// (127.0.0.1:PORT): the caller in Account, the issuer's OIDC provider with
// thumbprint, and every role that exists with its trust policy and one
// attached policy. Pages are IAM's size (100), so a role's listings are one
// call each, as on AWS; the account-wide listings (ListRoles,
// GetAccountAuthorizationDetails) answer at most IAMPageSize roles a page
// whatever MaxItems asks, as IAM may, so their pages are counted at worst.
func ConfigureAWS(fake *fakeaws.Server, spec Spec, issuerHost, thumbprint string) {
	fake.SetCaller(fakeaws.Caller{ARN: "arn:aws:iam::" + Account + ":user/bench"})
	fake.SetPageSize(IAMPageSize)
	fake.SetMaxPage(IAMPageSize)
	p := fakeaws.Provider{ARN: ProviderARN(issuerHost), URL: issuerHost, ClientIDs: []string{Audience}}
	if thumbprint != "" {
		p.Thumbprints = []string{thumbprint}
	}
	fake.AddProvider(p)
	for j := range spec.Roles {
		if !spec.RoleExists(j) {
			continue
		}
		fake.AddRole(fakeaws.Role{ARN: RoleARN(j), TrustPolicy: spec.TrustPolicy(j, issuerHost),
			AttachedPolicyARNs: []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}})
	}
}
