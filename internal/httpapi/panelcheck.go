package httpapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// PanelCheckQueue carries PUT /v1/easypanel's checks to a worker and their
// answers back: an asynq client's EnqueueContext and an inspector's
// GetTaskInfo and DeleteTask.
type PanelCheckQueue interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
	GetTaskInfo(queue, id string) (*asynq.TaskInfo, error)
	DeleteTask(queue, id string) error
}

// panelCheckPoll is how often the API looks for a check's answer.
const panelCheckPoll = 25 * time.Millisecond

// noWorker is the service a check that no worker answered in time names.
const noWorker = "the panel check (no worker answered)"

// checkFailed is the service a check that a worker could not finish
// names: the fault is Presswork's, not the settings'.
const checkFailed = "the panel check"

// checkPanel has a worker log in to the panel that PUT /v1/easypanel names
// and look for its project (tasks.TypePanelCheck), so that wrong settings
// are refused when they are given rather than when a deploy fails. The
// problem names the field at fault: email and password for a refused
// login, project for a missing project, url for an address that is no
// reachable Easypanel; a panel that fails (5xx) or does not answer in
// time, no worker answering within tasks.PanelCheckWait, or a worker that
// could not finish the check is 503.
func (s *Server) checkPanel(ctx context.Context, creds store.PanelCredentials, password string) error {
	if s.panelChecks == nil {
		return errors.New("check the panel: the API has no panel check queue")
	}
	id := rand.Text()
	sealed, err := s.box.Seal([]byte(password), tasks.PanelCheckAD(creds.TenantID, id))
	if err != nil {
		return fmt.Errorf("seal the panel check's password: %w", err)
	}
	task, err := jobs.NewPanelCheckTask(tasks.PanelCheckPayload{CheckID: id, TenantID: creds.TenantID,
		URL: creds.URL, Email: creds.Email, Project: creds.Project, SealedPassword: sealed})
	if err != nil {
		return err
	}
	if _, err := s.panelChecks.EnqueueContext(ctx, task); err != nil {
		return errs.Unavailable("the queue", fmt.Errorf("enqueue the panel check: %w", err))
	}
	defer s.dropPanelCheck(id)
	ctx, cancel := context.WithTimeout(ctx, tasks.PanelCheckWait)
	defer cancel()
	result, err := awaitPanelCheck(ctx, s.panelChecks, id, panelCheckPoll)
	if err != nil {
		return err
	}
	return result.Err()
}

// awaitPanelCheck reads check id's result once a worker has written it,
// looking every poll until ctx ends.
func awaitPanelCheck(ctx context.Context, q PanelCheckQueue, id string, poll time.Duration) (tasks.PanelCheckResult, error) {
	var result tasks.PanelCheckResult
	err := checkWait{what: "the panel check", failed: checkFailed, noWorker: noWorker}.await(ctx, q, id, poll, &result)
	return result, err
}

// dropPanelCheck deletes check id from the queue once the API stops
// waiting for it: a check no worker took does not run later, and a
// finished one's sealed password does not stay. A check still running
// cannot be deleted; its retention ends it.
func (s *Server) dropPanelCheck(id string) {
	if err := s.panelChecks.DeleteTask(jobs.QueueChecks, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
		s.log.Debug("panel check left to its retention", "check_id", id, "error", err)
	}
}
