package webhook

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// applyPatch applies the RFC 6902 "add" and "replace" operations CreatePatch
// emits, the way an API server would, and decodes the result. It is written
// here rather than imported because the json-patch library is only an
// indirect dependency of the module, and importing it would make go.mod
// untidy.
func applyPatch(t *testing.T, pod *corev1.Pod, patch []byte) *corev1.Pod {
	t.Helper()
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(patch) > 0 {
		var ops []struct {
			Op    string          `json:"op"`
			Path  string          `json:"path"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(patch, &ops); err != nil {
			t.Fatalf("patch is not a JSON patch: %v\n%s", err, patch)
		}
		for _, op := range ops {
			var v any
			if err := json.Unmarshal(op.Value, &v); err != nil {
				t.Fatalf("op %s %s: value: %v", op.Op, op.Path, err)
			}
			doc, err = applyOp(doc, op.Op, splitPointer(op.Path), v)
			if err != nil {
				t.Fatalf("op %s %s: %v", op.Op, op.Path, err)
			}
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var got corev1.Pod
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	return &got
}

func splitPointer(p string) []string {
	if p == "" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range parts {
		parts[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
	}
	return parts
}

func applyOp(doc any, op string, path []string, value any) (any, error) {
	if len(path) == 0 {
		return value, nil
	}
	key, rest := path[0], path[1:]
	switch node := doc.(type) {
	case map[string]any:
		if len(rest) > 0 {
			child, ok := node[key]
			if !ok {
				return nil, fmt.Errorf("no member %q", key)
			}
			v, err := applyOp(child, op, rest, value)
			node[key] = v
			return node, err
		}
		if _, ok := node[key]; op == "replace" && !ok {
			return nil, fmt.Errorf("replace of missing member %q", key)
		}
		node[key] = value
		return node, nil
	case []any:
		if key == "-" && len(rest) == 0 && op == "add" {
			return append(node, value), nil
		}
		i, err := strconv.Atoi(key)
		if err != nil || i < 0 || i > len(node) || (i == len(node) && (op != "add" || len(rest) > 0)) {
			return nil, fmt.Errorf("bad index %q for array of %d", key, len(node))
		}
		if len(rest) > 0 {
			v, err := applyOp(node[i], op, rest, value)
			node[i] = v
			return node, err
		}
		if op == "replace" {
			node[i] = value
			return node, nil
		}
		node = append(node[:i], append([]any{value}, node[i:]...)...)
		return node, nil
	default:
		return nil, fmt.Errorf("cannot descend into %T at %q", doc, key)
	}
}
