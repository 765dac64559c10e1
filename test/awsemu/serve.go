//go:build unix

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

// state is the AWS world the emulator starts with. Trust policies are JSON
// objects here (readable in the demo) and stored as the text IAM keeps.
type state struct {
	Caller    string `json:"caller"`
	Providers []struct {
		ARN         string   `json:"arn"`
		URL         string   `json:"url"`
		ClientIDs   []string `json:"clientIDs"`
		Thumbprints []string `json:"thumbprints"`
	} `json:"providers"`
	Roles []struct {
		ARN              string          `json:"arn"`
		TrustPolicy      json.RawMessage `json:"trustPolicy"`
		AttachedPolicies []string        `json:"attachedPolicies"`
		InlinePolicies   []string        `json:"inlinePolicies"`
	} `json:"roles"`
}

func loadState(path string, fake *fakeaws.Server) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("parse state %s: %w", path, err)
	}
	if st.Caller != "" {
		fake.SetCaller(fakeaws.Caller{ARN: st.Caller})
	}
	for _, p := range st.Providers {
		fake.AddProvider(fakeaws.Provider{ARN: p.ARN, URL: p.URL, ClientIDs: p.ClientIDs, Thumbprints: p.Thumbprints})
	}
	for _, r := range st.Roles {
		fake.AddRole(fakeaws.Role{ARN: r.ARN, TrustPolicy: string(r.TrustPolicy), AttachedPolicyARNs: r.AttachedPolicies, InlinePolicyNames: r.InlinePolicies})
	}
	return nil
}

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to serve on")
	statePath := fs.String("state", "", "JSON file with the caller, OIDC providers and roles")
	urlFile := fs.String("url-file", "", "write the base URL (for AWS_ENDPOINT_URL) here once listening")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fake := fakeaws.New()
	if *statePath != "" {
		if err := loadState(*statePath, fake); err != nil {
			return err
		}
	}
	return fake.ListenAndServe(ctx, *listen, func(url string) {
		log.Printf("AWS emulator (IAM, STS, EKS) on %s", url)
		if *urlFile == "" {
			return
		}
		// Write then rename, so a reader never sees a partial URL.
		tmp := *urlFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(url+"\n"), 0o600); err != nil {
			log.Printf("write url file: %v", err)
			return
		}
		if err := os.Rename(tmp, *urlFile); err != nil {
			log.Printf("write url file: %v", err)
		}
	})
}
