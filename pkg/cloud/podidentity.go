package cloud

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// associationPageSize is the largest page ListPodIdentityAssociations
// allows, so a cluster's associations take as few calls as possible.
const associationPageSize = 100

// ListAssociations lists the cluster's Pod Identity associations: one paged
// pass per namespace in namespaces, or one for the whole cluster when
// namespaces is empty (-A). The summaries carry no role; Describe adds it for
// the associations in scope. A failed page is kept as ListErr with what the
// earlier pages returned (docs/behaviour.md#pod-identity-flow).
func (c *Collector) ListAssociations(ctx context.Context, cluster string, namespaces []string) *facts.PodIdentityFacts {
	out := &facts.PodIdentityFacts{Cluster: cluster, Namespaces: dedupe(namespaces)}
	scopes := out.Namespaces
	if len(scopes) == 0 {
		scopes = []string{""}
	}
	for _, ns := range scopes {
		if err := c.listAssociations(ctx, cluster, ns, out); err != nil {
			out.ListErr = err
			break
		}
	}
	facts.SortAssociations(out.Associations)
	return out
}

func (c *Collector) listAssociations(ctx context.Context, cluster, namespace string, out *facts.PodIdentityFacts) *facts.CallError {
	in := &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(cluster), MaxResults: aws.Int32(associationPageSize)}
	if namespace != "" {
		in.Namespace = aws.String(namespace)
	}
	for {
		var res *eks.ListPodIdentityAssociationsOutput
		err := c.call(ctx, OpListPodIdentityAssociations, cluster, func(ctx context.Context) error {
			var err error
			res, err = c.EKS.ListPodIdentityAssociations(ctx, in)
			return err
		})
		if err != nil {
			return err
		}
		for _, a := range res.Associations {
			out.Associations = append(out.Associations, facts.PodIdentityAssociation{
				ID: aws.ToString(a.AssociationId), ARN: aws.ToString(a.AssociationArn),
				Namespace: aws.ToString(a.Namespace), ServiceAccount: aws.ToString(a.ServiceAccount),
				OwnerARN: aws.ToString(a.OwnerArn),
			})
		}
		next := aws.ToString(res.NextToken)
		if next == "" || next == aws.ToString(in.NextToken) {
			return nil
		}
		in.NextToken = aws.String(next)
	}
}

// DescribeAssociations describes, concurrently and within the bound, the
// associations whose "namespace/serviceaccount" is in inScope, and returns
// a copy of p with their details; the others stay summaries. Nothing is
// described twice, and nothing is described per pod.
func (c *Collector) DescribeAssociations(ctx context.Context, p *facts.PodIdentityFacts, inScope map[string]bool) *facts.PodIdentityFacts {
	if p == nil {
		return nil
	}
	out := *p
	out.Associations = append([]facts.PodIdentityAssociation(nil), p.Associations...)
	var wg sync.WaitGroup
	for i := range out.Associations {
		a := &out.Associations[i]
		if a.Described || !inScope[a.Key()] {
			continue
		}
		wg.Go(func() { c.describeAssociation(ctx, p.Cluster, a) })
	}
	wg.Wait()
	return &out
}

func (c *Collector) describeAssociation(ctx context.Context, cluster string, a *facts.PodIdentityAssociation) {
	a.DescribeErr = c.call(ctx, OpDescribePodIdentityAssociation, a.ID, func(ctx context.Context) error {
		res, err := c.EKS.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{
			ClusterName: aws.String(cluster), AssociationId: aws.String(a.ID)})
		if err != nil {
			return err
		}
		d := res.Association
		if d == nil {
			return nil
		}
		a.Described = true
		a.RoleARN = aws.ToString(d.RoleArn)
		a.TargetRoleARN = aws.ToString(d.TargetRoleArn)
		a.ExternalID = aws.ToString(d.ExternalId)
		a.DisableSessionTags = aws.ToBool(d.DisableSessionTags)
		a.Policy = aws.ToString(d.Policy)
		a.CreatedAt = aws.ToTime(d.CreatedAt)
		a.ModifiedAt = aws.ToTime(d.ModifiedAt)
		if v := aws.ToString(d.OwnerArn); v != "" {
			a.OwnerARN = v
		}
		return nil
	})
}
