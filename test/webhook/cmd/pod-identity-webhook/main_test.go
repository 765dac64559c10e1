package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/test/webhook"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want webhook.Config
	}{
		{
			name: "defaults are the real webhook's",
			want: webhook.Config{Audience: "sts.amazonaws.com", AnnotationPrefix: "eks.amazonaws.com",
				MountPath: "/var/run/secrets/eks.amazonaws.com/serviceaccount", TokenExpiration: 86400, Namespace: "eks"},
		},
		{
			name: "every webhook flag",
			args: []string{"--aws-default-region", "eu-west-1", "--sts-regional-endpoint", "--token-audience", "amazonaws.com",
				"--annotation-prefix", "iam.example.com", "--token-mount-path", "/custom", "--token-expiration", "3600",
				"--watch-config-map", "--namespace", "kube-system", "--omit-pod-identity-label",
				"--pod-identity-association", "shop/app", "--pod-identity-association", "batch/job"},
			want: webhook.Config{DefaultRegion: "eu-west-1", RegionalSTS: true, Audience: "amazonaws.com", AnnotationPrefix: "iam.example.com",
				MountPath: "/custom", TokenExpiration: 3600, WatchConfigMap: true, Namespace: "kube-system", OmitPodIdentityLabel: true,
				Associations: []webhook.Association{{Namespace: "shop", ServiceAccount: "app"}, {Namespace: "batch", ServiceAccount: "job"}}},
		},
		{
			name: "--cache-delay and the grace period turn the cache on",
			args: []string{"--cache-delay", "3s", "--service-account-lookup-grace-period", "100ms"},
			want: webhook.Config{Audience: "sts.amazonaws.com", AnnotationPrefix: "eks.amazonaws.com",
				MountPath: "/var/run/secrets/eks.amazonaws.com/serviceaccount", TokenExpiration: 86400, Namespace: "eks",
				Cache: &webhook.CacheConfig{Delay: 3 * time.Second, LookupGracePeriod: 100 * time.Millisecond}},
		},
		{
			name: "--cache alone: a cache without delay",
			args: []string{"--cache"},
			want: webhook.Config{Audience: "sts.amazonaws.com", AnnotationPrefix: "eks.amazonaws.com",
				MountPath: "/var/run/secrets/eks.amazonaws.com/serviceaccount", TokenExpiration: 86400, Namespace: "eks",
				Cache: &webhook.CacheConfig{}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(o.cfg, tc.want) {
				t.Errorf("config = %+v\nwant %+v", o.cfg, tc.want)
			}
		})
	}
	for _, bad := range [][]string{{"--pod-identity-association", "app"}, {"extra"}, {"--token-expiration", "1h"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) succeeded, want an error", bad)
		}
	}
}

// TestWatchContainerCredentialsConfigFlag: the flag, named like the real
// webhook's, makes admissions follow the file.
func TestWatchContainerCredentialsConfigFlag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "identities.json")
	if err := os.WriteFile(path, []byte(`{"identities":[{"namespace":"shop","serviceAccount":"web"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := parseFlags([]string{"--watch-container-credentials-config", path})
	if err != nil {
		t.Fatal(err)
	}
	if o.containerCredentialsConfig != path || o.cfg.AssociationSource != nil {
		t.Fatalf("options = %+v", o)
	}
	if err := watchAssociations(t.Context(), &o); err != nil {
		t.Fatal(err)
	}
	if o.cfg.AssociationSource == nil || !o.cfg.AssociationSource.Has("shop", "web") {
		t.Fatal("the file's association is not followed")
	}
	none := options{}
	if err := watchAssociations(t.Context(), &none); err != nil || none.cfg.AssociationSource != nil {
		t.Errorf("without the flag: %v, %+v", err, none.cfg)
	}
	bad := options{containerCredentialsConfig: filepath.Join(t.TempDir(), "no", "such", "dir", "f.json")}
	if err := watchAssociations(t.Context(), &bad); err == nil {
		t.Error("a file in a missing directory was accepted")
	}
}
