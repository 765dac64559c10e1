// Package awsarn parses the ARNs and issuer URLs that IRSA involves and derives
// partitions from them. Nothing here concatenates "aws" or "amazonaws.com":
// the partition table below is the one source (docs/behaviour.md#partitions-and-audiences), so China,
// GovCloud and the isolated partitions work the same way as commercial AWS.
package awsarn

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Partition describes one AWS partition.
type Partition struct {
	// ID is the ARN partition, e.g. "aws-cn".
	ID string
	// DNSSuffix is the partition's domain, e.g. "amazonaws.com.cn".
	DNSSuffix string
	// RegionPrefixes are the region-name prefixes that belong to the partition.
	RegionPrefixes []string
	// NeedsRegion is true where SDKs have no usable global STS endpoint, so a
	// pod without AWS_REGION/AWS_DEFAULT_REGION cannot reach STS at all.
	NeedsRegion bool
	// IAMRegion is where IAM, global within the partition, signs requests;
	// used when nothing else names a region.
	IAMRegion string
}

// partitions follows the SDK's partitions.json (docs/behaviour.md#partitions-and-audiences). Order
// matters: more specific region prefixes come before "us-".
var partitions = []Partition{
	{ID: "aws-us-gov", DNSSuffix: "amazonaws.com", RegionPrefixes: []string{"us-gov-"}, NeedsRegion: true, IAMRegion: "us-gov-west-1"},
	{ID: "aws-iso", DNSSuffix: "c2s.ic.gov", RegionPrefixes: []string{"us-iso-"}, NeedsRegion: true, IAMRegion: "us-iso-east-1"},
	{ID: "aws-iso-b", DNSSuffix: "sc2s.sgov.gov", RegionPrefixes: []string{"us-isob-"}, NeedsRegion: true, IAMRegion: "us-isob-east-1"},
	{ID: "aws-iso-e", DNSSuffix: "cloud.adc-e.uk", RegionPrefixes: []string{"eu-isoe-"}, NeedsRegion: true, IAMRegion: "eu-isoe-west-1"},
	{ID: "aws-iso-f", DNSSuffix: "csp.hci.ic.gov", RegionPrefixes: []string{"us-isof-"}, NeedsRegion: true, IAMRegion: "us-isof-south-1"},
	{ID: "aws-eusc", DNSSuffix: "amazonaws.eu", RegionPrefixes: []string{"eusc-"}, NeedsRegion: true, IAMRegion: "eusc-de-east-1"},
	{ID: "aws-cn", DNSSuffix: "amazonaws.com.cn", RegionPrefixes: []string{"cn-"}, NeedsRegion: true, IAMRegion: "cn-north-1"},
	{ID: "aws", DNSSuffix: "amazonaws.com", RegionPrefixes: []string{"us-", "eu-", "ap-", "sa-", "ca-", "me-", "af-", "il-", "mx-"}, IAMRegion: "us-east-1"},
}

// LookupPartition returns the partition with the given ARN id.
func LookupPartition(id string) (Partition, bool) {
	for _, p := range partitions {
		if p.ID == id {
			return p, true
		}
	}
	return Partition{}, false
}

// PartitionForRegion derives the partition from a region name.
func PartitionForRegion(region string) (Partition, bool) {
	for _, p := range partitions {
		for _, prefix := range p.RegionPrefixes {
			if strings.HasPrefix(region, prefix) {
				return p, true
			}
		}
	}
	return Partition{}, false
}

// ARN is a parsed Amazon Resource Name.
type ARN struct {
	Partition string
	Service   string
	Region    string
	Account   string
	Resource  string
}

func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// Parse splits an ARN into its six parts without judging them.
func Parse(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ARN{}, fmt.Errorf("%q is not an ARN: want arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE", s)
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}

// RoleARN is a validated IAM role ARN.
type RoleARN struct {
	ARN
	// Path is the role path including slashes, "/" when the role has none.
	Path string
	// Name is what iam:GetRole takes: the segment after the last '/'.
	Name string
}

var (
	accountRE = regexp.MustCompile(`^\d{12}$`)
	// roleNameRE is IAM's role-name alphabet: [\w+=,.@-], 1–64 characters.
	roleNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	// rolePathSegmentRE is the alphabet IAM accepts inside a path.
	rolePathSegmentRE = regexp.MustCompile(`^[\w+=,.@-]+$`)
)

