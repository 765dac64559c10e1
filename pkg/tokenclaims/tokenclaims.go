// Package tokenclaims decodes the payload of a Kubernetes service-account
// token (docs/behaviour.md#projected-service-account-token) without verifying it. explain uses it to show a
// pasted token as claims, probe to report a minted one; neither keeps the
// token itself.
package tokenclaims

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// Claims are the claims IRSA cares about.
type Claims struct {
	Issuer         string
	Subject        string
	Audience       []string
	Expiry         int64 // Unix seconds
	IssuedAt       int64
	Namespace      string
	Pod            string
	ServiceAccount string
}

// DecodePayload decodes the base64url payload segment of a JWT.
func DecodePayload(segment string) (Claims, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(segment, "="))
	if err != nil {
		return Claims{}, fmt.Errorf("decoding the token payload: %w", err)
	}
	var p struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Exp json.Number     `json:"exp"`
		Iat json.Number     `json:"iat"`
		K8s struct {
			Namespace string `json:"namespace"`
			Pod       struct {
				Name string `json:"name"`
			} `json:"pod"`
			ServiceAccount struct {
				Name string `json:"name"`
			} `json:"serviceaccount"`
		} `json:"kubernetes.io"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return Claims{}, fmt.Errorf("the token payload is not JSON: %w", err)
	}
	c := Claims{Issuer: p.Iss, Subject: p.Sub, Namespace: p.K8s.Namespace, Pod: p.K8s.Pod.Name, ServiceAccount: p.K8s.ServiceAccount.Name}
	// aud is an array in projected tokens but may be a single string.
	var one string
	if json.Unmarshal(p.Aud, &one) == nil {
		c.Audience = []string{one}
	} else if len(p.Aud) > 0 {
		_ = json.Unmarshal(p.Aud, &c.Audience)
	}
	c.Expiry, _ = p.Exp.Int64()
	c.IssuedAt, _ = p.Iat.Int64()
	return c, nil
}
