package diag_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// withPIAWS is the Pod Identity world with its AWS facts edited.
func withPIAWS(edit func(*facts.AWSFacts)) *facts.Snapshot {
	return piScenario([]*corev1.Pod{podIdentityPod("web", facts.PodIdentityAudience)}, func(s *facts.Snapshot) { edit(s.AWS) })
}

func setTrust(a *facts.AWSFacts, arn, doc string) {
	r := a.Roles[arn]
	r.TrustPolicy = doc
	a.Roles[arn] = r
}

// withTarget adds a target role in account 444455556666 with the trust doc,
// readable (as if the caller could read that account).
func withTarget(a *facts.AWSFacts, doc string) {
	a.PodIdentity.Associations[0].TargetRoleARN = piTarget
	a.PodIdentity.Associations[0].ExternalID = piExternalID
	a.Roles[piTarget] = facts.Role{ARN: piTarget, Name: "pi-target", Path: "/", Found: true, TrustPolicy: doc, InlinePolicyNames: []string{"s3"}}
}

func TestCheckPodIdentityRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		snap *facts.Snapshot
		want []want
	}{
		{"exists with policies", healthyPI(), []want{
			{status: diag.StatusPass, object: piRole, message: "The IAM role exists"},
			{status: diag.StatusPass, object: piRole, message: "The role has permission policies"}}},
		{"role deleted", withPIAWS(func(a *facts.AWSFacts) {
			a.Roles[piRole] = facts.Role{ARN: piRole, Err: &facts.CallError{Op: "iam:GetRole", Code: facts.ErrNotFound, Message: "no such entity"}}
		}), []want{{status: diag.StatusFail, severity: diag.SeverityError, object: piRole,
			message: `Role "pi-app" does not exist in account 111122223333: EKS Auth answers AccessDeniedException`,
			fix:     "or point the association at an existing role: aws eks update-pod-identity-association --cluster-name prod --association-id a-1 --role-arn <ROLE_ARN>"}}},
		{"no permission policies: warning", withPIAWS(func(a *facts.AWSFacts) {
			r := a.Roles[piRole]
			r.AttachedPolicyARNs = nil
			a.Roles[piRole] = r
		}), []want{{status: diag.StatusFail, severity: diag.SeverityWarning, message: "no permission policies: assuming it works"}, {status: diag.StatusPass}}},
		{"GetRole throttled: unknown", withPIAWS(func(a *facts.AWSFacts) {
			a.Roles[piRole] = facts.Role{ARN: piRole, Err: &facts.CallError{Op: "iam:GetRole", Code: facts.ErrThrottled, Message: "Rate exceeded"}}
		}), []want{{status: diag.StatusUnknown, message: "Rate exceeded"}}},
		{"describe denied: unknown, naming the permission", withPIAWS(func(a *facts.AWSFacts) {
			a.PodIdentity.Associations[0] = facts.PodIdentityAssociation{ID: "a-1", Namespace: ns, ServiceAccount: "app",
				DescribeErr: &facts.CallError{Op: "eks:DescribePodIdentityAssociation", Resource: "a-1", Code: facts.ErrAccessDenied, Message: "not authorized"}}
		}), []want{{status: diag.StatusUnknown, object: "serviceaccount/app", message: "Could not tell which role association a-1 names", fix: "grant eks:DescribePodIdentityAssociation on a-1"}}},
		{"role in another account than the cluster", withPIAWS(func(a *facts.AWSFacts) {
			other := "arn:aws:iam::444455556666:role/pi-app"
			a.PodIdentity.Associations[0].RoleARN = other
			a.Roles[other] = facts.Role{ARN: other, Err: &facts.CallError{Op: "iam:GetRole", Code: facts.ErrAccessDenied, Message: "denied"}}
		}), []want{
			{status: diag.StatusFail, severity: diag.SeverityError, message: "is in account 444455556666, but EKS Pod Identity assumes roles in the cluster's account 111122223333 only",
				fix: "--target-role-arn arn:aws:iam::444455556666:role/pi-app"},
			{status: diag.StatusUnknown, message: "it is in account 444455556666, but kubectl-irsa runs as account 111122223333"}}},
		{"a cross-account target role", withPIAWS(func(a *facts.AWSFacts) { withTarget(a, "{}") }), []want{
			{status: diag.StatusPass, object: piRole, message: "The IAM role exists"},
			{status: diag.StatusPass, object: piRole, message: "permission policies"},
			{status: diag.StatusPass, object: piTarget, message: "The IAM role exists"},
			{status: diag.StatusPass, object: piTarget, message: "permission policies"}}},
		{"a target role that cannot be read from here", withPIAWS(func(a *facts.AWSFacts) {
			withTarget(a, "{}")
			a.Roles[piTarget] = facts.Role{ARN: piTarget, Err: &facts.CallError{Op: "iam:GetRole", Code: facts.ErrAccessDenied, Message: "denied"}}
		}), []want{
			{status: diag.StatusUnknown, object: piTarget, message: "it is in account 444455556666", fix: "--aws-profile"},
			{status: diag.StatusPass, object: piRole, message: "The IAM role exists"},
			{status: diag.StatusPass, object: piRole, message: "permission policies"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tt.snap, "PODID-ROLE-001"), tt.want)
		})
	}
}

