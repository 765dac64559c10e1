package plugin

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/explain"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/kube"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/probe"
)

// runProbes does what each subject's pods would do: mint a token, verify it
// like STS, and present it to STS. Only claims and verdicts are kept.
func (o *DiagnoseOptions) runProbes(ctx context.Context, snap *diag.Snapshot) {
	snap.Probes = map[string]*diag.ProbeFacts{}
	minter := kube.TokenMinter{Client: o.Client}
	for _, subj := range snap.Subjects {
		roleARN, ok := diag.RoleARNAnnotation(subj.ServiceAccount)
		if !ok || subj.ServiceAccount == nil {
			continue
		}
		role, err := awsarn.ParseRoleARN(roleARN)
		if err != nil {
			continue
		}
		aud, _ := diag.TokenAudience(subj)
		in := probe.Input{Namespace: subj.Namespace, ServiceAccount: subj.ServiceAccountName, RoleARN: roleARN, Audience: aud}
		if len(subj.Pods) > 0 {
			p := subj.Pods[0].Pod
			in.Pod = &probe.BoundPod{Name: p.Name, UID: string(p.UID)}
		}
		region := ""
		if snap.AWS != nil && snap.AWS.Issuer.URL != "" {
			if arn, ok := diag.ExpectedProviderARN(role, snap.AWS.Issuer.URL); ok {
				if p := snap.AWS.Providers[arn]; p.Found {
					in.ProviderURL, in.ClientIDs = p.URL, p.ClientIDs
				}
			}
			if is, err := awsarn.ParseIssuer(snap.AWS.Issuer.URL); err == nil {
				region = is.Region
			}
		}
		if len(subj.Pods) > 0 {
			for _, c := range diag.Containers(subj.Pods[0].Pod) {
				if v, set, _ := diag.EnvValue(c.Container, diag.EnvRegion); set && v != "" {
					region = v // the pod calls its own regional endpoint
				}
			}
		}
		var client probe.STSAPI
		if c, err := o.probeSTS(ctx, region, roleARN); err == nil {
			client = c
		}
		res := probe.Run(ctx, in, minter, client, probe.VerifyOptions{})
		snap.Probes[subj.Namespace+"/"+subj.ServiceAccountName] = probeFacts(aud, res)
	}
}

func (o *DiagnoseOptions) probeSTS(ctx context.Context, region, roleARN string) (probe.STSAPI, error) {
	if o.NewProbeSTS != nil {
		return o.NewProbeSTS(ctx, region)
	}
	flags := o.AWS
	if region != "" {
		flags.Region = region
	}
	cfg, err := loadAWSConfig(ctx, flags, o.hint, []string{roleARN})
	if err != nil {
		return nil, err
	}
	// AssumeRoleWithWebIdentity is unsigned: the token is the credential, as
	// in the pod. The plugin's own credentials play no part.
	return sts.NewFromConfig(cfg, func(so *sts.Options) { so.Credentials = aws.AnonymousCredentials{} }), nil
}

func probeFacts(aud string, r probe.Result) *diag.ProbeFacts {
	f := &diag.ProbeFacts{Audience: aud}
	if r.TokenErr != nil {
		f.TokenErr = &diag.ReadError{Verb: "create", Resource: "serviceaccounts/token", Forbidden: apierrors.IsForbidden(r.TokenErr), Message: oneLine(r.TokenErr)}
		return f
	}
	c := r.Verification.Claims
	f.Claims = diag.ProbeClaims{Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience, Expiry: c.Expiry}
	for _, s := range r.Verification.Steps {
		f.Steps = append(f.Steps, diag.ProbeStep{Name: s.Name, OK: s.OK, Detail: s.Detail})
	}
	f.AssumedRoleARN, f.STSCode, f.STSMessage, f.STSErr = r.STS.AssumedRoleARN, r.STS.Code, r.STS.Message, r.STS.Err
	if f.AssumedRoleARN == "" && f.STSErr == "" && f.STSCode == "" {
		f.STSErr = "no STS client (no AWS region: pass --region)"
	}
	if f.STSCode != "" {
		if e, ok := explain.Explain(f.STSCode + ": " + f.STSMessage); ok && len(e.Causes) > 0 {
			// Every cause's checks, most likely first: the probe finding names
			// whichever of them fails offline.
			var ids []string
			for _, c := range e.Causes {
				for _, id := range c.CheckIDs {
					if !slices.Contains(ids, id) {
						ids = append(ids, id)
					}
				}
			}
			f.Explanation = &diag.ProbeExplanation{ID: e.ID, Cause: e.Causes[0].Summary, CheckIDs: ids}
		}
	}
	return f
}
