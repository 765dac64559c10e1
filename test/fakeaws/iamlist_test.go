package fakeaws_test

import (
	"errors"
	"net/url"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

func listingRoles(fake *fakeaws.Server) {
	fake.AddRole(fakeaws.Role{ARN: "arn:aws:iam::123456789012:role/a", TrustPolicy: `{"Sid": "a+b"}`,
		AttachedPolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, InlinePolicyNames: []string{"s3"}})
	fake.AddRole(fakeaws.Role{ARN: "arn:aws:iam::123456789012:role/team/b", TrustPolicy: "{}"})
	fake.AddRole(fakeaws.Role{ARN: "arn:aws:iam::123456789012:role/team/c", TrustPolicy: "{}"})
	fake.AddRole(fakeaws.Role{ARN: "arn:aws:iam::999999999999:role/other", TrustPolicy: "{}"})
}

// TestListRoles: the caller's account only, paged by MaxItems and
// SetMaxPage, filtered by PathPrefix, trust policies URL-encoded as IAM
// sends them (the SDK leaves them so).
func TestListRoles(t *testing.T) {
	fake, cfg := start(t)
	listingRoles(fake)
	client := iam.NewFromConfig(cfg)
	var names []string
	pg := iam.NewListRolesPaginator(client, &iam.ListRolesInput{MaxItems: aws.Int32(2)})
	pages := 0
	for pg.HasMorePages() {
		page, err := pg.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range page.Roles {
			names = append(names, aws.ToString(r.Path)+aws.ToString(r.RoleName))
			if aws.ToString(r.RoleName) == "a" {
				if doc, _ := url.QueryUnescape(aws.ToString(r.AssumeRolePolicyDocument)); doc != `{"Sid": "a+b"}` || aws.ToString(r.Arn) != "arn:aws:iam::123456789012:role/a" {
					t.Errorf("role a = %+v (document %q)", r, doc)
				}
			}
		}
	}
	if want := []string{"/a", "/team/b", "/team/c"}; !reflect.DeepEqual(names, want) || pages != 2 {
		t.Errorf("listed %v in %d pages, want %v in 2", names, pages, want)
	}
	res, err := client.ListRoles(t.Context(), &iam.ListRolesInput{PathPrefix: aws.String("/team/")})
	if err != nil || len(res.Roles) != 2 {
		t.Fatalf("PathPrefix /team/: %+v, %v", res, err)
	}
	fake.SetMaxPage(1)
	res, err = client.ListRoles(t.Context(), &iam.ListRolesInput{MaxItems: aws.Int32(1000)})
	if err != nil || len(res.Roles) != 1 || !res.IsTruncated || aws.ToString(res.Marker) == "" {
		t.Fatalf("SetMaxPage(1): %+v, %v", res, err)
	}
}

// TestGetAccountAuthorizationDetails: Filter=Role pages the account's
// roles with their attached policies and inline policies (names and
// URL-encoded documents); another filter lists no role; an unknown entity
// type is IAM's ValidationError.
func TestGetAccountAuthorizationDetails(t *testing.T) {
	fake, cfg := start(t)
	listingRoles(fake)
	client := iam.NewFromConfig(cfg)
	var got []iamtypes.RoleDetail
	pg := iam.NewGetAccountAuthorizationDetailsPaginator(client, &iam.GetAccountAuthorizationDetailsInput{
		Filter: []iamtypes.EntityType{iamtypes.EntityTypeRole}, MaxItems: aws.Int32(2)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.RoleDetailList...)
	}
	if len(got) != 3 {
		t.Fatalf("%d roles, want the caller account's 3", len(got))
	}
	a := got[0]
	if aws.ToString(a.RoleName) != "a" || len(a.AttachedManagedPolicies) != 1 || aws.ToString(a.AttachedManagedPolicies[0].PolicyArn) != "arn:aws:iam::aws:policy/ReadOnlyAccess" ||
		len(a.RolePolicyList) != 1 || aws.ToString(a.RolePolicyList[0].PolicyName) != "s3" || aws.ToString(a.RolePolicyList[0].PolicyDocument) == "" {
		t.Errorf("role a = %+v", a)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(a.AssumeRolePolicyDocument)); doc != `{"Sid": "a+b"}` {
		t.Errorf("trust policy %q", doc)
	}
	if aws.ToString(got[1].Path) != "/team/" || len(got[1].AttachedManagedPolicies) != 0 {
		t.Errorf("role b = %+v", got[1])
	}
	res, err := client.GetAccountAuthorizationDetails(t.Context(), &iam.GetAccountAuthorizationDetailsInput{Filter: []iamtypes.EntityType{iamtypes.EntityTypeUser}})
	if err != nil || len(res.RoleDetailList) != 0 {
		t.Errorf("Filter=User: %+v, %v", res, err)
	}
	_, err = client.GetAccountAuthorizationDetails(t.Context(), &iam.GetAccountAuthorizationDetailsInput{Filter: []iamtypes.EntityType{"Robot"}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
		t.Errorf("Filter=Robot: %v, want ValidationError", err)
	}
	fake.Fail("iam:GetAccountAuthorizationDetails", "", "AccessDenied", "", 0)
	_, err = client.GetAccountAuthorizationDetails(t.Context(), &iam.GetAccountAuthorizationDetailsInput{})
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Errorf("denied: %v", err)
	}
}
