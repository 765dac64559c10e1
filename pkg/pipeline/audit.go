package pipeline

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/audit"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/kube"
)

// Roles values of AuditRequest.
const (
	AuditRolesAnnotated = "annotated"
	AuditRolesAll       = "all"
)

// AuditRequest is what one `kubectl irsa audit` run is asked to do.
type AuditRequest struct {
	// Scope is the namespace, or the cluster with AllNamespaces.
	Scope kube.Scope
	AWS   AWSOptions
	Hint  kube.ClusterHint
	// Roles is AuditRolesAnnotated (the roles named in scope) or
	// AuditRolesAll (every role of the account, under PathPrefix).
	Roles      string
	PathPrefix string
}

// AuditKubeSource lists the service accounts in scope.
type AuditKubeSource interface {
	ServiceAccounts(ctx context.Context, scope kube.Scope, progress Progress) ([]corev1.ServiceAccount, error)
	DiscoverIssuer(ctx context.Context) (string, error)
}

// AuditAWSSource reads the audit's AWS facts. It never fails: a failed
// call is a fact. A source that is also an AssociationLister lists the
// cluster's Pod Identity associations first.
type AuditAWSSource interface {
	Audit(ctx context.Context, in cloud.AuditInput, progress Progress) *facts.AuditFacts
}

// AuditSources are where an audit reads the world from.
type AuditSources struct {
	Kube     AuditKubeSource
	AWS      AuditAWSSource
	Progress Progress
}

// AuditResult is a finished audit and the facts it judged.
type AuditResult struct {
	Report audit.Report
	AWS    *facts.AuditFacts
}

// Audit runs resolve → collect → judge for `kubectl irsa audit`: the
// service accounts in scope, the Pod Identity associations, the issuer
// (as diagnose resolves it), the roles and the account's providers and
// quotas, then the pure audit (docs/audit.md). It fails only when the
// service accounts cannot be listed or the issuer cannot be resolved.
func Audit(ctx context.Context, req AuditRequest, src AuditSources) (AuditResult, error) {
	progress := src.Progress
	if progress == nil {
		progress = noProgress{}
	}
	diagReq := Request{Scope: req.Scope, AWS: req.AWS, Hint: req.Hint}
	associations := listAssociations(ctx, diagReq, src.AWS, progress)
	list, err := src.Kube.ServiceAccounts(ctx, req.Scope, progress)
	if err != nil {
		return AuditResult{}, err
	}
	sas, roleARNs, inScope := auditServiceAccounts(list)

	if req.AWS.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.AWS.Timeout)
		defer cancel()
	}
	in := cloud.AuditInput{Issuer: req.AWS.Issuer, RoleARNs: roleARNs, AllRoles: req.Roles == AuditRolesAll, PathPrefix: req.PathPrefix,
		PodIdentity: associations, InScope: inScope}
	in.ClusterName, in.ClusterSource = clusterName(diagReq)
	in.DiscoverIssuer = src.Kube.DiscoverIssuer
	aws := src.AWS.Audit(ctx, in, progress)
	if aws.Issuer.URL == "" {
		msg := "cannot resolve the cluster's OIDC issuer"
		if len(aws.Issuer.Tried) > 0 {
			msg += " (tried: " + strings.Join(aws.Issuer.Tried, "; ") + ")"
		}
		return AuditResult{AWS: aws}, fmt.Errorf("%s: pass --issuer or --cluster", msg)
	}
	roleByKey := map[string][]string{}
	var assocs []facts.PodIdentityAssociation
	if aws.PodIdentity != nil {
		assocs = aws.PodIdentity.Associations
	}
	for _, a := range assocs {
		if a.RoleARN != "" {
			roleByKey[a.Key()] = append(roleByKey[a.Key()], a.RoleARN)
		}
	}
	for i := range sas {
		sas[i].PodIdentityRoles = roleByKey[sas[i].Namespace+"/"+sas[i].Name]
	}

	ain := audit.Input{Issuer: aws.Issuer.URL, Account: aws.Caller.Account, AllNamespaces: req.Scope.AllNamespaces, Namespace: req.Scope.Namespace,
		ServiceAccounts: sas, AllRoles: in.AllRoles && aws.ListErr == nil, PathPrefix: req.PathPrefix, SizeQuota: aws.SizeQuota}
	for _, r := range aws.Roles {
		ain.Roles = append(ain.Roles, audit.Role{ARN: r.ARN, TrustPolicy: r.TrustPolicy, Err: r.Err, Listed: r.Listed})
	}
	providers := aws.Providers
	ain.Providers = &providers
	for _, e := range []*facts.CallError{aws.ListErr, aws.SummaryErr, aws.Providers.Err} {
		if e != nil {
			ain.Failed = append(ain.Failed, e)
		}
	}
	progress.Phase(fmt.Sprintf("auditing %d roles against %d service accounts", len(ain.Roles), len(sas)))
	return AuditResult{Report: audit.Run(ain), AWS: aws}, nil
}

// auditServiceAccounts turns the listed service accounts into the audit's,
// with the distinct valid role ARNs they name and their keys.
func auditServiceAccounts(list []corev1.ServiceAccount) ([]audit.ServiceAccount, []string, map[string]bool) {
	sas := make([]audit.ServiceAccount, 0, len(list))
	inScope := make(map[string]bool, len(list))
	seen := map[string]bool{}
	var roles []string
	for i := range list {
		sa := &list[i]
		role := strings.TrimSpace(facts.RoleARNOf(sa))
		sas = append(sas, audit.ServiceAccount{Namespace: sa.Namespace, Name: sa.Name, RoleARN: role,
			Audience: sa.Annotations[facts.AnnotationAudience]})
		inScope[sa.Namespace+"/"+sa.Name] = true
		if role == "" || seen[role] {
			continue
		}
		if _, err := awsarn.ParseRoleARN(role); err == nil {
			seen[role] = true
			roles = append(roles, role)
		}
	}
	return sas, roles, inScope
}

// ServiceAccounts lists the service accounts in scope.
func (k LiveKube) ServiceAccounts(ctx context.Context, scope kube.Scope, progress Progress) ([]corev1.ServiceAccount, error) {
	c := &kube.Collector{Client: k.Client, Progress: progress.Listed}
	return c.ServiceAccounts(ctx, scope)
}

// Audit reads the audit's AWS facts; a configuration that cannot be loaded
// leaves the issuer to --issuer and the API server, and every role unread.
func (a LiveAWS) Audit(ctx context.Context, in cloud.AuditInput, progress Progress) *facts.AuditFacts {
	c, err := a.collector(ctx, in.RoleARNs)
	if err != nil {
		unavailable := &facts.CallError{Op: "aws configuration", Code: facts.ErrOther, Message: err.Error()}
		out := &facts.AuditFacts{}
		out.Issuer = (&cloud.Collector{}).ResolveIssuerWithoutAWS(ctx, cloud.GatherInput{Issuer: in.Issuer, DiscoverIssuer: in.DiscoverIssuer})
		for _, r := range in.RoleARNs {
			out.Roles = append(out.Roles, facts.AuditRole{ARN: r, Err: unavailable})
		}
		out.Providers.Err = unavailable
		out.SummaryErr = unavailable
		return out
	}
	progress.AWSStarted(len(in.RoleARNs))
	c.OnCall, c.OnRole = progress.AWSCalled, progress.RoleDone
	return c.Audit(ctx, in)
}
