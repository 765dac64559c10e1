package kube

import (
	"encoding/binary"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// interner shares, across the pods of one LIST, the parts that are equal:
// the pods of one workload have the same containers, env, mounts, labels,
// owners and node selector, so a stripped pod costs its own name, uid,
// times and the few parts that differ (the random suffix of
// kube-api-access-xxxxx), not a copy of its template. Memory then follows
// the workloads and service accounts, not the pods
// (docs/design.md#what-a-run-keeps). The shared parts are read-only: no
// collector or check writes to a listed pod (the snapshot works on a copy).
// A nil *interner shares nothing.
type interner struct {
	strs  map[string]string
	parts map[string]any
}

func newInterner() *interner {
	return &interner{strs: map[string]string{}, parts: map[string]any{}}
}

func (in *interner) str(s string) string {
	if in == nil || s == "" {
		return s
	}
	if v, ok := in.strs[s]; ok {
		return v
	}
	in.strs[s] = s
	return s
}

// marshaler is every API type's protobuf encoding, the key of its content.
type marshaler interface {
	Marshal() ([]byte, error)
}

// keyOf is the content of items as one key, or "" when one cannot be
// encoded (it is then not shared).
func keyOf[T any, P interface {
	*T
	marshaler
}](kind string, items []T) string {
	key := []byte(kind)
	for i := range items {
		raw, err := P(&items[i]).Marshal()
		if err != nil {
			return ""
		}
		key = binary.AppendUvarint(key, uint64(len(raw)))
		key = append(key, raw...)
	}
	return string(key)
}

// shared returns the value stored under key, storing v when there is none.
func shared[T any](in *interner, key string, v T) T {
	if in == nil || key == "" {
		return v
	}
	if s, ok := in.parts[key]; ok {
		if t, ok := s.(T); ok {
			return t
		}
	}
	in.parts[key] = v
	return v
}

func (in *interner) containers(cs []corev1.Container) []corev1.Container {
	if in == nil || len(cs) == 0 {
		return cs
	}
	return shared(in, keyOf("containers", cs), cs)
}

func (in *interner) env(env []corev1.EnvVar) []corev1.EnvVar {
	if in == nil || len(env) == 0 {
		return env
	}
	return shared(in, keyOf("env", env), env)
}

func (in *interner) envFrom(ef []corev1.EnvFromSource) []corev1.EnvFromSource {
	if in == nil || len(ef) == 0 {
		return ef
	}
	return shared(in, keyOf("envFrom", ef), ef)
}

func (in *interner) mounts(ms []corev1.VolumeMount) []corev1.VolumeMount {
	if in == nil || len(ms) == 0 {
		return ms
	}
	key := keyOf("mounts", ms)
	if v, ok := in.parts[key]; ok || key == "" {
		if t, ok := v.([]corev1.VolumeMount); ok {
			return t
		}
		return ms
	}
	// A mount that differs (kube-api-access-xxxxx) still shares its path.
	for i := range ms {
		ms[i].Name, ms[i].MountPath, ms[i].SubPath = in.str(ms[i].Name), in.str(ms[i].MountPath), in.str(ms[i].SubPath)
	}
	in.parts[key] = ms
	return ms
}

func (in *interner) volumes(vs []corev1.Volume) []corev1.Volume {
	if in == nil || len(vs) == 0 {
		return vs
	}
	for i := range vs {
		if p := vs[i].Projected; p != nil {
			vs[i].Projected = shared(in, keyOf("projected", []corev1.ProjectedVolumeSource{*p}), p)
		}
	}
	return shared(in, keyOf("volumes", vs), vs)
}

func (in *interner) owners(refs []metav1.OwnerReference) []metav1.OwnerReference {
	if in == nil || len(refs) == 0 {
		return refs
	}
	return shared(in, keyOf("owners", refs), refs)
}

// labels shares a label or annotation map (or a node selector) with the
// same entries.
func (in *interner) labels(m map[string]string) map[string]string {
	if in == nil || len(m) == 0 {
		return m
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	key := []byte("labels")
	for _, k := range keys {
		key = binary.AppendUvarint(key, uint64(len(k)))
		key = append(key, k...)
		key = binary.AppendUvarint(key, uint64(len(m[k])))
		key = append(key, m[k]...)
	}
	return shared(in, string(key), m)
}
