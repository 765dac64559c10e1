package awsarn

import (
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary text, as it arrives from annotations, pod env,
// kubeconfig contexts and --issuer, through every parser of the package.
// Nothing may panic, every accepted ARN prints back to exactly its input,
// and what a parser derives (role path and name, cluster name, the issuer's
// region and partition, the provider URL) is consistent with the input and
// with the partition table (docs/behaviour.md#partitions-and-audiences).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"arn:aws:iam::111122223333:role/app",
		"arn:aws:iam::111122223333:role/team/app",
		"arn:aws-cn:iam::111122223333:role/a/b/c",
		"arn:aws-us-gov:iam::111122223333:role/x+y=z,a.b@c-d_e",
		"arn:aws:iam::::1234567890:role/x",
		"arn:aws:iam::111122223333:role//app",
		"arn:aws:sts::111122223333:assumed-role/app/s",
		"arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC",
		"arn:aws-us-gov:eks:us-gov-west-1:111122223333:cluster/prod",
		"arn:aws:eks:us-west-2:111122223333:nodegroup/prod/ng/x",
		" arn:aws:iam::111122223333:role/app",
		"arn:aws",
		"https://oidc.eks.us-west-2.amazonaws.com/id/ABC/",
		"https://oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC",
		"https://oidc-eks.eu-west-1.api.aws/id/ABC",
		"https://127.0.0.1:6443",
		"https://x.example.com/?a=b",
		"http://oidc.example.com",
		"us-gov-east-1",
		"eusc-de-east-1",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := Parse(s); err == nil {
			if a.String() != s {
				t.Fatalf("Parse(%q).String() = %q", s, a.String())
			}
			for _, part := range []string{a.Partition, a.Service, a.Region, a.Account} {
				if strings.Contains(part, ":") {
					t.Fatalf("Parse(%q): component %q holds a colon", s, part)
				}
			}
		} else if strings.HasPrefix(s, "arn:") && strings.Count(s, ":") >= 5 {
			t.Fatalf("Parse(%q) rejected a six-part ARN: %v", s, err)
		}

		if r, err := ParseRoleARN(s); err == nil {
			if r.String() != s || r.Service != "iam" || r.Region != "" || !accountRE.MatchString(r.Account) {
				t.Fatalf("ParseRoleARN(%q) accepted %+v", s, r)
			}
			if _, ok := LookupPartition(r.Partition); !ok {
				t.Fatalf("ParseRoleARN(%q): unknown partition %q accepted", s, r.Partition)
			}
			if !strings.HasPrefix(r.Path, "/") || !strings.HasSuffix(r.Path, "/") || r.Name == "" || strings.Contains(r.Name, "/") {
				t.Fatalf("ParseRoleARN(%q): path %q, name %q", s, r.Path, r.Name)
			}
			if "role"+r.Path+r.Name != r.Resource {
				t.Fatalf("ParseRoleARN(%q): role%s%s is not the resource %q", s, r.Path, r.Name, r.Resource)
			}
		}

		if c, ok := ParseEKSClusterARN(s); ok {
			if c.String() != s || c.Service != "eks" || c.Region == "" || c.Name == "" || "cluster/"+c.Name != c.Resource {
				t.Fatalf("ParseEKSClusterARN(%q) accepted %+v", s, c)
			}
		}

		if u, ok := ProviderURLFromARN(s); ok {
			if a, err := Parse(s); err != nil || a.Service != "iam" || a.Resource != "oidc-provider/"+u {
				t.Fatalf("ProviderURLFromARN(%q) = %q, not the resource of an IAM ARN", s, u)
			}
		}

		if is, err := ParseIssuer(s); err == nil {
			if is.URL != s || is.HostPath == "" {
				t.Fatalf("ParseIssuer(%q) = %+v", s, is)
			}
			if is.Partition != "" {
				if p, ok := PartitionForRegion(is.Region); !ok || p.ID != is.Partition {
					t.Fatalf("ParseIssuer(%q): region %q, partition %q", s, is.Region, is.Partition)
				}
			}
			if is.DualStack && is.Region == "" {
				t.Fatalf("ParseIssuer(%q): dual-stack without a region", s)
			}
			// The provider ARN built from the issuer gives the issuer's URL back.
			for _, p := range partitions {
				arn := ProviderARN(p.ID, "111122223333", is.HostPath)
				if u, ok := ProviderURLFromARN(arn); !ok || u != is.HostPath {
					t.Fatalf("ProviderURLFromARN(ProviderARN(%q)) = %q, %v", is.HostPath, u, ok)
				}
			}
		}

		if p, ok := PartitionForRegion(s); ok {
			q, found := LookupPartition(p.ID)
			if !found || q.ID != p.ID || q.IAMRegion == "" {
				t.Fatalf("PartitionForRegion(%q) = %+v, not in the table", s, p)
			}
			if !hasAnyPrefix(s, p.RegionPrefixes) {
				t.Fatalf("PartitionForRegion(%q) = %s, whose prefixes %v it lacks", s, p.ID, p.RegionPrefixes)
			}
			if r, ok := PartitionForRegion(p.IAMRegion); !ok || r.ID != p.ID {
				t.Fatalf("the IAM region %q of %s resolves to %q", p.IAMRegion, p.ID, r.ID)
			}
		}
	})
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
