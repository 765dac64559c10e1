package fakeaws_test

import (
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

const (
	piCluster    = "prod"
	piClusterARN = "arn:aws:eks:us-west-2:123456789012:cluster/prod"
)

var associationIDPattern = regexp.MustCompile(`^a-[a-z0-9]{17}$`)

func TestAddAssociationFillsIn(t *testing.T) {
	fake := fakeaws.New()
	fake.AddCluster(fakeaws.Cluster{Name: piCluster, ARN: "arn:aws-cn:eks:cn-north-1:111122223333:cluster/prod"})
	before := time.Now().Add(-time.Second)
	a := fake.AddAssociation(fakeaws.Association{ClusterName: piCluster, Namespace: "shop", ServiceAccount: "web", RoleARN: "arn:aws-cn:iam::111122223333:role/web"})
	if !associationIDPattern.MatchString(a.ID) {
		t.Errorf("ID = %q, want a- and 17 lower-case letters and digits", a.ID)
	}
	if want := "arn:aws-cn:eks:cn-north-1:111122223333:podidentityassociation/prod/" + a.ID; a.ARN != want {
		t.Errorf("ARN = %q, want %q", a.ARN, want)
	}
	if a.ExternalID != "" || a.CreatedAt.Before(before) || !a.ModifiedAt.Equal(a.CreatedAt) {
		t.Errorf("association = %+v", a)
	}
	x := fake.AddAssociation(fakeaws.Association{ClusterName: piCluster, Namespace: "shop", ServiceAccount: "batch",
		RoleARN: "arn:aws-cn:iam::111122223333:role/web", TargetRoleARN: "arn:aws-cn:iam::444455556666:role/data"})
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(x.ExternalID) {
		t.Errorf("ExternalID = %q, want a UUID", x.ExternalID)
	}
	// One association per service account: a second one replaces the first, in place.
	y := fake.AddAssociation(fakeaws.Association{ClusterName: piCluster, Namespace: "shop", ServiceAccount: "web", RoleARN: "arn:aws-cn:iam::111122223333:role/other"})
	got := fake.Associations()
	if len(got) != 2 || got[0].ID != y.ID || got[0].RoleARN != "arn:aws-cn:iam::111122223333:role/other" || got[1].ID != x.ID {
		t.Fatalf("Associations() = %+v", got)
	}
	if !fake.DeleteAssociation(y.ID) || fake.DeleteAssociation(y.ID) || len(fake.Associations()) != 1 {
		t.Fatalf("DeleteAssociation: %+v", fake.Associations())
	}
}

func TestOnAssociationsChanged(t *testing.T) {
	fake := fakeaws.New()
	var (
		mu   sync.Mutex
		seen [][]string
	)
	record := func(set []fakeaws.Association) {
		ids := []string{}
		for _, a := range set {
			ids = append(ids, a.Namespace+"/"+a.ServiceAccount)
		}
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, ids)
	}
	first := fake.AddAssociation(fakeaws.Association{ClusterName: piCluster, Namespace: "a", ServiceAccount: "x", RoleARN: "arn:aws:iam::123456789012:role/r"})
	stop := fake.OnAssociationsChanged(record)
	fake.AddAssociation(fakeaws.Association{ClusterName: piCluster, Namespace: "b", ServiceAccount: "y", RoleARN: "arn:aws:iam::123456789012:role/r"})
	fake.DeleteAssociation(first.ID)
	fake.DeleteAssociation("a-nothingnothing00") // nothing changed: no call
	stop()
	fake.AddAssociation(fakeaws.Association{ClusterName: piCluster, Namespace: "c", ServiceAccount: "z", RoleARN: "arn:aws:iam::123456789012:role/r"})
	mu.Lock()
	defer mu.Unlock()
	want := [][]string{{"a/x"}, {"a/x", "b/y"}, {"b/y"}}
	if len(seen) != len(want) {
		t.Fatalf("hook saw %v, want %v", seen, want)
	}
	for i := range want {
		if strings.Join(seen[i], ",") != strings.Join(want[i], ",") {
			t.Fatalf("hook saw %v, want %v", seen, want)
		}
	}
}

func addPIAssociations(fake *fakeaws.Server) []fakeaws.Association {
	fake.AddCluster(fakeaws.Cluster{Name: piCluster, ARN: piClusterARN})
	var out []fakeaws.Association
	for _, ns := range []string{"shop", "shop", "shop", "batch", "batch"} {
		out = append(out, fake.AddAssociation(fakeaws.Association{ClusterName: piCluster, Namespace: ns,
			ServiceAccount: "sa" + string(rune('0'+len(out))), RoleARN: "arn:aws:iam::123456789012:role/r"}))
	}
	// Another cluster's association never shows up in prod's list.
	fake.AddAssociation(fakeaws.Association{ClusterName: "staging", Namespace: "shop", ServiceAccount: "sa0", RoleARN: "arn:aws:iam::123456789012:role/r"})
	return out
}

