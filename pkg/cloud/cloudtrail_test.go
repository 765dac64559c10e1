package cloud

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

const (
	ctProvider = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC"
	ctRole     = "arn:aws:iam::111122223333:role/app"
)

// webIdentityRecord is an AssumeRoleWithWebIdentity record in the shape
// docs/behaviour.md#cloudtrail describes; errorCode "" is a success.
func webIdentityRecord(id, at, errorCode, errorMessage string) string {
	resp := `{"credentials":{"accessKeyId":"ASIAEXAMPLE","sessionToken":"never-read","expiration":"Nov 1, 2026, 2:00:00 PM"},` +
		`"subjectFromWebIdentityToken":"system:serviceaccount:shop:app","assumedRoleUser":{"assumedRoleId":"AROAEXAMPLE:botocore-session-1","arn":"arn:aws:sts::111122223333:assumed-role/app/botocore-session-1"},` +
		`"provider":"` + ctProvider + `","audience":"sts.amazonaws.com"}`
	errs := ""
	if errorCode != "" {
		resp = "null"
		errs = `"errorCode":"` + errorCode + `","errorMessage":"` + errorMessage + `",`
	}
	return `{"eventVersion":"1.08","userIdentity":{"type":"WebIdentityUser","principalId":"` + ctProvider + `:sts.amazonaws.com:system:serviceaccount:shop:app",` +
		`"userName":"system:serviceaccount:shop:app","identityProvider":"` + ctProvider + `"},"eventTime":"` + at + `","eventSource":"sts.amazonaws.com",` +
		`"eventName":"AssumeRoleWithWebIdentity","awsRegion":"us-west-2","sourceIPAddress":"203.0.113.7","userAgent":"Boto3/1.34.41 md/Botocore#1.34.41 ua/2.0 os/linux#5.10 lang/python#3.11.6",` +
		errs + `"requestParameters":{"roleArn":"` + ctRole + `","roleSessionName":"botocore-session-1"},"responseElements":` + resp + `,` +
		`"requestID":"r-1","eventID":"` + id + `","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333",` +
		`"tlsDetails":{"tlsVersion":"TLSv1.3","clientProvidedHostHeader":"sts.us-west-2.amazonaws.com"}}`
}

// podIdentityRecord is EKS Auth's record as CloudTrail keeps it:
// responseElements null, success or not.
func podIdentityRecord(id, at string, refused bool) string {
	errs := ""
	if refused {
		errs = `"errorCode":"AccessDenied","errorMessage":"Unauthorized Exception! EKS does not have permissions to assume the associated role.",`
	}
	return `{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROANODE:i-0abc","arn":"arn:aws:sts::111122223333:assumed-role/node/i-0abc"},` +
		`"eventTime":"` + at + `","eventSource":"eks-auth.amazonaws.com","eventName":"AssumeRoleForPodIdentity","awsRegion":"us-west-2","sourceIPAddress":"10.0.1.5",` +
		`"userAgent":"aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/eksauth#1.7.2",` + errs +
		`"requestParameters":{"clusterName":"prod","token":"HIDDEN_DUE_TO_SECURITY_REASONS"},"responseElements":null,"eventID":"` + id + `","readOnly":true,"eventType":"AwsApiCall"}`
}

// sessionRecord is EKS's sts:AssumeRole behind a Pod Identity exchange,
// invokedBy the service; invokedBy another caller is any AssumeRole.
func sessionRecord(id, at, invokedBy string) string {
	return `{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"` + invokedBy + `"},"eventTime":"` + at + `","eventSource":"sts.amazonaws.com",` +
		`"eventName":"AssumeRole","awsRegion":"us-west-2","sourceIPAddress":"pods.eks.amazonaws.com","userAgent":"pods.eks.amazonaws.com",` +
		`"requestParameters":{"roleArn":"arn:aws:iam::111122223333:role/pi-app","roleSessionName":"eks-prod-web-1","durationSeconds":21600,"tags":[` +
		`{"key":"eks-cluster-arn","value":"arn:aws:eks:us-west-2:111122223333:cluster/prod"},{"key":"eks-cluster-name","value":"prod"},` +
		`{"key":"kubernetes-namespace","value":"shop"},{"key":"kubernetes-service-account","value":"app"},{"key":"kubernetes-pod-name","value":"web-1"}]},` +
		`"responseElements":{"credentials":{"accessKeyId":"ASIAEXAMPLE","sessionToken":"never-read"},"assumedRoleUser":{"assumedRoleId":"AROAEXAMPLE:eks-prod-web-1","arn":"arn:aws:sts::111122223333:assumed-role/pi-app/eks-prod-web-1"}},` +
		`"eventID":"` + id + `","readOnly":true,"eventType":"AwsApiCall"}`
}