func TestCheckPodIdentityTrust(t *testing.T) {
	t.Parallel()
	trustDoc := func(doc string) *facts.Snapshot {
		return withPIAWS(func(a *facts.AWSFacts) { setTrust(a, piRole, doc) })
	}
	noTags := func(doc string) *facts.Snapshot {
		return withPIAWS(func(a *facts.AWSFacts) {
			setTrust(a, piRole, doc)
			a.PodIdentity.Associations[0].DisableSessionTags = true
		})
	}
	assumeOnly := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	tests := []struct {
		name string
		snap *facts.Snapshot
		want []want
	}{
		{"the documented policy", healthyPI(), []want{{status: diag.StatusPass, object: piRole, message: "for shop/app (sts:AssumeRole and sts:TagSession)",
			evidence: []string{"request=aws:RequestTag/eks-cluster-arn=" + piClusterARN, "aws:RequestTag/kubernetes-namespace=shop"}}}},
		{"ABAC scoped to this namespace and cluster", trustDoc(piTrust(`{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"shop","aws:RequestTag/eks-cluster-arn":"` + piClusterARN + `","aws:SourceAccount":"111122223333"}}`)),
			[]want{{status: diag.StatusPass}}},
		{"without sts:TagSession", trustDoc(assumeOnly),
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, object: piRole,
				message: "statement 0 allows Service pods.eks.amazonaws.com, but not sts:TagSession; EKS Auth answers AccessDeniedException",
				fix:     "replace statement 0 of the role's trust policy (aws iam update-assume-role-policy --role-name pi-app --policy-document file://trust.json)"}}},
		{"sts:TagSession is not needed without session tags", noTags(assumeOnly), []want{{status: diag.StatusPass, message: "(sts:AssumeRole)", evidence: []string{"disableSessionTags=true"}}}},
		{"an ABAC condition that excludes this namespace", trustDoc(piTrust(`{"StringEquals":{"aws:RequestTag/kubernetes-namespace":["prod","billing"]}}`)),
			[]want{{status: diag.StatusFail, message: `statement 0's condition StringEquals aws:RequestTag/kubernetes-namespace ["prod" "billing"] does not match ["shop"]`,
				evidence: []string{"trust policy="}, fix: "with:\n{\n  \"Sid\": \"AllowEksAuthToAssumeRoleForPodIdentity\",\n  \"Effect\": \"Allow\",\n  \"Principal\": {\n    \"Service\": \"pods.eks.amazonaws.com\"\n  },\n  \"Action\": [\n    \"sts:AssumeRole\",\n    \"sts:TagSession\"\n  ],\n  \"Condition\": {\n    \"StringEquals\": {\n      \"aws:RequestTag/kubernetes-namespace\": [\n        \"prod\",\n        \"billing\",\n        \"shop\"\n      ]\n    }\n  }\n}"}}},
		{"session tags disabled under a tag condition", noTags(piTrust(`{"StringEquals":{"aws:RequestTag/kubernetes-service-account":"app"}}`)),
			[]want{{status: diag.StatusFail, message: "fails: the association disables session tags, so EKS sends none"}}},
		{"a trust policy written for IRSA", trustDoc(trust("system:serviceaccount:shop:app")),
			[]want{{status: diag.StatusFail, message: "no statement allows Service pods.eks.amazonaws.com (the policy is written for IRSA: its principal is an OIDC provider)",
				fix: "add this statement to the role's trust policy"}}},
		{"an explicit deny", trustDoc(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]},` +
			`{"Effect":"Deny","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"shop"}}}]}`),
			[]want{{status: diag.StatusFail, message: "statement 1 denies sts:AssumeRole", fix: "remove or narrow statement 1"}}},
		{"the cluster's ARN is not known: unknown", withPIAWS(func(a *facts.AWSFacts) {
			setTrust(a, piRole, piTrust(`{"ArnEquals":{"aws:SourceArn":"`+piClusterARN+`"}}`))
			a.Cluster = &facts.Cluster{Name: piCluster, Err: &facts.CallError{Op: "eks:DescribeCluster", Code: facts.ErrAccessDenied, Message: "denied"}}
		}), []want{{status: diag.StatusUnknown, message: "aws:SourceArn: eks:DescribeCluster did not give the cluster's ARN"}}},
		{"a key kubectl-irsa does not model: unknown", trustDoc(piTrust(`{"StringEquals":{"aws:SourceOrgID":"o-abc"}}`)),
			[]want{{status: diag.StatusUnknown, message: "aws:SourceOrgID: kubectl-irsa does not know what EKS sends for it"}}},
		{"unparseable", trustDoc(`{"Statement": [`), []want{{status: diag.StatusFail, message: "cannot be parsed"}}},
		{"role missing: PODID-ROLE-001's", withPIAWS(func(a *facts.AWSFacts) {
			a.Roles[piRole] = facts.Role{ARN: piRole, Err: &facts.CallError{Op: "iam:GetRole", Code: facts.ErrNotFound, Message: "no such entity"}}
		}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tt.snap, "PODID-TRUST-001"), tt.want)
		})
	}
}