func TestListPodIdentityAssociations(t *testing.T) {
	fake, cfg := start(t)
	want := addPIAssociations(fake)
	client := eks.NewFromConfig(cfg)

	// The paginator crosses the server's pages (DefaultPageSize) although it
	// asks for 100.
	var got []ekstypes.PodIdentityAssociationSummary
	pages := 0
	p := eks.NewListPodIdentityAssociationsPaginator(client, &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(piCluster), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, out.Associations...)
	}
	if pages != 3 || len(got) != len(want) {
		t.Fatalf("%d pages, %d associations, want 3 pages of %d", pages, len(got), len(want))
	}
	for i, a := range got {
		if aws.ToString(a.AssociationId) != want[i].ID || aws.ToString(a.AssociationArn) != want[i].ARN ||
			aws.ToString(a.ClusterName) != piCluster || aws.ToString(a.Namespace) != want[i].Namespace ||
			aws.ToString(a.ServiceAccount) != want[i].ServiceAccount || a.OwnerArn != nil {
			t.Errorf("summary %d = %+v, want %+v", i, a, want[i])
		}
	}

	// Filters, and maxResults smaller than the page size.
	out, err := client.ListPodIdentityAssociations(t.Context(), &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(piCluster), Namespace: aws.String("batch")})
	if err != nil || len(out.Associations) != 2 || out.NextToken != nil {
		t.Fatalf("namespace batch = %+v, %v", out, err)
	}
	out, err = client.ListPodIdentityAssociations(t.Context(), &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(piCluster),
		Namespace: aws.String("shop"), ServiceAccount: aws.String("sa1")})
	if err != nil || len(out.Associations) != 1 || aws.ToString(out.Associations[0].AssociationId) != want[1].ID {
		t.Fatalf("shop/sa1 = %+v, %v", out, err)
	}
	out, err = client.ListPodIdentityAssociations(t.Context(), &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(piCluster), MaxResults: aws.Int32(1)})
	if err != nil || len(out.Associations) != 1 || out.NextToken == nil {
		t.Fatalf("maxResults 1 = %+v, %v", out, err)
	}
	fake.SetPageSize(100)
	out, err = client.ListPodIdentityAssociations(t.Context(), &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(piCluster)})
	if err != nil || len(out.Associations) != 5 || out.NextToken != nil {
		t.Fatalf("one page of 100 = %+v, %v", out, err)
	}
	out, err = client.ListPodIdentityAssociations(t.Context(), &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(piCluster), Namespace: aws.String("none")})
	if err != nil || out.Associations == nil || len(out.Associations) != 0 {
		t.Fatalf("empty list = %+v, %v", out, err)
	}

	var rnf *ekstypes.ResourceNotFoundException
	_, err = client.ListPodIdentityAssociations(t.Context(), &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String("nope")})
	if !errors.As(err, &rnf) || aws.ToString(rnf.ClusterName) != "nope" {
		t.Fatalf("unknown cluster: %v", err)
	}
	var ipe *ekstypes.InvalidParameterException
	for _, n := range []int32{0, 101} {
		_, err = client.ListPodIdentityAssociations(t.Context(), &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(piCluster), MaxResults: aws.Int32(n)})
		if !errors.As(err, &ipe) {
			t.Fatalf("maxResults %d: %v, want InvalidParameterException", n, err)
		}
	}
	_, err = client.ListPodIdentityAssociations(t.Context(), &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(piCluster), NextToken: aws.String("bogus")})
	if !errors.As(err, &ipe) {
		t.Fatalf("bogus nextToken: %v, want InvalidParameterException", err)
	}
}

