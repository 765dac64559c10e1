//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

func TestLoadStateClustersAndAssociations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	state := `{
  "caller": "arn:aws:iam::111122223333:user/demo",
  "roles": [{"arn": "arn:aws:iam::111122223333:role/app",
             "trustPolicy": {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}}],
  "clusters": [{"name": "demo", "arn": "arn:aws:eks:eu-west-1:111122223333:cluster/demo", "version": "1.31", "platformVersion": "eks.4", "issuer": "https://issuer.example"}],
  "associations": [{"clusterName": "demo", "namespace": "media", "serviceAccount": "app", "roleArn": "arn:aws:iam::111122223333:role/app", "disableSessionTags": true}]
}`
	if err := os.WriteFile(path, []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	fake := fakeaws.New()
	if err := loadState(path, fake); err != nil {
		t.Fatal(err)
	}
	as := fake.Associations()
	if len(as) != 1 {
		t.Fatalf("associations = %+v, want one", as)
	}
	a := as[0]
	if a.Namespace != "media" || a.ServiceAccount != "app" || a.RoleARN != "arn:aws:iam::111122223333:role/app" || !a.DisableSessionTags {
		t.Errorf("association = %+v", a)
	}
	// The ARN is the cluster's (its region), so the cluster was loaded first.
	if want := "arn:aws:eks:eu-west-1:111122223333:podidentityassociation/demo/" + a.ID; a.ARN != want {
		t.Errorf("association ARN = %q, want %q", a.ARN, want)
	}
}

func TestLoadStateRejectsIncompleteAssociation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte(`{"associations": [{"clusterName": "demo", "namespace": "media", "serviceAccount": "app"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := loadState(path, fakeaws.New())
	if err == nil || !strings.Contains(err.Error(), "roleArn") {
		t.Fatalf("loadState = %v, want an error naming roleArn", err)
	}
}
