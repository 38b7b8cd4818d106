package tasks

import (
	"errors"
	"fmt"
	"time"

	"github.com/presswork/presswork/internal/errs"
)

// TypePanelCheck checks the Easypanel settings of PUT /v1/easypanel in a
// worker while the API waits for the answer.
const TypePanelCheck = "panel:check"

// PanelCheckWait bounds how long the API waits for a check's answer, and
// how long the check's task may run: the check's own 15 s on the panel and
// a margin for the queue, so that a panel that does not answer is reported
// as such rather than as a worker that did not.
const PanelCheckWait = 20 * time.Second

// PanelCheckPayload is a panel check's payload. The password is sealed
// with PanelCheckAD, so that Redis only holds its ciphertext.
type PanelCheckPayload struct {
	CheckID        string `json:"check_id"`
	TenantID       int64  `json:"tenant_id"`
	URL            string `json:"url"`
	Email          string `json:"email"`
	Project        string `json:"project"`
	SealedPassword []byte `json:"sealed_password"`
}

// PanelCheckAD is the associated data of a panel check's password: it
// binds the ciphertext to its tenant and check.
func PanelCheckAD(tenantID int64, checkID string) []byte {
	return fmt.Appendf(nil, "panel-check:tenant:%d:check:%s", tenantID, checkID)
}

// PanelCheckResult is a panel check's answer, written by the worker as the
// task's result: OK, the problems of the fields at fault, or the service
// that was unavailable.
type PanelCheckResult struct {
	OK          bool                `json:"ok"`
	Problems    []errs.FieldProblem `json:"problems,omitempty"`
	Unavailable string              `json:"unavailable,omitempty"`
}

// PanelCheckResultOf is the result that carries the error of a check:
// nil, a *errs.ValidationError or an *errs.UnavailableError. Any other
// error is no answer and comes back as the error.
func PanelCheckResultOf(err error) (PanelCheckResult, error) {
	var ve *errs.ValidationError
	var ue *errs.UnavailableError
	switch {
	case err == nil:
		return PanelCheckResult{OK: true}, nil
	case errors.As(err, &ve):
		return PanelCheckResult{Problems: ve.Problems}, nil
	case errors.As(err, &ue):
		return PanelCheckResult{Unavailable: ue.Service}, nil
	}
	return PanelCheckResult{}, err
}

// Err is the error the result carries, in the errs vocabulary: nil when
// the check passed. A result that says nothing is the worker's fault, not
// the settings': the check is unavailable.
func (r PanelCheckResult) Err() error {
	switch {
	case r.OK:
		return nil
	case r.Unavailable != "":
		return errs.Unavailable(r.Unavailable, errors.New("the worker's panel check found it unavailable"))
	case len(r.Problems) > 0:
		return &errs.ValidationError{Problems: r.Problems}
	}
	return errs.Unavailable("the panel check", errors.New("its result says nothing"))
}
