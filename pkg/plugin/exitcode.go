package plugin

import "fmt"

// Exit codes, documented in --help and the README.
const (
	// ExitOK: the run completed and no finding is at or above --fail-on.
	ExitOK = 0
	// ExitError: the tool could not run (usage, kubeconfig, cluster unreachable, RBAC on a required read).
	ExitError = 1
	// ExitFindings: findings at or above --fail-on.
	ExitFindings = 2
)

// ExitCodeError carries an exit code out of a command. With a nil Err nothing is
// printed: the findings already said everything.
type ExitCodeError struct {
	Code int
	Err  error
}

func (e *ExitCodeError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit code %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitCodeError) Unwrap() error { return e.Err }
