package fakeaws_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/jwstest"
)

// trailClient is the real CloudTrail client on the fake; region picks the
// credential scope, so the region the fake files the call under.
// HostClient("") keeps the Host and guards request bodies, so that a quick
// answer does not close the connection under the SDK (docs/design.md).
func trailClient(cfg aws.Config, region string, optFns ...func(*cloudtrail.Options)) *cloudtrail.Client {
	return cloudtrail.NewFromConfig(cfg, append([]func(*cloudtrail.Options){func(o *cloudtrail.Options) {
		o.Region = region
		o.HTTPClient = fakeaws.HostClient("")
	}}, optFns...)...)
}

func noRetries(o *cloudtrail.Options) { o.Retryer = aws.NopRetryer{} }

// addEvents adds n web identity events a second apart, the newest at base.
func addEvents(fake *fakeaws.Server, acct, region string, n int, base time.Time) {
	for i := range n {
		fake.AddTrailEvent(fakeaws.WebIdentityTrailEvent(fakeaws.WebIdentityCall{
			Account: acct, Region: region, Time: base.Add(-time.Duration(i) * time.Second),
			ProviderARN: "arn:aws:iam::" + acct + ":oidc-provider/oidc.example", Audience: "sts.amazonaws.com",
			Subject: fmt.Sprintf("system:serviceaccount:shop:sa-%d", i), RoleARN: "arn:aws:iam::" + acct + ":role/app",
			RoleSessionName: "s", UserAgent: "aws-sdk-go-v2/1.30.0",
		}))
	}
}

func errCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an API error, got %v", err)
	}
	return ae.ErrorCode()
}

func TestLookupEventsPagingAndOrder(t *testing.T) {
	fake, cfg := start(t)
	fake.SetLookupEventsRate(0, 1)
	now := time.Now().UTC().Truncate(time.Second)
	addEvents(fake, fakeaws.DefaultAccount, "us-west-2", 120, now)
	client := trailClient(cfg, "us-west-2")
	ctx := context.Background()

	var sizes []int
	var last time.Time
	seen := map[string]bool{}
	p := cloudtrail.NewLookupEventsPaginator(client, &cloudtrail.LookupEventsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(page.Events))
		for _, ev := range page.Events {
			if !last.IsZero() && aws.ToTime(ev.EventTime).After(last) {
				t.Fatalf("not newest first: %v after %v", ev.EventTime, last)
			}
			last = aws.ToTime(ev.EventTime)
			if seen[aws.ToString(ev.EventId)] {
				t.Fatalf("event %s twice", aws.ToString(ev.EventId))
			}
			seen[aws.ToString(ev.EventId)] = true
		}
	}
	if fmt.Sprint(sizes) != "[50 50 20]" {
		t.Fatalf("pages %v, want [50 50 20]", sizes)
	}
	if fake.Count("cloudtrail:LookupEvents") != 3 {
		t.Fatalf("%d calls", fake.Count("cloudtrail:LookupEvents"))
	}

	// MaxResults and a NextToken with other parameters.
	out, err := client.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(7)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 7 || out.NextToken == nil {
		t.Fatalf("MaxResults 7: %d events, token %v, %v", len(out.Events), out.NextToken, err)
	}
	first := out.Events[0]
	if !aws.ToTime(first.EventTime).Equal(now) || aws.ToString(first.Username) != "system:serviceaccount:shop:sa-0" {
		t.Fatalf("newest first: %v %s", first.EventTime, aws.ToString(first.Username))
	}
	_, err = client.LookupEvents(ctx, &cloudtrail.LookupEventsInput{NextToken: out.NextToken,
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("AssumeRoleWithWebIdentity")}}})
	if errCode(t, err) != "InvalidNextTokenException" {
		t.Fatalf("token reused with another query: %v", err)
	}
}

