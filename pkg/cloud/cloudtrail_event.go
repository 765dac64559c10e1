package cloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// trailRecord is the part of a CloudTrail record (the CloudTrailEvent
// string LookupEvents returns) the checks read; docs/behaviour.md#cloudtrail
// has the shapes of the two events with their sources. Everything else,
// the credentials' access key id included, is never decoded.
type trailRecord struct {
	EventID      string    `json:"eventID"`
	EventTime    time.Time `json:"eventTime"`
	EventSource  string    `json:"eventSource"`
	EventName    string    `json:"eventName"`
	AWSRegion    string    `json:"awsRegion"`
	SourceIP     string    `json:"sourceIPAddress"`
	UserAgent    string    `json:"userAgent"`
	ErrorCode    string    `json:"errorCode"`
	ErrorMessage string    `json:"errorMessage"`
	UserIdentity struct {
		Type             string `json:"type"`
		PrincipalID      string `json:"principalId"`
		UserName         string `json:"userName"`
		IdentityProvider string `json:"identityProvider"`
		InvokedBy        string `json:"invokedBy"`
	} `json:"userIdentity"`
	RequestParameters *struct {
		RoleARN     string `json:"roleArn"`
		ClusterName string `json:"clusterName"`
		Tags        []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		} `json:"tags"`
	} `json:"requestParameters"`
	ResponseElements *struct {
		AssumedRoleUser *struct {
			ARN string `json:"arn"`
		} `json:"assumedRoleUser"`
		Provider                    string `json:"provider"`
		Audience                    string `json:"audience"`
		SubjectFromWebIdentityToken string `json:"subjectFromWebIdentityToken"`
		Subject                     *struct {
			Namespace      string `json:"namespace"`
			ServiceAccount string `json:"serviceAccount"`
		} `json:"subject"`
		PodIdentityAssociation *struct {
			AssociationARN string `json:"associationArn"`
			AssociationID  string `json:"associationId"`
		} `json:"podIdentityAssociation"`
	} `json:"responseElements"`
	TLSDetails *struct {
		ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
	} `json:"tlsDetails"`
}

// ParseTrailEvent reads one LookupEvents result. region is the lookup's,
// used when the record names none. A record that is not JSON, or lacks an
// id, a time or an event name, is an error: the caller counts and skips it.
func ParseTrailEvent(e cttypes.Event, region string) (facts.TrailEvent, error) {
	doc := aws.ToString(e.CloudTrailEvent)
	if doc == "" {
		return facts.TrailEvent{}, errors.New("no CloudTrailEvent document")
	}
	var r trailRecord
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return facts.TrailEvent{}, fmt.Errorf("reading CloudTrailEvent: %w", err)
	}
	out := facts.TrailEvent{
		ID: r.EventID, Time: r.EventTime.UTC(), Region: r.AWSRegion, Name: r.EventName,
		ErrorCode: r.ErrorCode, ErrorMessage: oneLine(r.ErrorMessage), UserAgent: r.UserAgent, SourceIP: r.SourceIP,
	}
	if out.ID == "" {
		out.ID = aws.ToString(e.EventId)
	}
	if out.Time.IsZero() && e.EventTime != nil {
		out.Time = e.EventTime.UTC()
	}
	if out.Name == "" {
		out.Name = aws.ToString(e.EventName)
	}
	if out.Region == "" {
		out.Region = region
	}
	if out.ID == "" || out.Time.IsZero() || out.Name == "" {
		return facts.TrailEvent{}, errors.New("the record has no event id, time or name")
	}
	if r.TLSDetails != nil {
		out.Host = r.TLSDetails.ClientProvidedHostHeader
	}
	if p := r.RequestParameters; p != nil {
		out.RoleARN, out.Cluster = p.RoleARN, p.ClusterName
	}
	switch out.Name {
	case facts.EventAssumeRoleWithWebIdentity:
		readWebIdentity(&r, &out)
	case facts.EventAssumeRoleForPodIdentity:
		readPodIdentity(&r, &out)
	case facts.EventAssumeRole:
		readPodIdentitySession(&r, &out)
	}
	return out, nil
}

// podIdentityService is the service principal EKS assumes Pod Identity
// roles as (docs/behaviour.md#pod-identity-trust-policy).
const podIdentityService = "pods.eks.amazonaws.com"

// readPodIdentitySession reads EKS's AssumeRole behind a Pod Identity
// exchange: the session tags name the cluster, namespace and service
// account. Any other AssumeRole keeps no cluster, and is not kept.
func readPodIdentitySession(r *trailRecord, out *facts.TrailEvent) {
	out.Cluster = ""
	if r.UserIdentity.InvokedBy != podIdentityService || r.RequestParameters == nil {
		return
	}
	for _, t := range r.RequestParameters.Tags {
		switch t.Key {
		case "eks-cluster-name":
			out.Cluster = t.Value
		case "kubernetes-namespace":
			out.Namespace = t.Value
		case "kubernetes-service-account":
			out.ServiceAccount = t.Value
		}
	}
	if re := r.ResponseElements; re != nil && re.AssumedRoleUser != nil {
		out.AssumedRoleARN = re.AssumedRoleUser.ARN
	}
}

// readWebIdentity takes the caller from the token: userName is its sub and
// identityProvider its provider; principalId joins provider, audience and
// sub, and is the only place a failed call keeps the audience.
func readWebIdentity(r *trailRecord, out *facts.TrailEvent) {
	sub := r.UserIdentity.UserName
	out.Provider = r.UserIdentity.IdentityProvider
	if re := r.ResponseElements; re != nil {
		if sub == "" {
			sub = re.SubjectFromWebIdentityToken
		}
		if out.Provider == "" {
			out.Provider = re.Provider
		}
		out.Audience = re.Audience
		if re.AssumedRoleUser != nil {
			out.AssumedRoleARN = re.AssumedRoleUser.ARN
		}
	}
	if pid := r.UserIdentity.PrincipalID; pid != "" && sub != "" && out.Provider != "" && out.Audience == "" {
		// "<provider>:<audience>:<sub>": what is between the two is the audience.
		if mid, ok := strings.CutPrefix(pid, out.Provider+":"); ok {
			if aud, ok := strings.CutSuffix(mid, ":"+sub); ok {
				out.Audience = aud
			}
		}
	}
	if ns, name, ok := facts.ParseServiceAccountSubject(sub); ok {
		out.Namespace, out.ServiceAccount = ns, name
	} else {
		out.Subject = sub
	}
}

// readPodIdentity reads EKS Auth's record. CloudTrail logs it with
// responseElements null, success or not, so it names only the cluster;
// the subject fields are read should it ever carry them.
func readPodIdentity(r *trailRecord, out *facts.TrailEvent) {
	re := r.ResponseElements
	if re == nil {
		return
	}
	if re.Subject != nil {
		out.Namespace, out.ServiceAccount = re.Subject.Namespace, re.Subject.ServiceAccount
	}
	if re.PodIdentityAssociation != nil {
		out.AssociationID = re.PodIdentityAssociation.AssociationID
	}
	if re.AssumedRoleUser != nil {
		out.AssumedRoleARN = re.AssumedRoleUser.ARN
	}
}

// ProviderHostPath is the issuer host and path an event's provider names,
// whether CloudTrail gives the provider's ARN or its URL.
func ProviderHostPath(provider string) string {
	if _, rest, ok := strings.Cut(provider, ":oidc-provider/"); ok && strings.HasPrefix(provider, "arn:") {
		return strings.TrimSuffix(rest, "/")
	}
	return strings.TrimSuffix(strings.TrimPrefix(provider, "https://"), "/")
}