// The corrected statement is pasteable JSON: indented, with the principal,
// both actions and the widened condition.
func TestPodIdentityTrustCorrection(t *testing.T) {
	t.Parallel()
	snap := withPIAWS(func(a *facts.AWSFacts) {
		setTrust(a, piRole, piTrust(`{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"prod"}}`))
	})
	f := findingsOf(t, snap, "PODID-TRUST-001")[0]
	_, corrected, ok := strings.Cut(f.Remediation, "\nwith:\n")
	if !ok {
		t.Fatalf("remediation names no corrected statement: %q", f.Remediation)
	}
	for _, want := range []string{`"Sid": "AllowEksAuthToAssumeRoleForPodIdentity"`, `"Service": "pods.eks.amazonaws.com"`, `"sts:TagSession"`, `"prod",`, `"shop"`} {
		if !strings.Contains(corrected, want) {
			t.Errorf("corrected statement lacks %s:\n%s", want, corrected)
		}
	}
}

func TestCheckPodIdentityTargetTrust(t *testing.T) {
	t.Parallel()
	targetTrust := func(principal, condition string) string {
		c := ""
		if condition != "" {
			c = `,"Condition":` + condition
		}
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"` + c + `}]}`
	}
	withExt := `{"StringEquals":{"sts:ExternalId":"` + piExternalID + `"}}`
	target := func(doc string) *facts.Snapshot { return withPIAWS(func(a *facts.AWSFacts) { withTarget(a, doc) }) }
	tests := []struct {
		name string
		snap *facts.Snapshot
		want []want
	}{
		{"the association's role with its external ID", target(targetTrust(piRole, withExt)),
			[]want{{status: diag.StatusPass, object: piTarget, evidence: []string{"sts:ExternalId=" + piExternalID}}}},
		{"the account root", target(targetTrust("arn:aws:iam::111122223333:root", withExt)), []want{{status: diag.StatusPass}}},
		{"another external ID", target(targetTrust(piRole, `{"StringEquals":{"sts:ExternalId":"old-id"}}`)),
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, object: piTarget,
				message: `statement 0's condition StringEquals sts:ExternalId ["old-id"] does not match ["` + piExternalID + `"]`,
				fix:     `"sts:ExternalId": [`}}},
		{"another principal", target(targetTrust("arn:aws:iam::111122223333:role/other", withExt)),
			[]want{{status: diag.StatusFail, message: "no statement allows AWS " + piRole, fix: "\"AWS\": \"" + piRole + "\""}}},
		{"no target role: nothing", healthyPI(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tt.snap, "PODID-TRUST-002"), tt.want)
		})
	}
}