func TestLookupEventsFilters(t *testing.T) {
	fake, cfg := start(t)
	fake.SetLookupEventsRate(0, 1)
	now := time.Now().UTC().Truncate(time.Second)
	addEvents(fake, fakeaws.DefaultAccount, "us-west-2", 5, now)
	fake.AddTrailEvent(fakeaws.PodIdentityTrailEvent(fakeaws.PodIdentityCall{
		Region: "us-west-2", Time: now.Add(-2 * time.Second), ClusterName: "prod",
		CallerARN:         "arn:aws:sts::" + fakeaws.DefaultAccount + ":assumed-role/node/i-0abc",
		CallerAccessKeyID: "ASIANODE", UserAgent: "eks-pod-identity-agent",
	}))
	// Older than Event history's 90 days: never returned.
	addEvents(fake, fakeaws.DefaultAccount, "us-west-2", 1, now.Add(-91*24*time.Hour))
	client := trailClient(cfg, "us-west-2")
	ctx := context.Background()

	lookup := func(t *testing.T, in *cloudtrail.LookupEventsInput) []cttypes.Event {
		t.Helper()
		out, err := client.LookupEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return out.Events
	}
	attr := func(k cttypes.LookupAttributeKey, v string) *cloudtrail.LookupEventsInput {
		return &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: k, AttributeValue: aws.String(v)}}}
	}
	tests := []struct {
		name string
		in   *cloudtrail.LookupEventsInput
		want int
	}{
		{"all within 90 days", &cloudtrail.LookupEventsInput{}, 6},
		{"EventName web identity", attr(cttypes.LookupAttributeKeyEventName, "AssumeRoleWithWebIdentity"), 5},
		{"EventName pod identity", attr(cttypes.LookupAttributeKeyEventName, "AssumeRoleForPodIdentity"), 1},
		{"Username is the sub", attr(cttypes.LookupAttributeKeyUsername, "system:serviceaccount:shop:sa-3"), 1},
		{"Username is the node session", attr(cttypes.LookupAttributeKeyUsername, "i-0abc"), 1},
		{"EventSource", attr(cttypes.LookupAttributeKeyEventSource, "eks-auth.amazonaws.com"), 1},
		{"ResourceType", attr(cttypes.LookupAttributeKeyResourceType, "AWS::IAM::Role"), 5},
		{"ResourceName", attr(cttypes.LookupAttributeKeyResourceName, "prod"), 1},
		{"ReadOnly", attr(cttypes.LookupAttributeKeyReadOnly, "true"), 6},
		{"AccessKeyId", attr(cttypes.LookupAttributeKeyAccessKeyId, "ASIANODE"), 1},
		{"time range", &cloudtrail.LookupEventsInput{StartTime: aws.Time(now.Add(-3 * time.Second)), EndTime: aws.Time(now.Add(-time.Second))}, 4},
		{"start only", &cloudtrail.LookupEventsInput{StartTime: aws.Time(now.Add(-1 * time.Second))}, 2},
		{"insights are not modelled", &cloudtrail.LookupEventsInput{EventCategory: cttypes.EventCategoryInsight}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lookup(t, tt.in); len(got) != tt.want {
				t.Fatalf("%d events, want %d", len(got), tt.want)
			}
		})
	}
	id := fake.TrailEvents(fakeaws.DefaultAccount, "us-west-2")[0].EventID
	if got := lookup(t, attr(cttypes.LookupAttributeKeyEventId, id)); len(got) != 1 || aws.ToString(got[0].EventId) != id {
		t.Fatalf("EventId lookup: %v", got)
	}
	pod := lookup(t, attr(cttypes.LookupAttributeKeyEventName, "AssumeRoleForPodIdentity"))[0]
	if aws.ToString(pod.ReadOnly) != "true" || aws.ToString(pod.AccessKeyId) != "ASIANODE" || len(pod.Resources) != 1 ||
		aws.ToString(pod.Resources[0].ResourceType) != "AWS::EKS::Cluster" || aws.ToString(pod.Resources[0].ResourceName) != "prod" {
		t.Fatalf("pod identity lookup fields: %+v", pod)
	}
}

