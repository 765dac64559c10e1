package activity

import (
	"reflect"
	"testing"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

func TestRows(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 1, 13, 0, 0, 0, time.UTC)
	const (
		role    = "arn:aws:iam::111122223333:role/app"
		oldRole = "arn:aws:iam::111122223333:role/app-old"
		goV2    = "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/sts#1.30.3"
	)
	ev := func(minute int, sa, r, code string) facts.TrailEvent {
		return facts.TrailEvent{ID: sa + r + time.Duration(minute).String(), Time: t0.Add(time.Duration(minute) * time.Minute), Region: "us-west-2",
			Name: facts.EventAssumeRoleWithWebIdentity, Namespace: "shop", ServiceAccount: sa, RoleARN: r, ErrorCode: code, UserAgent: goV2}
	}
	refusal := facts.TrailEvent{ID: "pi", Time: t0.Add(30 * time.Minute), Region: "us-west-2", Name: facts.EventAssumeRoleForPodIdentity, Cluster: "prod",
		ErrorCode: "AccessDeniedException", ErrorMessage: "denied", UserAgent: "curl/8.0"}
	session := facts.TrailEvent{ID: "as", Time: t0.Add(31 * time.Minute), Region: "us-west-2", Name: facts.EventAssumeRole, Cluster: "prod",
		Namespace: "shop", ServiceAccount: "pi", RoleARN: "arn:aws:iam::111122223333:role/pi", UserAgent: "pods.eks.amazonaws.com"}
	tf := &facts.TrailFacts{Events: []facts.TrailEvent{ev(1, "app", role, ""), ev(2, "app", role, "InvalidIdentityToken"), ev(3, "app", role, "InvalidIdentityToken"),
		ev(4, "app", oldRole, ""), refusal, ev(5, "app", role, "AccessDenied"), session}}
	facts.SortTrailEvents(tf.Events)
	got := Rows(tf, []Row{{Namespace: "shop", ServiceAccount: "app", Mechanism: MechanismIRSA, Role: role},
		{Namespace: "shop", ServiceAccount: "pi", Mechanism: MechanismPodIdentity, Role: "arn:aws:iam::111122223333:role/pi", Succeeded: 1,
			Regions: []string{"us-west-2"}, FirstSeen: t0.Add(31 * time.Minute), LastSeen: t0.Add(31 * time.Minute)},
		{Namespace: "shop", ServiceAccount: "quiet", Mechanism: MechanismIRSA, Role: "arn:aws:iam::111122223333:role/quiet"}})
	want := []Row{
		{Mechanism: MechanismPodIdentity, Failed: 1, Errors: []Error{{Code: "AccessDeniedException", Count: 1, Message: "denied"}},
			Regions: []string{"us-west-2"}, FirstSeen: t0.Add(30 * time.Minute), LastSeen: t0.Add(30 * time.Minute)},
		{Namespace: "shop", ServiceAccount: "app", Mechanism: MechanismIRSA, Role: role, Succeeded: 1, Failed: 3,
			Errors:  []Error{{Code: "InvalidIdentityToken", Count: 2}, {Code: "AccessDenied", Count: 1}},
			SDKs:    []SDK{{Name: "AWS SDK for Go v2", Version: "1.30.3", Known: true, Calls: 4}},
			Regions: []string{"us-west-2"}, FirstSeen: t0.Add(time.Minute), LastSeen: t0.Add(5 * time.Minute)},
		{Namespace: "shop", ServiceAccount: "app", Mechanism: MechanismIRSA, Role: oldRole, Succeeded: 1,
			SDKs:    []SDK{{Name: "AWS SDK for Go v2", Version: "1.30.3", Known: true, Calls: 1}},
			Regions: []string{"us-west-2"}, FirstSeen: t0.Add(4 * time.Minute), LastSeen: t0.Add(4 * time.Minute)},
		{Namespace: "shop", ServiceAccount: "pi", Mechanism: MechanismPodIdentity, Role: "arn:aws:iam::111122223333:role/pi", Succeeded: 1,
			Regions: []string{"us-west-2"}, FirstSeen: t0.Add(31 * time.Minute), LastSeen: t0.Add(31 * time.Minute)},
		{Namespace: "shop", ServiceAccount: "quiet", Mechanism: MechanismIRSA, Role: "arn:aws:iam::111122223333:role/quiet", Regions: []string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Rows:\n got %+v\nwant %+v", got, want)
	}
	if Rows(nil, nil) != nil {
		t.Error("Rows(nil) is not nil")
	}
}
