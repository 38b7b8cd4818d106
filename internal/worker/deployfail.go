package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/presswork/presswork/internal/easypanel"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/tasks"
)

// errNotRunningYet is a wait for the app that reached its deadline.
var errNotRunningYet = errors.New("the app is not running yet")

// deployFailedError is a deploy the panel ended in error: its own reason.
type deployFailedError struct{ reason string }

func (e *deployFailedError) Error() string { return "the panel's deploy ended in error: " + e.reason }

// missingProjectError is a project the panel does not have.
type missingProjectError struct{ project string }

func (e *missingProjectError) Error() string {
	return fmt.Sprintf("the panel has no project %q", e.project)
}

// fail records a failed step: the user's short message on the deployment
// and in the log, the panel's whole reply (masked) as the log's detail. A
// failure that can pass (the panel or the network down for a while, an
// app still starting) is retried while attempts remain; any other, or the
// last attempt, marks the deployment failed.
func (dp *deployJob) fail(ctx context.Context, step, userMsg string, err error) error {
	err = maskedError{err: err, secrets: dp.secrets}
	detail := err.Error()
	var pe *easypanel.Error
	if errors.As(err, &pe) {
		detail = string(pe.Reply)
	}
	userMsg = dp.userMessage(userMsg, err)
	if ctx.Err() != nil {
		return err // shutting down: the job goes back to the queue
	}
	retry := !errs.IsPermanent(err) && retryable(err) && !isLastAttempt(ctx)
	if retry {
		dp.log(ctx, step, userMsg+" (will retry)", detail)
		return err
	}
	dp.log(ctx, step, userMsg, detail)
	status := dp.d.Status
	if dp.action == tasks.ActionDeploy || dp.action == tasks.ActionRedeploy || dp.action == tasks.ActionStart {
		status = deployFailed
	}
	if serr := dp.state(ctx, dp.d.Step, status, userMsg); serr != nil {
		dp.w.log.Warn("recording a failed deployment", "deployment", dp.d.ID, "error", serr)
	}
	return errs.Permanent(&remoteError{msg: userMsg, code: deployCode(err), err: err})
}

// deployCode is the code of a failed deployment step.
func deployCode(err error) string {
	if errors.Is(err, easypanel.ErrLoginRefused) {
		return errs.CodePanelLogin
	}
	if code := errs.CodeOf(err); code != errs.CodeInternal {
		return code
	}
	return errs.CodeDeployFailed
}

// maxReasonLen bounds the panel's reason in a user's message.
const maxReasonLen = 200

// userMessage is failure ("Deployment failed: the panel refused the
// domain") made precise: what was wrong when the panel said it (the login,
// the project, a newer panel), else the panel's own reason appended, each
// scrubbed of every secret the action knows.
func (dp *deployJob) userMessage(failure string, err error) string {
	head, _, _ := strings.Cut(failure, ": ")
	var mp *missingProjectError
	var df *deployFailedError
	pe, fromPanel := errors.AsType[*easypanel.Error](err)
	projectMissing := errors.As(err, &mp) || fromPanel && pe.ProjectMissing()
	var reason string
	switch {
	case errors.Is(err, easypanel.ErrUnsupportedPanel):
		return head + ": the panel runs a newer Easypanel (2.31 or later) that Presswork does not support yet"
	case errors.Is(err, easypanel.ErrLoginRefused) && dp.d.Panel == "tenant":
		return head + ": the panel refused Presswork's login; correct the email or password with PUT /v1/easypanel"
	case errors.Is(err, easypanel.ErrLoginRefused):
		return head + ": the operator's panel refused Presswork's login (EASYPANEL_EMAIL, EASYPANEL_PASSWORD)"
	case projectMissing && dp.d.Panel == "tenant":
		return fmt.Sprintf("%s: the panel has no project %q; create it on the panel or name another with PUT /v1/easypanel",
			head, dp.d.Project)
	case projectMissing:
		return fmt.Sprintf("%s: the operator's panel has no project %q (EASYPANEL_PROJECT)", head, dp.d.Project)
	case errors.As(err, &df):
		return head + ": the panel's deploy ended in error: " + dp.scrubReason(df.reason)
	case fromPanel:
		reason = dp.scrubReason(pe.Message)
	}
	if reason == "" {
		return failure
	}
	return failure + ": " + reason
}

// scrubReason is the panel's reason as a user may read it: without any
// secret the action knows, and short.
func (dp *deployJob) scrubReason(reason string) string {
	reason = strings.TrimSpace(string(easypanel.Mask([]byte(reason), dp.secrets...))) // Mask ends in secret.Scrub
	if len(reason) > maxReasonLen {
		reason = strings.ToValidUTF8(reason[:maxReasonLen], "") + "..."
	}
	return reason
}

// retryable reports whether a panel failure may pass: the network, a 5xx
// or 429; not a refused login or a panel Presswork does not speak.
func retryable(err error) bool {
	if errors.Is(err, easypanel.ErrUnsupportedPanel) || errors.Is(err, easypanel.ErrLoginRefused) {
		return false
	}
	var pe *easypanel.Error
	if errors.As(err, &pe) {
		return pe.Temporary()
	}
	return true
}