func TestLookupEventsIsolation(t *testing.T) {
	fake, cfg := start(t)
	fake.SetLookupEventsRate(0, 1)
	now := time.Now()
	addEvents(fake, fakeaws.DefaultAccount, "us-west-2", 3, now)
	addEvents(fake, fakeaws.DefaultAccount, "us-east-1", 2, now)
	addEvents(fake, "444455556666", "us-west-2", 4, now)
	ctx := context.Background()
	count := func(region string) int {
		out, err := trailClient(cfg, region).LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Events)
	}
	if w, e, c := count("us-west-2"), count("us-east-1"), count("eu-central-1"); w != 3 || e != 2 || c != 0 {
		t.Fatalf("per region: us-west-2 %d, us-east-1 %d, eu-central-1 %d", w, e, c)
	}
	fake.SetCaller(fakeaws.Caller{ARN: "arn:aws:iam::444455556666:user/other"})
	if got := count("us-west-2"); got != 4 {
		t.Fatalf("other account sees %d", got)
	}
	if n := len(fake.TrailEvents("444455556666", "us-west-2")); n != 4 {
		t.Fatalf("TrailEvents: %d", n)
	}
	calls := fake.Calls()
	if c := calls[len(calls)-1]; c.Service != "cloudtrail" || c.Op != "LookupEvents" || c.Resource != "us-west-2" {
		t.Fatalf("call log: %+v", c)
	}
}

func TestLookupEventsValidation(t *testing.T) {
	fake, cfg := start(t)
	fake.SetLookupEventsRate(0, 1)
	client := trailClient(cfg, "us-west-2", noRetries)
	ctx := context.Background()
	now := time.Now()
	two := []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("a")},
		{AttributeKey: cttypes.LookupAttributeKeyUsername, AttributeValue: aws.String("b")},
	}
	tests := []struct {
		name string
		in   *cloudtrail.LookupEventsInput
		code string
	}{
		{"MaxResults over 50", &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}, "InvalidMaxResultsException"},
		{"MaxResults 0", &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(0)}, "InvalidMaxResultsException"},
		{"two attributes", &cloudtrail.LookupEventsInput{LookupAttributes: two}, "InvalidLookupAttributesException"},
		{"unknown attribute key", &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: "Region", AttributeValue: aws.String("x")}}}, "InvalidLookupAttributesException"},
		{"bad NextToken", &cloudtrail.LookupEventsInput{NextToken: aws.String("not-a-token")}, "InvalidNextTokenException"},
		{"StartTime after EndTime", &cloudtrail.LookupEventsInput{StartTime: aws.Time(now), EndTime: aws.Time(now.Add(-time.Hour))}, "InvalidTimeRangeException"},
		{"unknown event category", &cloudtrail.LookupEventsInput{EventCategory: "management"}, "InvalidEventCategoryException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.LookupEvents(ctx, tt.in)
			if got := errCode(t, err); got != tt.code {
				t.Fatalf("code %s, want %s (%v)", got, tt.code, err)
			}
			var re interface{ HTTPStatusCode() int }
			if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
				t.Fatalf("status: %v", err)
			}
		})
	}
	// The modelled exceptions come back as the SDK's types.
	_, err := client.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)})
	var mr *cttypes.InvalidMaxResultsException
	if !errors.As(err, &mr) {
		t.Fatalf("not an InvalidMaxResultsException: %T", err)
	}
}

func TestLookupEventsThrottling(t *testing.T) {
	fake, cfg := start(t)
	// A still clock: the three calls are immediate however slow the machine.
	var nanos atomic.Int64
	nanos.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, nanos.Load()) }
	fake.SetTrailClock(clock)
	ctx := context.Background()
	client := trailClient(cfg, "us-west-2", noRetries)
	var codes []string
	for range 3 {
		_, err := client.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
		if err == nil {
			codes = append(codes, "ok")
			continue
		}
		codes = append(codes, errCode(t, err))
		var re interface{ HTTPStatusCode() int }
		if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
			t.Fatalf("throttle status: %v", err)
		}
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorMessage() != "Rate exceeded" {
			t.Fatalf("message %q", ae.ErrorMessage())
		}
	}
	if fmt.Sprint(codes) != "[ok ok ThrottlingException]" {
		t.Fatalf("three immediate calls: %v", codes)
	}
	// The bucket is per account and region.
	if _, err := trailClient(cfg, "us-east-1", noRetries).LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
		t.Fatalf("another region is not throttled: %v", err)
	}
	// SetTrailClock refills the buckets; a token is back after half a
	// second at 2 a second.
	fake.SetTrailClock(clock)
	for i := range 2 {
		if _, err := client.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
			t.Fatalf("call %d after a reset: %v", i, err)
		}
	}
	if _, err := client.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); errCode(t, err) != "ThrottlingException" {
		t.Fatalf("want throttling, got %v", err)
	}
	nanos.Add(int64(500 * time.Millisecond))
	if _, err := client.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
		t.Fatalf("after 500ms: %v", err)
	}
	// The SDK's standard retryer retries ThrottlingException.
	fake.SetLookupEventsRate(0, 1)
	fake.Throttle("LookupEvents", 2)
	if _, err := trailClient(cfg, "us-west-2").LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
		t.Fatalf("retried past two injected throttles: %v", err)
	}
}

