package facts

import "time"

// ProbeFacts is what `diagnose --probe` learned for one subject. It holds
// decoded claims and verdicts only: never the token, never credentials.
type ProbeFacts struct {
	Audience string `json:"audience,omitempty"`
	// TokenErr is set when TokenRequest failed; nothing else ran then.
	TokenErr *ReadError  `json:"tokenError,omitempty"`
	Claims   ProbeClaims `json:"claims,omitempty"`
	Steps    []ProbeStep `json:"steps,omitempty"`
	// AssumedRoleARN is set when STS accepted the token.
	AssumedRoleARN string `json:"assumedRoleARN,omitempty"`
	// STSCode and STSMessage are STS's error; STSErr a transport failure.
	STSCode    string `json:"stsCode,omitempty"`
	STSMessage string `json:"stsMessage,omitempty"`
	STSErr     string `json:"stsError,omitempty"`
	// Explanation maps the STS error to its likely cause (pkg/explain).
	Explanation *ProbeExplanation `json:"explanation,omitempty"`
}

// ProbeClaims are the decoded claims of the minted token.
type ProbeClaims struct {
	Issuer   string    `json:"issuer,omitempty"`
	Subject  string    `json:"subject,omitempty"`
	Audience []string  `json:"audience,omitempty"`
	Expiry   time.Time `json:"expiry,omitempty"`
}

// ProbeStep is one stage of STS-style verification.
type ProbeStep struct {
	Name   string `json:"name"`
	Detail string `json:"detail,omitempty"`
	OK     bool   `json:"ok"`
}

// ProbeExplanation is the cause an STS error points to.
type ProbeExplanation struct {
	ID       string   `json:"id,omitempty"`
	Cause    string   `json:"cause,omitempty"`
	CheckIDs []string `json:"checkIds,omitempty"`
}
