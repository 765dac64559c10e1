package pipeline_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/kube"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/pipeline"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

// TestCloudTrailCallsBoundedByPages: --cloudtrail reads one paged pass per
// region and event name, so its LookupEvents calls follow the pages of
// events, never the service accounts: 5 and 50 subjects over the same 120
// events cost the same calls, and --cloudtrail-max-events cuts the pages.
func TestCloudTrailCallsBoundedByPages(t *testing.T) {
	now := testutil.T0.Add(time.Hour)
	for _, tt := range []struct {
		subjects, maxEvents, wantCalls, wantKept int
	}{
		// us-west-2: 120 events, 3 pages; us-east-1 (the global endpoint's region): 1 empty page.
		{5, 2000, 4, 120},
		{50, 2000, 4, 120},
		// 60 newest of us-west-2: 2 pages, the second of 10; one of them is
		// the other cluster's.
		{50, 60, 3, 59},
	} {
		t.Run(fmt.Sprintf("%d subjects, at most %d events", tt.subjects, tt.maxEvents), func(t *testing.T) {
			objs := []runtime.Object{testutil.Namespace("shop", nil), testutil.Webhook()}
			aws := fakeaws.New()
			aws.SetCaller(fakeaws.Caller{Account: account, ARN: "arn:aws:iam::" + account + ":user/operator"})
			aws.AddProvider(fakeaws.Provider{ARN: provider, URL: host, ClientIDs: []string{"sts.amazonaws.com"}})
			for i := range tt.subjects {
				name := fmt.Sprintf("app-%02d", i)
				role := "arn:aws:iam::" + account + ":role/" + name
				objs = append(objs, testutil.NewSA("shop", name).RoleARN(role).Build(), testutil.NewPod("shop", name+"-1", name).Mutate(role, "sts.amazonaws.com").Build())
				aws.AddRole(fakeaws.Role{ARN: role, TrustPolicy: trust("system:serviceaccount:shop:" + name), InlinePolicyNames: []string{"read"}})
			}
			for i := range 120 {
				name := fmt.Sprintf("app-%02d", i%5)
				call := fakeaws.WebIdentityCall{Region: "us-west-2", Time: now.Add(-time.Duration(i+1) * 20 * time.Second), ProviderARN: provider,
					Audience: "sts.amazonaws.com", Subject: "system:serviceaccount:shop:" + name, RoleARN: "arn:aws:iam::" + account + ":role/" + name,
					UserAgent: "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/sts#1.30.3", Host: "sts.us-west-2.amazonaws.com"}
				if i%10 == 0 {
					call.ErrorCode, call.ErrorMessage = "InvalidIdentityToken", "Incorrect token audience"
				}
				aws.AddTrailEvent(fakeaws.WebIdentityTrailEvent(call))
			}
			// Another cluster's calls in the same account and region: read, not kept.
			aws.AddTrailEvent(fakeaws.WebIdentityTrailEvent(fakeaws.WebIdentityCall{Region: "us-west-2", Time: now.Add(-time.Minute - 7*time.Second),
				ProviderARN: "arn:aws:iam::" + account + ":oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/OTHER", Audience: "sts.amazonaws.com",
				Subject: "system:serviceaccount:shop:app-00", RoleARN: "arn:aws:iam::" + account + ":role/app-00"}))
			cfg := fakeaws.Start(t, aws)
			kubeSrv := fakekube.New(t, objs...)
			client, err := kubernetes.NewForConfig(kubeSrv.RESTConfig())
			if err != nil {
				t.Fatal(err)
			}
			req := pipeline.Request{Scope: kube.Scope{Namespace: "shop"}, AWS: pipeline.AWSOptions{Issuer: issuer, Timeout: time.Minute},
				CloudTrail: &pipeline.TrailOptions{Since: time.Hour, MaxEvents: tt.maxEvents}}
			src := pipeline.Sources{
				Kube: pipeline.LiveKube{Client: client, Now: func() time.Time { return now }},
				AWS: pipeline.LiveAWS{Options: req.AWS, NewCollector: func(context.Context, []string) (*cloud.Collector, error) {
					return cloud.NewCollector(cfg, cloud.CollectorOptions{}), nil
				}},
				TLS: liveTLS(t),
			}
			aws.ResetCalls()
			res, err := pipeline.Diagnose(context.Background(), req, src)
			if err != nil {
				t.Fatal(err)
			}
			if calls := aws.Count("LookupEvents"); calls != tt.wantCalls {
				t.Errorf("%d LookupEvents calls, want %d (pages, not subjects)", calls, tt.wantCalls)
			}
			tr := res.Snapshot.CloudTrail
			if tr == nil {
				t.Fatal("no CloudTrail facts")
			}
			if len(tr.Events) != tt.wantKept || tr.Account != account {
				t.Fatalf("%d events kept in account %q (lookups %+v), want %d in %s", len(tr.Events), tr.Account, tr.Lookups, tt.wantKept, account)
			}
			if tr.OtherClusters != 1 {
				t.Errorf("%d events of other clusters, want 1", tr.OtherClusters)
			}
			west, ok := tr.Lookup("us-west-2", facts.EventAssumeRoleWithWebIdentity)
			if !ok || west.Truncated != (tt.maxEvents < 121) {
				t.Errorf("us-west-2 lookup %+v, truncated should be %v", west, tt.maxEvents < 121)
			}
			if x := tr.Explanations[facts.ExplanationKey("InvalidIdentityToken", "Incorrect token audience")]; x == nil || len(x.CheckIDs) == 0 {
				t.Errorf("no explanation for the audience error: %+v", tr.Explanations)
			}
			vs := verdicts(res.Diagnoses)
			has(t, vs, "shop/app-00 CLOUDTRAIL-FAIL-001 fail")
			has(t, vs, "shop/app-01 CLOUDTRAIL-READ-001 pass")
			// The saved facts judge the same offline, redacted or not: the
			// events' names are replaced with the rest.
			for _, redact := range []bool{false, true} {
				buf := saved(t, req, res, redact)
				if redact && strings.Contains(buf.String(), "system:serviceaccount:shop:") {
					t.Error("the redacted snapshot still names shop's service accounts")
				}
				if got, want := verdictIDs(replay(t, buf).Diagnoses), verdictIDs(res.Diagnoses); !reflect.DeepEqual(got, want) {
					t.Errorf("replayed (redacted %v) verdicts differ: %d live, %d replayed", redact, len(want), len(got))
				}
			}
		})
	}
}
