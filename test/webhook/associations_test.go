package webhook

import (
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"
)

func TestAssociationSet(t *testing.T) {
	var zero AssociationSet
	if zero.Has(testNS, testSA) || len(zero.List()) != 0 {
		t.Fatal("zero set not empty")
	}
	s := NewAssociationSet(Association{Namespace: "b", ServiceAccount: "y"}, Association{Namespace: "a", ServiceAccount: "x"})
	if !s.Has("a", "x") || s.Has("a", "y") || s.Has("x", "a") {
		t.Error("Has")
	}
	if got := s.List(); !reflect.DeepEqual(got, []Association{{"a", "x"}, {"b", "y"}}) {
		t.Errorf("List = %v", got)
	}
	s.Set([]Association{{"c", "z"}})
	if s.Has("a", "x") || !s.Has("c", "z") {
		t.Error("Set does not replace the whole set")
	}
	// Concurrent readers and writers (run with -race).
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if i%2 == 0 {
					s.Set([]Association{{"c", "z"}})
				} else {
					_ = s.Has("c", "z")
				}
			}
		}()
	}
	wg.Wait()
}

func TestParseContainerCredentialsConfig(t *testing.T) {
	tests := []struct {
		in      string
		want    []Association
		wantErr bool
	}{
		{in: "", want: nil},
		{in: `{}`, want: []Association{}},
		{in: `{"identities":[{"namespace":"shop","serviceAccount":"web"},{"namespace":"batch","serviceAccount":"job"}]}`,
			want: []Association{{"shop", "web"}, {"batch", "job"}}},
		{in: `{"identities":[`, wantErr: true},
		{in: " ", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseContainerCredentialsConfig([]byte(tt.in))
		if (err != nil) != tt.wantErr || (!tt.wantErr && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("Parse(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	as := []Association{{"shop", "web"}}
	b, err := EncodeContainerCredentialsConfig(as)
	if err != nil || string(b) != `{"identities":[{"namespace":"shop","serviceAccount":"web"}]}` {
		t.Fatalf("Encode = %s, %v", b, err)
	}
}

func TestWatchContainerCredentialsConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	write := func(content string) {
		t.Helper()
		// Written beside and renamed, as a controller updates a file atomically.
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"identities":[{"namespace":"shop","serviceAccount":"web"}]}`)
	set := NewAssociationSet()
	if err := WatchContainerCredentialsConfig(t.Context(), path, set, 10*time.Millisecond, t.Logf); err != nil {
		t.Fatal(err)
	}
	// The first load happens before the call returns.
	if !set.Has("shop", "web") {
		t.Fatal("initial load missing")
	}
	write(`{"identities":[{"namespace":"shop","serviceAccount":"web"},{"namespace":"batch","serviceAccount":"job"}]}`)
	eventually(t, "the new association", func() bool { return set.Has("batch", "job") })
	write(`{"identities":[`)
	eventually(t, "a broken file keeps the set", func() bool { return set.Has("batch", "job") && set.Has("shop", "web") })
	write("")
	eventually(t, "an empty file empties the set", func() bool { return len(set.List()) == 0 })
	write(`{"identities":[{"namespace":"a","serviceAccount":"b"}]}`)
	eventually(t, "reloaded", func() bool { return set.Has("a", "b") })
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a removed file empties the set", func() bool { return len(set.List()) == 0 })

	if err := WatchContainerCredentialsConfig(t.Context(), filepath.Join(dir, "missing", "config.json"), set, 0, nil); err == nil {
		t.Error("a missing directory was accepted")
	}
}

// TestAssociationSourceAtAdmission: the live set is read when a pod is
// admitted; a pod admitted before its association existed keeps what it got,
// which is the real "association created after the pod" failure.
func TestAssociationSourceAtAdmission(t *testing.T) {
	set := NewAssociationSet()
	h := &Handler{Client: fake.NewClientset(roleSA()), Logf: t.Logf,
		Config: Config{AssociationSource: set, PodIdentityExpiration: fixedJitter}}

	before, _ := admit(t, h, podOf(ctr("app")))
	if hasVolume(before, PodIdentityVolumeName) || !hasVolume(before, IRSAVolumeName) {
		t.Fatalf("before the association: volumes %+v, want IRSA only", before.Spec.Volumes)
	}
	set.Set([]Association{{Namespace: testNS, ServiceAccount: testSA}})
	after, _ := admit(t, h, podOf(ctr("app")))
	if !hasVolume(after, PodIdentityVolumeName) || hasVolume(after, IRSAVolumeName) || after.Labels[LabelPodIdentity] != LabelPodIdentityEnabled {
		t.Fatalf("after the association: %+v", after.Spec.Volumes)
	}
	// The static list still counts alongside the source.
	set.Set(nil)
	h.Config.Associations = []Association{{Namespace: testNS, ServiceAccount: testSA}}
	static, _ := admit(t, h, podOf(ctr("app")))
	if !hasVolume(static, PodIdentityVolumeName) {
		t.Fatal("static association ignored next to a source")
	}
	h.Config.Associations = nil
	removed, _ := admit(t, h, podOf(ctr("app")))
	if hasVolume(removed, PodIdentityVolumeName) {
		t.Fatal("association removed from the set still applied")
	}
	// Mutate takes the source as well.
	set.Set([]Association{{Namespace: testNS, ServiceAccount: testSA}})
	got, changed := Mutate(Config{AssociationSource: set, PodIdentityExpiration: fixedJitter}, testNS, podOf(ctr("app")), nil)
	if !changed || !hasVolume(got, PodIdentityVolumeName) {
		t.Fatal("Mutate ignored the source")
	}
}