// ParseRoleARN validates an IAM role ARN the way STS will: a known partition,
// service iam, empty region, a 12-digit account and role/[path/]name. The
// error says which part is wrong, because "Request ARN is invalid" does not.
func ParseRoleARN(s string) (RoleARN, error) {
	if strings.TrimSpace(s) != s {
		return RoleARN{}, fmt.Errorf("role ARN %q has leading or trailing white space", s)
	}
	a, err := Parse(s)
	if err != nil {
		return RoleARN{}, err
	}
	if _, ok := LookupPartition(a.Partition); !ok {
		return RoleARN{}, fmt.Errorf("role ARN %q: unknown partition %q (want aws, aws-cn, aws-us-gov, …)", s, a.Partition)
	}
	if a.Service != "iam" {
		if a.Service == "sts" && strings.HasPrefix(a.Resource, "assumed-role/") {
			return RoleARN{}, fmt.Errorf("role ARN %q is an assumed-role session ARN, not a role ARN: use arn:%s:iam::%s:role/NAME", s, a.Partition, a.Account)
		}
		return RoleARN{}, fmt.Errorf("role ARN %q: service is %q, want iam", s, a.Service)
	}
	if a.Region != "" {
		return RoleARN{}, fmt.Errorf("role ARN %q: IAM ARNs have no region, found %q", s, a.Region)
	}
	if !accountRE.MatchString(a.Account) {
		return RoleARN{}, fmt.Errorf("role ARN %q: account %q is not 12 digits", s, a.Account)
	}
	rest, ok := strings.CutPrefix(a.Resource, "role/")
	if !ok {
		return RoleARN{}, fmt.Errorf("role ARN %q: resource %q does not start with role/", s, a.Resource)
	}
	segments := strings.Split(rest, "/")
	name := segments[len(segments)-1]
	if !roleNameRE.MatchString(name) {
		return RoleARN{}, fmt.Errorf("role ARN %q: role name %q is empty, too long or has characters IAM does not allow", s, name)
	}
	path := "/"
	for _, seg := range segments[:len(segments)-1] {
		if !rolePathSegmentRE.MatchString(seg) {
			return RoleARN{}, fmt.Errorf("role ARN %q: role path segment %q is empty or has characters IAM does not allow", s, seg)
		}
		path += seg + "/"
	}
	return RoleARN{ARN: a, Path: path, Name: name}, nil
}

// Issuer is a parsed OIDC issuer URL.
type Issuer struct {
	// URL is the issuer exactly as given.
	URL string
	// HostPath is the issuer without scheme and trailing slash: what IAM stores
	// as the provider URL and what trust-policy condition keys start with.
	HostPath string
	// Region and Partition are derived from an EKS issuer host
	// (oidc.eks.REGION.DNSSUFFIX or the dual-stack oidc-eks.REGION.api.aws);
	// empty for other issuers.
	Region    string
	Partition string
	// DualStack is true for the oidc-eks.REGION.api.aws form, which tokens do
	// not carry as iss (docs/behaviour.md#f1-no-openidconnect-provider cause d).
	DualStack bool
}

// ParseIssuer validates an issuer URL (https, a host, no query or fragment).
func ParseIssuer(s string) (Issuer, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return Issuer{}, fmt.Errorf("issuer %q is not a URL: %w", s, err)
	}
	if u.Scheme != "https" {
		return Issuer{}, fmt.Errorf("issuer %q must use https", s)
	}
	if u.Host == "" {
		return Issuer{}, fmt.Errorf("issuer %q has no host", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return Issuer{}, fmt.Errorf("issuer %q must not have a query or fragment", s)
	}
	is := Issuer{URL: s, HostPath: strings.TrimSuffix(u.Host+u.Path, "/")}
	host := u.Hostname()
	labels := strings.Split(host, ".")
	switch {
	case len(labels) >= 4 && labels[0] == "oidc" && labels[1] == "eks":
		is.Region = labels[2]
	case len(labels) == 4 && labels[0] == "oidc-eks" && labels[2] == "api" && labels[3] == "aws":
		is.Region, is.DualStack = labels[1], true
	}
	if is.Region != "" {
		if p, ok := PartitionForRegion(is.Region); ok {
			is.Partition = p.ID
		}
	}
	return is, nil
}

// ProviderARN builds the IAM OIDC provider ARN for an issuer in an account.
func ProviderARN(partition, account, issuerHostPath string) string {
	return ARN{Partition: partition, Service: "iam", Account: account, Resource: "oidc-provider/" + issuerHostPath}.String()
}

// ProviderURLFromARN returns the provider URL (host/path) inside an OIDC provider ARN.
func ProviderURLFromARN(s string) (string, bool) {
	a, err := Parse(s)
	if err != nil || a.Service != "iam" {
		return "", false
	}
	return strings.CutPrefix(a.Resource, "oidc-provider/")
}

// EKSClusterARN is the parsed form of arn:PARTITION:eks:REGION:ACCOUNT:cluster/NAME.
type EKSClusterARN struct {
	ARN
	Name string
}

// ParseEKSClusterARN recognises an EKS cluster ARN, as kubeconfig contexts made
// by `aws eks update-kubeconfig` name their cluster.
func ParseEKSClusterARN(s string) (EKSClusterARN, bool) {
	a, err := Parse(s)
	if err != nil || a.Service != "eks" || a.Region == "" {
		return EKSClusterARN{}, false
	}
	name, ok := strings.CutPrefix(a.Resource, "cluster/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return EKSClusterARN{}, false
	}
	return EKSClusterARN{ARN: a, Name: name}, true
}
