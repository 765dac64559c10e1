package fakeaws_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

// TestGetAccountSummary: the SummaryMap the real SDK decodes, with the
// caller account's roles counted and the trust policy quota settable.
func TestGetAccountSummary(t *testing.T) {
	fake, cfg := start(t)
	listingRoles(fake)
	client := iam.NewFromConfig(cfg)
	out, err := client.GetAccountSummary(t.Context(), &iam.GetAccountSummaryInput{})
	if err != nil {
		t.Fatal(err)
	}
	m := out.SummaryMap
	if m["AssumeRolePolicySizeQuota"] != fakeaws.DefaultAssumeRolePolicySizeQuota || m["Roles"] != 3 || m["RolesQuota"] != 1000 {
		t.Errorf("summary = %v", m)
	}
	fake.SetAssumeRolePolicySizeQuota(4096)
	out, err = client.GetAccountSummary(t.Context(), &iam.GetAccountSummaryInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.SummaryMap["AssumeRolePolicySizeQuota"]; got != 4096 {
		t.Errorf("raised quota = %d", got)
	}
	fake.SetAssumeRolePolicySizeQuota(0)
	fake.Fail("iam:GetAccountSummary", "", "AccessDenied", "", 0)
	if _, err := client.GetAccountSummary(t.Context(), &iam.GetAccountSummaryInput{}); err == nil {
		t.Error("a denied GetAccountSummary succeeded")
	}
}
