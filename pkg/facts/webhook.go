package facts

import (
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
)

// IRSAWebhookName is the webhook's name in EKS and in the upstream manifest.
const IRSAWebhookName = "iam-for-pods.amazonaws.com"

// IRSAWebhook finds the pod identity webhook among the configurations.
func IRSAWebhook(cfgs []admissionregistrationv1.MutatingWebhookConfiguration) (string, *admissionregistrationv1.MutatingWebhook) {
	for i := range cfgs {
		for j := range cfgs[i].Webhooks {
			if cfgs[i].Webhooks[j].Name == IRSAWebhookName {
				return cfgs[i].Name, &cfgs[i].Webhooks[j]
			}
		}
	}
	for i := range cfgs {
		if strings.Contains(cfgs[i].Name, "pod-identity-webhook") && len(cfgs[i].Webhooks) > 0 {
			return cfgs[i].Name, &cfgs[i].Webhooks[0]
		}
	}
	return "", nil
}