func TestLookupEventsInjection(t *testing.T) {
	fake, cfg := start(t)
	fake.SetLookupEventsRate(0, 1)
	ctx := context.Background()
	client := trailClient(cfg, "us-west-2", noRetries)
	fake.Fail("LookupEvents", "us-east-1", "AccessDeniedException", "", 0)
	if _, err := client.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
		t.Fatalf("fault scoped to us-east-1 hit us-west-2: %v", err)
	}
	_, err := trailClient(cfg, "us-east-1", noRetries).LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
	if errCode(t, err) != "AccessDeniedException" {
		t.Fatalf("want AccessDeniedException, got %v", err)
	}
	fake.ClearFaults()
	fake.Latency(50 * time.Millisecond)
	tctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := client.LookupEvents(tctx, &cloudtrail.LookupEventsInput{}); err == nil {
		t.Fatal("latency did not apply")
	}
}

func TestLookupEventsWire(t *testing.T) {
	fake, cfg := start(t)
	fake.SetLookupEventsRate(0, 1)
	fake.AddTrailEvent(fakeaws.TrailEvent{Account: fakeaws.DefaultAccount, Region: fakeaws.Region, EventName: "AssumeRoleWithWebIdentity",
		Username: "u", Payload: `{"eventVersion":"1.08","userIdentity":{`})
	url := fakeaws.Serve(t, fake)
	post := func(target, auth, body string) (*http.Response, string) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url+"/", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", target)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	auth := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/" + fakeaws.Region + "/cloudtrail/aws4_request, SignedHeaders=host, Signature=abc"
	resp, body := post("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents", auth, `{"MaxResults":51}`)
	if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" ||
		!strings.HasPrefix(body, `{"Message":`) || !strings.Contains(body, `"__type":"InvalidMaxResultsException"`) {
		t.Fatalf("error wire: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = post("CloudTrail_20131101.LookupEvents", "", `{}`)
	if resp.StatusCode != 400 || !strings.Contains(body, "MissingAuthenticationTokenException") {
		t.Fatalf("unsigned: %d %s", resp.StatusCode, body)
	}
	// A truncated payload is passed through as the string it is.
	out, err := trailClient(cfg, fakeaws.Region).LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{})
	if err != nil || len(out.Events) != 1 || aws.ToString(out.Events[0].CloudTrailEvent) != `{"eventVersion":"1.08","userIdentity":{` {
		t.Fatalf("truncated payload: %+v %v", out, err)
	}
}

// webIdentityEvent is the documented shape of an AssumeRoleWithWebIdentity
// event, as the lead's reader parses it.
type webIdentityEvent struct {
	EventVersion string `json:"eventVersion"`
	UserIdentity struct {
		Type             string `json:"type"`
		PrincipalID      string `json:"principalId"`
		UserName         string `json:"userName"`
		IdentityProvider string `json:"identityProvider"`
	} `json:"userIdentity"`
	EventTime         string `json:"eventTime"`
	EventSource       string `json:"eventSource"`
	EventName         string `json:"eventName"`
	AWSRegion         string `json:"awsRegion"`
	SourceIPAddress   string `json:"sourceIPAddress"`
	UserAgent         string `json:"userAgent"`
	ErrorCode         string `json:"errorCode"`
	ErrorMessage      string `json:"errorMessage"`
	RequestParameters struct {
		RoleARN         string `json:"roleArn"`
		RoleSessionName string `json:"roleSessionName"`
		DurationSeconds int    `json:"durationSeconds"`
	} `json:"requestParameters"`
	ResponseElements *struct {
		Credentials struct {
			AccessKeyID string `json:"accessKeyId"`
			Expiration  string `json:"expiration"`
		} `json:"credentials"`
		SubjectFromWebIdentityToken string `json:"subjectFromWebIdentityToken"`
		AssumedRoleUser             struct {
			AssumedRoleID string `json:"assumedRoleId"`
			ARN           string `json:"arn"`
		} `json:"assumedRoleUser"`
		Provider string `json:"provider"`
		Audience string `json:"audience"`
	} `json:"responseElements"`
	RequestID string `json:"requestID"`
	EventID   string `json:"eventID"`
	ReadOnly  bool   `json:"readOnly"`
	Resources []struct {
		ARN       string `json:"ARN"`
		AccountID string `json:"accountId"`
		Type      string `json:"type"`
	} `json:"resources"`
	EventType          string `json:"eventType"`
	ManagementEvent    bool   `json:"managementEvent"`
	RecipientAccountID string `json:"recipientAccountId"`
	EventCategory      string `json:"eventCategory"`
	TLSDetails         struct {
		ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
	} `json:"tlsDetails"`
}

func TestSTSRecordsWebIdentityEvents(t *testing.T) {
	p := newIDP(t)
	fake, cfg := start(t)
	fake.SetLookupEventsRate(0, 1)
	providerARN := "arn:aws:iam::" + webAcct + ":oidc-provider/" + p.host()
	fake.AddProvider(fakeaws.Provider{ARN: providerARN, URL: p.srv.URL, ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{p.thumbprint}})
	fake.AddRole(fakeaws.Role{ARN: webRole, TrustPolicy: trustFor(p, webAcct, exactCond(p, "system:serviceaccount:shop:app"))})
	ctx := context.Background()
	assume := func(client *sts.Client, role, token string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		return client.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(role), RoleSessionName: aws.String("botocore-session-1"), WebIdentityToken: aws.String(token),
			DurationSeconds: aws.Int32(900),
		})
	}
	// Unsigned, as pods' SDKs call it (no credentials).
	regional := sts.New(sts.Options{Region: "us-west-2", BaseEndpoint: cfg.BaseEndpoint, Retryer: aws.NopRetryer{},
		HTTPClient: fakeaws.HostClient("")})
	global := sts.New(sts.Options{Region: "us-west-2", BaseEndpoint: cfg.BaseEndpoint, Retryer: aws.NopRetryer{},
		HTTPClient: fakeaws.HostClient("sts.amazonaws.com")})

	good := p.sign(t, p.kid, p.key, nil)
	out, err := assume(regional, webRole, good)
	if err != nil {
		t.Fatal(err)
	}
	ua := fake.Calls()[0].UserAgent
	reqID, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	secret, session := aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken)
	// A refusal (the trust names another namespace), through the global endpoint.
	denied := p.sign(t, p.kid, p.key, map[string]any{"sub": "system:serviceaccount:batch:job"})
	if _, err := assume(global, webRole, denied); errCode(t, err) != "AccessDenied" {
		t.Fatalf("want AccessDenied, got %v", err)
	}
	// Expired, and not a JWT at all (not logged).
	expired := p.sign(t, p.kid, p.key, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})
	if _, err := assume(regional, webRole, expired); errCode(t, err) != "ExpiredTokenException" {
		t.Fatalf("want ExpiredTokenException, got %v", err)
	}
	if _, err := assume(regional, webRole, "not-a-jwt"); errCode(t, err) != "InvalidIdentityToken" {
		t.Fatalf("want InvalidIdentityToken, got %v", err)
	}
	// An injected fault is logged like a real one.
	fake.Fail("AssumeRoleWithWebIdentity", "", "IDPCommunicationError", "idp down", 0)
	if _, err := assume(regional, webRole, good); errCode(t, err) != "IDPCommunicationError" {
		t.Fatalf("want IDPCommunicationError, got %v", err)
	}
	fake.ClearFaults()

	west := fake.TrailEvents(webAcct, "us-west-2")
	east := fake.TrailEvents(webAcct, "us-east-1")
	if len(west) != 3 || len(east) != 1 {
		t.Fatalf("events: us-west-2 %d (want 3), us-east-1 %d (want 1)", len(west), len(east))
	}
	if n := len(fake.TrailEvents(fakeaws.DefaultAccount, "us-west-2")); n != 0 {
		t.Fatalf("%d events in the caller's account; they belong to the role's", n)
	}
	for _, ev := range append(west, east...) {
		for _, leak := range []string{good, denied, expired, secret, session, "fakeaws-secret-", "fakeaws-session-"} {
			if strings.Contains(ev.Payload, leak) {
				t.Fatalf("payload leaks a token or secret: %s", ev.Payload)
			}
		}
	}

	// Read back through LookupEvents, as the lead's reader will.
	ct := trailClient(aws.Config{Region: "us-west-2", Credentials: cfg.Credentials, BaseEndpoint: cfg.BaseEndpoint, Retryer: cfg.Retryer}, "us-west-2")
	fake.SetCaller(fakeaws.Caller{ARN: "arn:aws:iam::" + webAcct + ":user/auditor"})
	res, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{
		AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("AssumeRoleWithWebIdentity")}}})
	if err != nil || len(res.Events) != 3 {
		t.Fatalf("lookup: %v, %v", res, err)
	}
	byCode := map[string]webIdentityEvent{}
	for _, e := range res.Events {
		var ev webIdentityEvent
		if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &ev); err != nil {
			t.Fatalf("CloudTrailEvent is not JSON: %v", err)
		}
		byCode[ev.ErrorCode] = ev
		if aws.ToString(e.Username) != ev.UserIdentity.UserName || aws.ToString(e.EventSource) != "sts.amazonaws.com" ||
			aws.ToString(e.ReadOnly) != "true" || aws.ToString(e.Resources[0].ResourceName) != webRole {
			t.Fatalf("lookup fields: %+v", e)
		}
	}
	ok := byCode[""]
	switch {
	case ok.EventVersion != "1.08", ok.UserIdentity.Type != "WebIdentityUser",
		ok.UserIdentity.PrincipalID != providerARN+":sts.amazonaws.com:system:serviceaccount:shop:app",
		ok.UserIdentity.UserName != "system:serviceaccount:shop:app", ok.UserIdentity.IdentityProvider != providerARN,
		ok.EventSource != "sts.amazonaws.com", ok.EventName != "AssumeRoleWithWebIdentity", ok.AWSRegion != "us-west-2",
		ok.SourceIPAddress != "127.0.0.1", ok.UserAgent != ua,
		ok.RequestParameters.RoleARN != webRole, ok.RequestParameters.RoleSessionName != "botocore-session-1", ok.RequestParameters.DurationSeconds != 900,
		ok.ResponseElements == nil, ok.ReadOnly != true, len(ok.Resources) != 1, ok.Resources[0].Type != "AWS::IAM::Role",
		ok.Resources[0].AccountID != webAcct, ok.EventType != "AwsApiCall", !ok.ManagementEvent, ok.RecipientAccountID != webAcct,
		ok.EventCategory != "Management", !strings.HasPrefix(ok.TLSDetails.ClientProvidedHostHeader, "127.0.0.1:"):
		t.Fatalf("success event: %+v", ok)
	}
	if _, err := time.Parse(time.RFC3339, ok.EventTime); err != nil || !strings.HasSuffix(ok.EventTime, "Z") {
		t.Fatalf("eventTime %q", ok.EventTime)
	}
	re := ok.ResponseElements
	if re.Credentials.AccessKeyID != aws.ToString(out.Credentials.AccessKeyId) || re.SubjectFromWebIdentityToken != "system:serviceaccount:shop:app" ||
		re.AssumedRoleUser.ARN != aws.ToString(out.AssumedRoleUser.Arn) || re.AssumedRoleUser.AssumedRoleID != aws.ToString(out.AssumedRoleUser.AssumedRoleId) ||
		re.Provider != providerARN || re.Audience != "sts.amazonaws.com" || reqID == "" || ok.RequestID != reqID {
		t.Fatalf("responseElements: %+v", re)
	}
	exp := byCode["ExpiredTokenException"]
	if exp.ResponseElements != nil || !strings.HasPrefix(exp.ErrorMessage, "Token expired") {
		t.Fatalf("expired event: %+v", exp)
	}
	if idp := byCode["IDPCommunicationError"]; idp.ErrorMessage != "idp down" || idp.ResponseElements != nil {
		t.Fatalf("injected fault event: %+v", idp)
	}
	var den webIdentityEvent
	if err := json.Unmarshal([]byte(east[0].Payload), &den); err != nil {
		t.Fatal(err)
	}
	if den.ErrorCode != "AccessDenied" || den.ErrorMessage != "An unknown error occurred" || den.ResponseElements != nil ||
		den.AWSRegion != "us-east-1" || den.TLSDetails.ClientProvidedHostHeader != "sts.amazonaws.com" ||
		den.UserIdentity.UserName != "system:serviceaccount:batch:job" || !strings.Contains(east[0].Payload, `"responseElements":null`) {
		t.Fatalf("denied event: %s", east[0].Payload)
	}
}

