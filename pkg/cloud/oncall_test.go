package cloud_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

// TestOnCallSeesEveryCall: the progress hooks hear of each finished call,
// failed ones included, and of each role once, from concurrent goroutines.
func TestOnCallSeesEveryCall(t *testing.T) {
	fake, c := newEnv(t, 4)
	var roles []string
	for i := range 10 {
		arn := fmt.Sprintf("arn:aws:iam::%s:role/r%d", acct, i)
		roles = append(roles, arn)
		if i%3 != 0 { // every third role is missing: GetRole fails
			fake.AddRole(fakeaws.Role{ARN: arn, TrustPolicy: trustPolicy})
		}
	}
	var mu sync.Mutex
	seen, done := map[string]int{}, map[string]int{}
	c.OnCall = func(op string) {
		mu.Lock()
		defer mu.Unlock()
		seen[op]++
	}
	c.OnRole = func(arn string) {
		mu.Lock()
		defer mu.Unlock()
		done[arn]++
	}
	c.Gather(ctxT(t), cloud.GatherInput{RoleARNs: append(roles, roles[:3]...)})
	c.Role(ctxT(t), roles[4]) // cached: no call, no second OnRole
	want := map[string]int{}
	for _, call := range fake.Calls() {
		want[call.Service+":"+call.Op]++
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) || seen[cloud.OpGetRole] != 10 {
		t.Errorf("OnCall saw %v, the emulator %v", seen, want)
	}
	for _, arn := range roles {
		if done[arn] != 1 {
			t.Errorf("OnRole(%s) called %d times, want once", arn, done[arn])
		}
	}
}
