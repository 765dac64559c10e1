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
// Every key may be left out.
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
	// Clusters are EKS clusters (eks:DescribeCluster); an empty issuer is a
	// cluster without an identity block.
	Clusters []struct {
		Name            string `json:"name"`
		ARN             string `json:"arn"`
		Version         string `json:"version"`
		PlatformVersion string `json:"platformVersion"`
		Issuer          string `json:"issuer"`
		IPFamily        string `json:"ipFamily"`
	} `json:"clusters"`
	// Associations are EKS Pod Identity associations, loaded after the
	// clusters so that their ARNs are the clusters'.
	Associations []struct {
		ClusterName        string `json:"clusterName"`
		Namespace          string `json:"namespace"`
		ServiceAccount     string `json:"serviceAccount"`
		RoleARN            string `json:"roleArn"`
		TargetRoleARN      string `json:"targetRoleArn"`
		DisableSessionTags bool   `json:"disableSessionTags"`
	} `json:"associations"`
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
	for _, c := range st.Clusters {
		if c.Name == "" {
			return fmt.Errorf("state %s: a cluster without a name", path)
		}
		fake.AddCluster(fakeaws.Cluster{Name: c.Name, ARN: c.ARN, Version: c.Version, PlatformVersion: c.PlatformVersion, Issuer: c.Issuer, IPFamily: c.IPFamily})
	}
	for _, a := range st.Associations {
		if a.ClusterName == "" || a.Namespace == "" || a.ServiceAccount == "" || a.RoleARN == "" {
			return fmt.Errorf("state %s: association %s/%s needs clusterName, namespace, serviceAccount and roleArn", path, a.Namespace, a.ServiceAccount)
		}
		fake.AddAssociation(fakeaws.Association{ClusterName: a.ClusterName, Namespace: a.Namespace, ServiceAccount: a.ServiceAccount,
			RoleARN: a.RoleARN, TargetRoleARN: a.TargetRoleARN, DisableSessionTags: a.DisableSessionTags})
	}
	return nil
}

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to serve on")
	statePath := fs.String("state", "", "JSON file with the caller, OIDC providers, roles, EKS clusters and Pod Identity associations")
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