func TestEKSAuthRecordsPodIdentityEvents(t *testing.T) {
	is := jwstest.StartIssuer(t, nil)
	w := newPIWorld(t, is, fakeaws.Association{}, podTrust(bothActions, ""))
	const node = "arn:aws:sts::" + piAccount + ":assumed-role/eks-node/i-0123456789abcdef0"
	w.fake.SetCaller(fakeaws.Caller{ARN: node, UserID: "AROANODEROLE000000001:i-0123456789abcdef0"})
	ctx := context.Background()
	token := w.token(t, nil)
	if _, err := w.client.AssumeRoleForPodIdentity(ctx, piCluster, token); err != nil {
		t.Fatal(err)
	}
	w.fake.AddRole(fakeaws.Role{ARN: piRole, TrustPolicy: podTrust(`"sts:AssumeRole"`, "")})
	var denied error
	if _, denied = w.client.AssumeRoleForPodIdentity(ctx, piCluster, token); errCode(t, denied) != "AccessDeniedException" {
		t.Fatalf("want AccessDeniedException, got %v", denied)
	}
	all := w.fake.TrailEvents(piAccount, fakeaws.Region)
	var evs []fakeaws.TrailEvent
	var role *fakeaws.TrailEvent
	for i, ev := range all {
		switch ev.EventName {
		case "AssumeRoleForPodIdentity":
			evs = append(evs, ev)
		case "AssumeRole":
			if role != nil {
				t.Fatal("two AssumeRole events for one success")
			}
			role = &all[i]
		}
	}
	if len(evs) != 2 || role == nil || len(all) != 3 {
		t.Fatalf("%d events: %+v", len(all), all)
	}
	// The AssumeRole EKS makes carries the subject in its session tags.
	var ar struct {
		UserIdentity      map[string]string `json:"userIdentity"`
		EventSource       string            `json:"eventSource"`
		RequestParameters struct {
			RoleARN         string                        `json:"roleArn"`
			RoleSessionName string                        `json:"roleSessionName"`
			DurationSeconds int                           `json:"durationSeconds"`
			Tags            []struct{ Key, Value string } `json:"tags"`
		} `json:"requestParameters"`
		TLSDetails any `json:"tlsDetails"`
	}
	if err := json.Unmarshal([]byte(role.Payload), &ar); err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, tg := range ar.RequestParameters.Tags {
		tags[tg.Key] = tg.Value
	}
	if ar.UserIdentity["type"] != "AWSService" || ar.UserIdentity["invokedBy"] != "pods.eks.amazonaws.com" || ar.EventSource != "sts.amazonaws.com" ||
		ar.RequestParameters.RoleARN != piRole || !strings.HasPrefix(ar.RequestParameters.RoleSessionName, "eks-prod-web-7f9c-") ||
		ar.RequestParameters.DurationSeconds != 21600 || tags["kubernetes-namespace"] != "shop" || tags["kubernetes-service-account"] != "web" ||
		tags["kubernetes-pod-name"] != "web-7f9c" || tags["eks-cluster-arn"] != piClusterARN || ar.TLSDetails != nil ||
		strings.Contains(role.Payload, "fakeaws-secret-") || strings.Contains(role.Payload, "fakeaws-session-") {
		t.Fatalf("AssumeRole event: %s", role.Payload)
	}
	for _, ev := range evs {
		// The emulator's secrets and session tokens start with these.
		for _, leak := range []string{token, "fakeaws-secret-", "fakeaws-session-"} {
			if strings.Contains(ev.Payload, leak) {
				t.Fatalf("payload leaks the token or a secret: %s", ev.Payload)
			}
		}
		if ev.EventName != "AssumeRoleForPodIdentity" || ev.EventSource != "eks-auth.amazonaws.com" || ev.Username != "i-0123456789abcdef0" ||
			ev.AccessKeyID != fakeaws.AccessKeyID || ev.ReadOnly != "true" || len(ev.Resources) != 1 || ev.Resources[0] != (fakeaws.TrailResource{Type: "AWS::EKS::Cluster", Name: piCluster}) {
			t.Fatalf("lookup fields: %+v", ev)
		}
	}
	var fail, ok map[string]any
	if err := json.Unmarshal([]byte(evs[0].Payload), &fail); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(evs[1].Payload), &ok); err != nil {
		t.Fatal(err)
	}
	if fail["errorCode"] != "AccessDenied" || fail["errorMessage"] != msgDenied || ok["errorCode"] != nil || ok["responseElements"] != nil {
		t.Fatalf("errorCode: failure %v, success %v", fail["errorCode"], ok["errorCode"])
	}
	rp := ok["requestParameters"].(map[string]any)
	who := ok["userIdentity"].(map[string]any)
	issuer := who["sessionContext"].(map[string]any)["sessionIssuer"].(map[string]any)
	if rp["clusterName"] != piCluster || rp["token"] != "HIDDEN_DUE_TO_SECURITY_REASONS" || who["type"] != "AssumedRole" ||
		who["arn"] != node || who["principalId"] != "AROANODEROLE000000001:i-0123456789abcdef0" || who["accessKeyId"] != fakeaws.AccessKeyID ||
		issuer["arn"] != "arn:aws:iam::"+piAccount+":role/eks-node" || issuer["principalId"] != "AROANODEROLE000000001" ||
		ok["eventVersion"] != "1.09" || ok["awsRegion"] != fakeaws.Region || ok["recipientAccountId"] != piAccount {
		t.Fatalf("success event: %s", evs[1].Payload)
	}
}

