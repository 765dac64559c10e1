package webhook

import (
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ParseConfigMapRoles reads the ConfigMap's data["config"] the way the real
// webhook does (amazon-eks-pod-identity-webhook pkg/cache/cache.go
// populateCacheFromCM): one JSON object from "namespace/serviceaccount" to an
// Entry. Entries are taken as written, with two exceptions: a TokenExpiration
// of 0 becomes defaultExpiration (the --token-expiration flag), and nothing
// else is defaulted, so an entry without Audience projects a token with no
// audience, one without UseRegionalSTS gets no regional STS whatever the
// flag says, and a TokenExpiration under 600 is kept (the API server then
// rejects the pod). A key is split at "/": its first two parts are the
// namespace and the name ("a/b/c" is a/b). The real webhook panics on a key
// without "/" and on a null entry; here they are skipped and returned in
// skipped. Invalid JSON is an error and yields no roles.
func ParseConfigMapRoles(data string, defaultExpiration int64) (roles ConfigMapRoles, skipped []string, err error) {
	var raw map[string]*Entry
	if err := json.Unmarshal([]byte(data), &raw); err != nil {
		return nil, nil, fmt.Errorf("configmap %s: %s is not the webhook's JSON: %w", ConfigMapName, ConfigMapKey, err)
	}
	roles = ConfigMapRoles{}
	for key, e := range raw {
		parts := strings.Split(key, "/")
		if len(parts) < 2 || e == nil {
			skipped = append(skipped, key)
			continue
		}
		entry := *e
		if entry.TokenExpiration == 0 {
			entry.TokenExpiration = defaultExpiration
		}
		roles[parts[0]+"/"+parts[1]] = entry
	}
	return roles, skipped, nil
}

// ConfigMap is the ConfigMap a webhook run with --watch-config-map and
// --namespace=namespace reads roles from, holding roles in the real format
// (the field names of Entry as JSON keys).
func ConfigMap(namespace string, roles ConfigMapRoles) (*corev1.ConfigMap, error) {
	data, err := EncodeConfigMapRoles(roles)
	if err != nil {
		return nil, err
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Namespace: namespace},
		Data:       map[string]string{ConfigMapKey: data},
	}, nil
}

// EncodeConfigMapRoles is the data["config"] value that holds roles.
func EncodeConfigMapRoles(roles ConfigMapRoles) (string, error) {
	if roles == nil {
		roles = ConfigMapRoles{}
	}
	b, err := json.Marshal(roles)
	if err != nil {
		return "", fmt.Errorf("encode configmap roles: %w", err)
	}
	return string(b), nil
}
