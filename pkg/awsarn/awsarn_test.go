package awsarn

import (
	"strings"
	"testing"
)

func TestParseRoleARN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in         string
		path, name string
		err        string
	}{
		{in: "arn:aws:iam::111122223333:role/app", path: "/", name: "app"},
		{in: "arn:aws:iam::111122223333:role/team/app", path: "/team/", name: "app"},
		{in: "arn:aws-cn:iam::111122223333:role/a/b/c", path: "/a/b/", name: "c"},
		{in: "arn:aws-us-gov:iam::111122223333:role/x+y=z,a.b@c-d_e", path: "/", name: "x+y=z,a.b@c-d_e"},
		{in: "arn:aws:iam::::1234567890:role/x", err: "is not 12 digits"},
		{in: "arn:aws:iam::111122223333:role/", err: "role name"},
		{in: "arn:aws:iam::111122223333:role//app", err: "path segment"},
		{in: "arn:aws:iam::111122223333:instance-profile/app", err: "does not start with role/"},
		{in: "arn:aws:s3:::bucket", err: `service is "s3"`},
		{in: "arn:aws:sts::111122223333:assumed-role/app/s", err: "assumed-role session ARN"},
		{in: " arn:aws:iam::111122223333:role/app", err: "white space"},
		{in: "arn:aws", err: "is not an ARN"},
	}
	for _, tc := range tests {
		got, err := ParseRoleARN(tc.in)
		if tc.err != "" {
			if err == nil || !contains(err.Error(), tc.err) {
				t.Errorf("ParseRoleARN(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got.Path != tc.path || got.Name != tc.name {
			t.Errorf("ParseRoleARN(%q) = %+v, %v; want path %q name %q", tc.in, got, err, tc.path, tc.name)
		}
	}
}

func TestParseIssuer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, hostPath, region, partition string
		dual                            bool
		err                             bool
	}{
		{in: "https://oidc.eks.us-west-2.amazonaws.com/id/ABC", hostPath: "oidc.eks.us-west-2.amazonaws.com/id/ABC", region: "us-west-2", partition: "aws"},
		{in: "https://oidc.eks.us-west-2.amazonaws.com/id/ABC/", hostPath: "oidc.eks.us-west-2.amazonaws.com/id/ABC", region: "us-west-2", partition: "aws"},
		{in: "https://oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC", hostPath: "oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC", region: "cn-north-1", partition: "aws-cn"},
		{in: "https://oidc.eks.us-gov-west-1.amazonaws.com/id/ABC", hostPath: "oidc.eks.us-gov-west-1.amazonaws.com/id/ABC", region: "us-gov-west-1", partition: "aws-us-gov"},
		{in: "https://oidc-eks.eu-west-1.api.aws/id/ABC", hostPath: "oidc-eks.eu-west-1.api.aws/id/ABC", region: "eu-west-1", partition: "aws", dual: true},
		{in: "https://127.0.0.1:6443", hostPath: "127.0.0.1:6443"},
		{in: "http://oidc.example.com", err: true},
		{in: "https:///id", err: true},
		{in: "https://x.example.com/?a=b", err: true},
	}
	for _, tc := range tests {
		got, err := ParseIssuer(tc.in)
		if tc.err {
			if err == nil {
				t.Errorf("ParseIssuer(%q) succeeded, want error", tc.in)
			}
			continue
		}
		if err != nil || got.HostPath != tc.hostPath || got.Region != tc.region || got.Partition != tc.partition || got.DualStack != tc.dual {
			t.Errorf("ParseIssuer(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

func TestPartitionsAndProviderARN(t *testing.T) {
	t.Parallel()
	for region, want := range map[string]string{"us-east-1": "aws", "us-gov-east-1": "aws-us-gov", "cn-northwest-1": "aws-cn", "us-iso-east-1": "aws-iso",
		"us-isob-east-1": "aws-iso-b", "eu-isoe-west-1": "aws-iso-e", "us-isof-south-1": "aws-iso-f", "eusc-de-east-1": "aws-eusc", "il-central-1": "aws"} {
		if p, ok := PartitionForRegion(region); !ok || p.ID != want {
			t.Errorf("PartitionForRegion(%q) = %q, want %q", region, p.ID, want)
		}
	}
	if _, ok := PartitionForRegion("mars-1"); ok {
		t.Error("unknown region resolved to a partition")
	}
	got := ProviderARN("aws-cn", "111122223333", "oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC")
	if got != "arn:aws-cn:iam::111122223333:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC" {
		t.Errorf("ProviderARN = %q", got)
	}
	if u, ok := ProviderURLFromARN(got); !ok || u != "oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC" {
		t.Errorf("ProviderURLFromARN = %q %v", u, ok)
	}
	c, ok := ParseEKSClusterARN("arn:aws-us-gov:eks:us-gov-west-1:111122223333:cluster/prod")
	if !ok || c.Name != "prod" || c.Region != "us-gov-west-1" || c.Partition != "aws-us-gov" {
		t.Errorf("ParseEKSClusterARN = %+v %v", c, ok)
	}
	if _, ok := ParseEKSClusterARN("arn:aws:eks:us-west-2:111122223333:nodegroup/prod/ng/x"); ok {
		t.Error("nodegroup ARN parsed as a cluster")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