func TestTrailEventConstructorsAndAdd(t *testing.T) {
	fake := fakeaws.New()
	at := time.Date(2024, 7, 9, 15, 41, 37, 0, time.UTC)
	ev := fake.AddTrailEvent(fakeaws.WebIdentityTrailEvent(fakeaws.WebIdentityCall{
		Region: "us-east-2", Time: at, ProviderARN: "arn:aws:iam::444455556666:oidc-provider/oidc.example", Audience: "app",
		Subject: "user", RoleARN: "arn:aws:iam::444455556666:role/Fed", RoleSessionName: "s",
		ErrorCode: "AccessDenied", ErrorMessage: "An unknown error occurred",
	}))
	if ev.Account != "444455556666" || ev.Username != "user" || ev.EventID == "" || !strings.Contains(ev.Payload, `"eventTime":"2024-07-09T15:41:37Z"`) {
		t.Fatalf("web identity event: %+v", ev)
	}
	// A payload given alone fills in the lookup fields; a malformed one keeps what was given.
	raw := fake.AddTrailEvent(fakeaws.TrailEvent{Account: "1", Region: "r", Payload: ev.Payload})
	if raw.EventName != "AssumeRoleWithWebIdentity" || raw.Username != "user" || raw.EventID != ev.EventID || raw.ReadOnly != "true" || !raw.Time.Equal(at) ||
		len(raw.Resources) != 1 || raw.Resources[0].Name != "arn:aws:iam::444455556666:role/Fed" {
		t.Fatalf("derived: %+v", raw)
	}
	bad := fake.AddTrailEvent(fakeaws.TrailEvent{Account: "1", Region: "r", EventName: "X", Payload: "{trunc", Time: at.Add(time.Hour + 300*time.Millisecond)})
	if bad.EventName != "X" || bad.Payload != "{trunc" || !bad.Time.Equal(at.Add(time.Hour)) {
		t.Fatalf("malformed: %+v", bad)
	}
	if got := fake.TrailEvents("1", "r"); len(got) != 2 || got[0].EventName != "X" {
		t.Fatalf("newest first: %+v", got)
	}
	fake.ClearTrail()
	if len(fake.TrailEvents("1", "r")) != 0 {
		t.Fatal("ClearTrail")
	}
}
