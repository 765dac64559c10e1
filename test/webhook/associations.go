package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultContainerCredentialsPoll is how often WatchContainerCredentialsConfig
// looks at the file when no interval is given. The real webhook reacts to
// fsnotify events and retries failed loads from a work queue polled every
// second (pkg/filesystem/file_watcher.go); polling the content every second
// sees the same changes with at most that delay.
const DefaultContainerCredentialsPoll = time.Second

// AssociationSource tells whether a service account has a Pod Identity
// association, at the moment of an admission.
type AssociationSource interface {
	Has(namespace, serviceAccount string) bool
}

// AssociationSet is a live set of associations, safe for concurrent use: on
// EKS the control plane rewrites the webhook's container-credentials file as
// associations come and go, and the webhook reloads it
// (pkg/containercredentials/config.go). The zero value is empty and ready.
type AssociationSet struct {
	mu  sync.RWMutex
	set map[Association]struct{}
}

// NewAssociationSet returns a set holding as.
func NewAssociationSet(as ...Association) *AssociationSet {
	s := &AssociationSet{}
	s.Set(as)
	return s
}

// Set replaces the whole set, as a reload of the file does.
func (s *AssociationSet) Set(as []Association) {
	m := make(map[Association]struct{}, len(as))
	for _, a := range as {
		m[a] = struct{}{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set = m
}

// Has reports whether namespace/serviceAccount is in the set.
func (s *AssociationSet) Has(namespace, serviceAccount string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.set[Association{Namespace: namespace, ServiceAccount: serviceAccount}]
	return ok
}

// List returns the set sorted by namespace, then service account.
func (s *AssociationSet) List() []Association {
	s.mu.RLock()
	out := make([]Association, 0, len(s.set))
	for a := range s.set {
		out = append(out, a)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Association) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.ServiceAccount, b.ServiceAccount)
	})
	return out
}

// containerCredentialsConfig is the file's JSON
// (pkg/containercredentials/types.go): {"identities": [{"namespace",
// "serviceAccount"}]}.
type containerCredentialsConfig struct {
	Identities []containerCredentialsIdentity `json:"identities,omitempty"`
}

type containerCredentialsIdentity struct {
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
}

// ParseContainerCredentialsConfig reads the file's content as the real
// webhook's Load does: empty content means no associations; content that is
// not the JSON object is an error, after which the webhook keeps what it had.
func ParseContainerCredentialsConfig(data []byte) ([]Association, error) {
	if len(data) == 0 {
		return nil, nil
	}
	var cfg containerCredentialsConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("container credentials config: %w", err)
	}
	out := make([]Association, 0, len(cfg.Identities))
	for _, id := range cfg.Identities {
		out = append(out, Association(id))
	}
	return out, nil
}

// EncodeContainerCredentialsConfig is the file's content for as.
func EncodeContainerCredentialsConfig(as []Association) ([]byte, error) {
	cfg := containerCredentialsConfig{Identities: make([]containerCredentialsIdentity, 0, len(as))}
	for _, a := range as {
		cfg.Identities = append(cfg.Identities, containerCredentialsIdentity(a))
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode container credentials config: %w", err)
	}
	return b, nil
}

// WatchContainerCredentialsConfig is --watch-container-credentials-config:
// it loads path into set now and again whenever its content changes, until
// ctx ends, looking every interval (0: DefaultContainerCredentialsPoll). As
// in the real webhook, a missing file is an empty set and a file that does
// not parse is logged and leaves the set as it was. It fails only when the
// file's directory cannot be read, where the real webhook cannot start its
// watcher.
func WatchContainerCredentialsConfig(ctx context.Context, path string, set *AssociationSet, interval time.Duration, logf func(format string, args ...any)) error {
	if interval <= 0 {
		interval = DefaultContainerCredentialsPoll
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return fmt.Errorf("watch container credentials config %s: %w", path, err)
	}
	var last []byte
	loaded := false
	load := func() {
		data, err := os.ReadFile(path) //nolint:gosec // the path is the operator's flag, as in the real webhook
		switch {
		case errors.Is(err, fs.ErrNotExist):
			data = nil
		case err != nil:
			logf("container credentials config %s: %v", path, err)
			return
		}
		if loaded && bytes.Equal(data, last) {
			return
		}
		last, loaded = data, true
		as, err := ParseContainerCredentialsConfig(data)
		if err != nil {
			logf("%s: %v (keeping the previous associations)", path, err)
			return
		}
		set.Set(as)
		logf("container credentials config %s: %d associations", path, len(as))
	}
	load()
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				load()
			}
		}
	}()
	return nil
}
