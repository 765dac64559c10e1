package thumbprint

// ProviderVerdict is a served chain judged against one IAM OIDC provider, with
// the command that fixes it. diagnose (IRSA-OIDC-003) and the thumbprint
// command both call JudgeProvider, so they can never disagree.
type ProviderVerdict struct {
	Judgement
	// Fix is the exact AWS CLI line that repairs the provider; empty when
	// nothing needs changing or the local view must not be used as a fix.
	Fix string `json:"fix,omitempty"`
}

// JudgeProvider judges r against the provider providerARN (found says whether
// IAM has it; list is its ThumbprintList). For a missing provider the fix
// creates it with clientID; for a list that lacks a required thumbprint it is
// the update command with the whole corrected list, since the update call
// replaces the list (docs/behaviour.md#creating-and-updating-thumbprints).
func JudgeProvider(r Report, providerARN string, found bool, list []string, clientID string) ProviderVerdict {
	v := ProviderVerdict{Judgement: Judge(r, found, list)}
	if !found {
		v.Fix = "aws iam create-open-id-connect-provider --url " + shellQuote(r.Issuer) + " --client-id-list " + shellQuote(clientID)
		return v
	}
	if len(v.Required) > 0 {
		if updated, err := UpdatedList(list, v.Required, ValidEntry); err == nil {
			v.Fix = UpdateCommand(providerARN, updated)
		}
	}
	return v
}