func TestDescribePodIdentityAssociation(t *testing.T) {
	fake, cfg := start(t)
	fake.AddCluster(fakeaws.Cluster{Name: piCluster, ARN: piClusterARN})
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	a := fake.AddAssociation(fakeaws.Association{ClusterName: piCluster, Namespace: "shop", ServiceAccount: "web",
		RoleARN: "arn:aws:iam::123456789012:role/web", TargetRoleARN: "arn:aws:iam::444455556666:role/data",
		OwnerARN: "arn:aws:eks:us-west-2:123456789012:addon/prod/aws-ebs-csi-driver/x", Policy: `{"Version":"2012-10-17"}`,
		DisableSessionTags: true, CreatedAt: created, Tags: map[string]string{"team": "shop"}})
	client := eks.NewFromConfig(cfg)
	out, err := client.DescribePodIdentityAssociation(t.Context(), &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String(piCluster), AssociationId: aws.String(a.ID)})
	if err != nil {
		t.Fatal(err)
	}
	got := out.Association
	if aws.ToString(got.AssociationId) != a.ID || aws.ToString(got.AssociationArn) != a.ARN || aws.ToString(got.RoleArn) != a.RoleARN ||
		aws.ToString(got.TargetRoleArn) != a.TargetRoleARN || aws.ToString(got.ExternalId) != a.ExternalID || a.ExternalID == "" ||
		aws.ToString(got.OwnerArn) != a.OwnerARN || aws.ToString(got.Policy) != a.Policy || !aws.ToBool(got.DisableSessionTags) ||
		!got.CreatedAt.Equal(created) || !got.ModifiedAt.Equal(created) || got.Tags["team"] != "shop" ||
		aws.ToString(got.Namespace) != "shop" || aws.ToString(got.ServiceAccount) != "web" || aws.ToString(got.ClusterName) != piCluster {
		t.Fatalf("association = %+v", got)
	}

	var rnf *ekstypes.ResourceNotFoundException
	if _, err := client.DescribePodIdentityAssociation(t.Context(), &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String(piCluster), AssociationId: aws.String("a-00000000000000000")}); !errors.As(err, &rnf) {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := client.DescribePodIdentityAssociation(t.Context(), &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String("staging"), AssociationId: aws.String(a.ID)}); !errors.As(err, &rnf) {
		t.Errorf("unknown cluster: %v", err)
	}
	var ipe *ekstypes.InvalidParameterException
	if _, err := client.DescribePodIdentityAssociation(t.Context(), &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String(piCluster), AssociationId: aws.String("a-short")}); !errors.As(err, &ipe) ||
		ipe.ErrorMessage() != "The parameter associationId should be 19 characters long." {
		t.Errorf("short id: %v", err)
	}
}

func TestPodIdentityAssociationFaults(t *testing.T) {
	fake, cfg := start(t)
	a := addPIAssociations(fake)[0]
	client := eks.NewFromConfig(cfg)
	ctx := t.Context()

	// Throttling is retried by the SDK: two throttles, third attempt answers.
	fake.Throttle("eks:ListPodIdentityAssociations", 2)
	if _, err := client.ListPodIdentityAssociations(ctx, &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(piCluster)}); err != nil {
		t.Fatalf("after two throttles: %v", err)
	}
	if n := fake.Count("eks:ListPodIdentityAssociations"); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}
	fake.Throttle("DescribePodIdentityAssociation", 3)
	_, err := client.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String(piCluster), AssociationId: aws.String(a.ID)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" {
		t.Fatalf("three throttles: %v", err)
	}

	fake.Fail("eks:DescribePodIdentityAssociation", piCluster, "AccessDeniedException", "", 0)
	var ade *ekstypes.AccessDeniedException
	_, err = client.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{ClusterName: aws.String(piCluster), AssociationId: aws.String(a.ID)})
	if !errors.As(err, &ade) || !strings.Contains(ade.ErrorMessage(), "eks:DescribePodIdentityAssociation") {
		t.Fatalf("injected AccessDenied: %v", err)
	}
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
		t.Errorf("status = %v, want 403", err)
	}
	// The fault names the cluster: another one still answers.
	if _, err := client.ListPodIdentityAssociations(ctx, &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(piCluster)}); err != nil {
		t.Errorf("List with a Describe fault: %v", err)
	}
	calls := fake.Calls()
	last := calls[len(calls)-1]
	if last.Service != "eks" || last.Op != "ListPodIdentityAssociations" || last.Resource != piCluster {
		t.Errorf("last call = %+v", last)
	}
}

func TestPodIdentityAssociationWireShape(t *testing.T) {
	fake, cfg := start(t)
	a := addPIAssociations(fake)[0]
	base := aws.ToString(cfg.BaseEndpoint)
	get := func(path string) (int, http.Header, string) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, http.NoBody)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-west-2/eks/aws4_request, SignedHeaders=host, Signature=00")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	status, _, body := get("/clusters/prod/pod-identity-associations/" + a.ID)
	// createdAt is a JSON number of epoch seconds, as EKS sends it.
	if status != 200 || !regexp.MustCompile(`"createdAt":\d{10},`).MatchString(body) || !strings.Contains(body, `"association":{"clusterName":"prod"`) {
		t.Errorf("describe answered %d %s", status, body)
	}
	status, h, body := get("/clusters/nope/pod-identity-associations")
	if status != 404 || h.Get("X-Amzn-Errortype") != "ResourceNotFoundException" || body != `{"clusterName":"nope","message":"No cluster found for name: nope."}` {
		t.Errorf("unknown cluster answered %d %v %s", status, h, body)
	}
}