func ctEvent(doc string) cttypes.Event { return cttypes.Event{CloudTrailEvent: aws.String(doc)} }

func TestParseTrailEvent(t *testing.T) {
	t.Parallel()
	at := "2026-11-01T13:55:00Z"
	when, _ := time.Parse(time.RFC3339, at)
	tests := []struct {
		name string
		doc  string
		want facts.TrailEvent
	}{
		{"web identity success", webIdentityRecord("e-1", at, "", ""), facts.TrailEvent{ID: "e-1", Time: when, Region: "us-west-2", Name: facts.EventAssumeRoleWithWebIdentity,
			Namespace: "shop", ServiceAccount: "app", Provider: ctProvider, Audience: "sts.amazonaws.com", RoleARN: ctRole,
			AssumedRoleARN: "arn:aws:sts::111122223333:assumed-role/app/botocore-session-1", UserAgent: "Boto3/1.34.41 md/Botocore#1.34.41 ua/2.0 os/linux#5.10 lang/python#3.11.6",
			SourceIP: "203.0.113.7", Host: "sts.us-west-2.amazonaws.com"}},
		{"web identity failure keeps the audience from principalId", webIdentityRecord("e-2", at, "InvalidIdentityToken", "Incorrect token audience"), facts.TrailEvent{ID: "e-2", Time: when,
			Region: "us-west-2", Name: facts.EventAssumeRoleWithWebIdentity, Namespace: "shop", ServiceAccount: "app", Provider: ctProvider, Audience: "sts.amazonaws.com",
			RoleARN: ctRole, ErrorCode: "InvalidIdentityToken", ErrorMessage: "Incorrect token audience",
			UserAgent: "Boto3/1.34.41 md/Botocore#1.34.41 ua/2.0 os/linux#5.10 lang/python#3.11.6", SourceIP: "203.0.113.7", Host: "sts.us-west-2.amazonaws.com"}},
		{"EKS Auth's record names only the cluster", podIdentityRecord("p-1", at, false), facts.TrailEvent{ID: "p-1", Time: when, Region: "us-west-2", Name: facts.EventAssumeRoleForPodIdentity,
			Cluster: "prod", UserAgent: "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/eksauth#1.7.2", SourceIP: "10.0.1.5"}},
		{"an EKS Auth refusal", podIdentityRecord("p-2", at, true), facts.TrailEvent{ID: "p-2", Time: when, Region: "us-west-2", Name: facts.EventAssumeRoleForPodIdentity,
			Cluster: "prod", ErrorCode: "AccessDenied", ErrorMessage: "Unauthorized Exception! EKS does not have permissions to assume the associated role.",
			UserAgent: "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/eksauth#1.7.2", SourceIP: "10.0.1.5"}},
		{"EKS's AssumeRole names the service account in its session tags", sessionRecord("s-1", at, "pods.eks.amazonaws.com"), facts.TrailEvent{ID: "s-1", Time: when,
			Region: "us-west-2", Name: facts.EventAssumeRole, Cluster: "prod", Namespace: "shop", ServiceAccount: "app", RoleARN: "arn:aws:iam::111122223333:role/pi-app",
			AssumedRoleARN: "arn:aws:sts::111122223333:assumed-role/pi-app/eks-prod-web-1", UserAgent: "pods.eks.amazonaws.com", SourceIP: "pods.eks.amazonaws.com"}},
		{"any other AssumeRole keeps no cluster", sessionRecord("s-2", at, "ec2.amazonaws.com"), facts.TrailEvent{ID: "s-2", Time: when,
			Region: "us-west-2", Name: facts.EventAssumeRole, RoleARN: "arn:aws:iam::111122223333:role/pi-app",
			UserAgent: "pods.eks.amazonaws.com", SourceIP: "pods.eks.amazonaws.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseTrailEvent(ctEvent(tt.doc), "us-east-1")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseTrailEventRejectsBrokenRecords(t *testing.T) {
	t.Parallel()
	full := webIdentityRecord("e-1", "2026-11-01T13:55:00Z", "", "")
	for name, doc := range map[string]string{
		"empty":     "",
		"truncated": full[:len(full)/2],
		"not json":  "<Event/>",
		"no id":     strings.Replace(full, `"eventID":"e-1"`, `"eventID":""`, 1),
		"bad time":  strings.Replace(full, "2026-11-01T13:55:00Z", "yesterday", 1),
	} {
		if _, err := ParseTrailEvent(ctEvent(doc), "us-west-2"); err == nil {
			t.Errorf("%s: parsed, want an error", name)
		}
	}
}

// fakeTrail answers LookupEvents from a list of records per region,
// newest first, 50 (or MaxResults) a page; it counts calls.
type fakeTrail struct {
	mu      sync.Mutex
	records map[string][]string
	calls   map[string]int
	fail    map[string]error
}

func (f *fakeTrail) client(region string) TrailAPI { return fakeTrailRegion{f, region} }

type fakeTrailRegion struct {
	f      *fakeTrail
	region string
}

func (r fakeTrailRegion) LookupEvents(_ context.Context, in *cloudtrail.LookupEventsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	r.f.calls[r.region]++
	if err := r.f.fail[r.region]; err != nil {
		return nil, err
	}
	if len(in.LookupAttributes) != 1 || in.LookupAttributes[0].AttributeKey != cttypes.LookupAttributeKeyEventName || in.StartTime == nil || in.EndTime == nil {
		return nil, fmt.Errorf("unexpected lookup %+v", in)
	}
	start := 0
	if in.NextToken != nil {
		_, _ = fmt.Sscanf(*in.NextToken, "%d", &start)
	}
	all := r.f.records[r.region]
	n := int(aws.ToInt32(in.MaxResults))
	if n <= 0 || n > TrailPageSize {
		return nil, errors.New("MaxResults out of range")
	}
	end := min(start+n, len(all))
	out := &cloudtrail.LookupEventsOutput{}
	for _, doc := range all[start:end] {
		out.Events = append(out.Events, ctEvent(doc))
	}
	if end < len(all) {
		out.NextToken = aws.String(fmt.Sprint(end))
	}
	return out, nil
}

func newFakeTrail() *fakeTrail {
	return &fakeTrail{records: map[string][]string{}, calls: map[string]int{}, fail: map[string]error{}}
}

// records makes n records, newest first, ids prefix-0..n-1.
func records(prefix string, n int) []string {
	out := make([]string, n)
	t0 := time.Date(2026, 11, 1, 13, 59, 0, 0, time.UTC)
	for i := range out {
		out[i] = webIdentityRecord(fmt.Sprintf("%s-%03d", prefix, i), t0.Add(-time.Duration(i)*time.Second).Format(time.RFC3339), "", "")
	}
	return out
}

func TestReadTrailPagesWithinTheBound(t *testing.T) {
	t.Parallel()
	ft := newFakeTrail()
	ft.records["us-west-2"] = records("w", 120)
	// The global endpoint's copy of the same events: deduplicated by id.
	ft.records["us-east-1"] = append(records("w", 3), "{broken")
	c := &Collector{CloudTrail: ft.client, TrailRate: 1000}
	until := time.Date(2026, 11, 1, 14, 0, 0, 0, time.UTC)
	in := TrailInput{Since: until.Add(-time.Hour), Until: until, MaxEvents: 100, Lookups: []TrailLookupSpec{
		{Region: "us-east-1", EventName: facts.EventAssumeRoleWithWebIdentity}, {Region: "us-west-2", EventName: facts.EventAssumeRoleWithWebIdentity}}}
	got := c.ReadTrail(context.Background(), in)
	if ft.calls["us-west-2"] != 2 || ft.calls["us-east-1"] != 1 {
		t.Errorf("calls %v, want 2 in us-west-2 (100 of 120 events, 50 a page) and 1 in us-east-1", ft.calls)
	}
	west := got.Lookups[1]
	if west.Pages != 2 || west.Events != 100 || !west.Truncated || !west.Oldest.Equal(until.Add(-time.Minute-99*time.Second)) {
		t.Errorf("us-west-2 lookup %+v, want 2 pages, 100 events, truncated back to the 100th", west)
	}
	if east := got.Lookups[0]; east.Truncated || east.Pages != 1 || east.Events != 4 {
		t.Errorf("us-east-1 lookup %+v, want 1 complete page of 4", east)
	}
	if len(got.Events) != 100 || got.Malformed != 1 {
		t.Errorf("kept %d events and %d malformed, want 100 distinct and 1", len(got.Events), got.Malformed)
	}
	for i := 1; i < len(got.Events); i++ {
		if got.Events[i].Time.Before(got.Events[i-1].Time) {
			t.Fatalf("events not oldest first at %d", i)
		}
	}
}

func TestReadTrailKeepsAndCounts(t *testing.T) {
	t.Parallel()
	ft := newFakeTrail()
	ft.records["us-west-2"] = records("w", 10)
	c := &Collector{CloudTrail: ft.client, TrailRate: 1000}
	in := TrailInput{Since: time.Unix(0, 0), Until: time.Now(), MaxEvents: 2000, Lookups: []TrailLookupSpec{{Region: "us-west-2", EventName: facts.EventAssumeRoleWithWebIdentity}},
		Keep: func(e facts.TrailEvent) bool { return e.ID < "w-004" }}
	got := c.ReadTrail(context.Background(), in)
	if len(got.Events) != 4 || got.OtherClusters != 6 {
		t.Errorf("kept %d, others %d; want 4 and 6", len(got.Events), got.OtherClusters)
	}
}

func TestReadTrailFailureIsAFact(t *testing.T) {
	t.Parallel()
	ft := newFakeTrail()
	ft.records["us-west-2"] = records("w", 3)
	ft.fail["us-east-1"] = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: arn:aws:iam::111122223333:user/dev is not authorized to perform: cloudtrail:LookupEvents"}
	c := &Collector{CloudTrail: ft.client, TrailRate: 1000}
	in := TrailInput{Since: time.Unix(0, 0), Until: time.Now(), MaxEvents: 2000, Lookups: []TrailLookupSpec{
		{Region: "us-east-1", EventName: facts.EventAssumeRoleWithWebIdentity}, {Region: "us-west-2", EventName: facts.EventAssumeRoleWithWebIdentity}}}
	got := c.ReadTrail(context.Background(), in)
	e := got.Lookups[0].Err
	if e == nil || e.Code != facts.ErrAccessDenied || e.Op != OpLookupEvents || !strings.Contains(e.Resource, "us-east-1") {
		t.Errorf("us-east-1 error %+v, want AccessDenied for cloudtrail:LookupEvents", e)
	}
	if got.Lookups[1].Err != nil || len(got.Events) != 3 {
		t.Errorf("us-west-2 %+v with %d events; want it read in full", got.Lookups[1], len(got.Events))
	}
}

// TestReadTrailPacesEachRegion: the limiter holds each region to the
// configured rate; regions do not wait for each other.
func TestReadTrailPacesEachRegion(t *testing.T) {
	t.Parallel()
	ft := newFakeTrail()
	ft.records["us-west-2"] = records("w", 150) // 3 pages
	ft.records["us-east-1"] = records("e", 150)
	c := &Collector{CloudTrail: ft.client, TrailRate: 20}
	in := TrailInput{Since: time.Unix(0, 0), Until: time.Now(), MaxEvents: 2000, Lookups: []TrailLookupSpec{
		{Region: "us-east-1", EventName: facts.EventAssumeRoleWithWebIdentity}, {Region: "us-west-2", EventName: facts.EventAssumeRoleWithWebIdentity}}}
	start := time.Now()
	c.ReadTrail(context.Background(), in)
	// 3 calls a region at 20/s with a burst of 1: two waits of 50 ms.
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Errorf("3 pages a region took %s at 20 calls/s; the limiter does not pace", d)
	}
}

func TestProviderHostPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		ctProvider: "oidc.eks.us-west-2.amazonaws.com/id/ABC",
		"https://oidc.eks.us-west-2.amazonaws.com/id/ABC/": "oidc.eks.us-west-2.amazonaws.com/id/ABC",
		"oidc.eks.us-west-2.amazonaws.com/id/ABC":          "oidc.eks.us-west-2.amazonaws.com/id/ABC",
	} {
		if got := ProviderHostPath(in); got != want {
			t.Errorf("ProviderHostPath(%q) = %q, want %q", in, got, want)
		}
	}
}
