// Package diag judges IRSA configurations. It is pure: it reads an in-memory
// Snapshot of facts gathered elsewhere and returns findings. No clients, no
// cobra, no network, and no clock except the one in the Snapshot, so every
// check is a plain table test.
package diag

// Severity is how bad a failing finding is.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Rank orders severities: error > warning > info.
func (s Severity) Rank() int {
	switch s {
	case SeverityError:
		return 3
	case SeverityWarning:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// ParseSeverity accepts error, warning, info and none (rank 0, which --fail-on
// uses to mean "never fail").
func ParseSeverity(s string) (Severity, bool) {
	switch Severity(s) {
	case SeverityError, SeverityWarning, SeverityInfo:
		return Severity(s), true
	case "none":
		return "none", true
	}
	return "", false
}

// Status says whether a check passed, failed, or could not be evaluated.
type Status string

const (
	StatusFail    Status = "fail"
	StatusPass    Status = "pass"
	StatusUnknown Status = "unknown"
)

// CheckID is a stable check identifier; never reused once published.
type CheckID string

// ObjectRef names the object a finding is about.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Container is set when the finding concerns one container of a pod.
	Container string `json:"container,omitempty"`
}

// String renders kind/name[container] in kubectl's lower-case style; AWS
// objects are named by their ARN, which already says what they are.
func (r ObjectRef) String() string {
	if r.Kind == "IAMRole" || r.Kind == "OIDCProvider" {
		return r.Name
	}
	s := lowerKind(r.Kind) + "/" + r.Name
	if r.Container != "" {
		s += "[" + r.Container + "]"
	}
	return s
}

func lowerKind(k string) string {
	b := []byte(k)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Evidence is one fact behind a finding and where it came from.
type Evidence struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// Source is the API call or object field the value was read from,
	// e.g. "pod.spec.containers[app].env" or "iam:GetRole".
	Source string `json:"source"`
}

// Finding is the public contract of a check result.
type Finding struct {
	ID          CheckID    `json:"id"`
	Severity    Severity   `json:"severity"`
	Status      Status     `json:"status"`
	Object      ObjectRef  `json:"object"`
	Message     string     `json:"message"`
	Evidence    []Evidence `json:"evidence,omitempty"`
	Remediation string     `json:"remediation,omitempty"`
	// Notice marks a passed finding that is shown without --show-passed and
	// first among its subject's: the answer a reader needs before any
	// verdict (CREDS-001, which credentials a Pod Identity subject's
	// containers really get).
	Notice bool `json:"notice,omitempty"`
}
