package webhook

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// PatchOperation is one RFC 6902 operation.
type PatchOperation struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// CreatePatch builds the JSONPatch that turns orig into mutated, for the
// fields Mutate touches: labels it adds or changes come first, as in the real
// webhook's patch (a whole labels map when the pod has none, else one "add"
// per key), then each changed container (init and regular) is replaced whole,
// and new volumes are appended.
func CreatePatch(orig, mutated *corev1.Pod) ([]PatchOperation, error) {
	var ops []PatchOperation
	if orig.Labels == nil && len(mutated.Labels) > 0 {
		ops = append(ops, PatchOperation{Op: "add", Path: "/metadata/labels", Value: mutated.Labels})
	} else {
		for _, k := range slices.Sorted(maps.Keys(mutated.Labels)) {
			if v, ok := orig.Labels[k]; !ok || v != mutated.Labels[k] {
				ops = append(ops, PatchOperation{Op: "add", Path: "/metadata/labels/" + escapePointer(k), Value: mutated.Labels[k]})
			}
		}
	}
	containerOps := func(field string, before, after []corev1.Container) error {
		if len(before) != len(after) {
			return fmt.Errorf("mutation changed the number of %s from %d to %d", field, len(before), len(after))
		}
		for i := range after {
			if !reflect.DeepEqual(before[i], after[i]) {
				ops = append(ops, PatchOperation{Op: "replace", Path: "/spec/" + field + "/" + strconv.Itoa(i), Value: after[i]})
			}
		}
		return nil
	}
	if err := containerOps("initContainers", orig.Spec.InitContainers, mutated.Spec.InitContainers); err != nil {
		return nil, err
	}
	if err := containerOps("containers", orig.Spec.Containers, mutated.Spec.Containers); err != nil {
		return nil, err
	}
	if n := len(orig.Spec.Volumes); len(mutated.Spec.Volumes) > n {
		added := mutated.Spec.Volumes[n:]
		if n == 0 {
			// "/spec/volumes/-" needs an existing array.
			ops = append(ops, PatchOperation{Op: "add", Path: "/spec/volumes", Value: added})
		} else {
			for _, v := range added {
				ops = append(ops, PatchOperation{Op: "add", Path: "/spec/volumes/-", Value: v})
			}
		}
	}
	return ops, nil
}

// escapePointer escapes one JSON Pointer token (RFC 6901).
func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// MarshalPatch encodes ops; an empty patch is nil, meaning "no patch".
func MarshalPatch(ops []PatchOperation) ([]byte, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(ops)
	if err != nil {
		return nil, fmt.Errorf("marshal json patch: %w", err)
	}
	return b, nil
}
