package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/jobs"
)

// checkWait is how the API waits for a task a worker answers on
// jobs.QueueChecks (a panel check, a model test): the services its 503s
// name, none of them the request's fault.
type checkWait struct {
	what     string // the task, in the detail of a queue that cannot be read: "the panel check"
	failed   string // the service named when a worker could not run the task or its result does not decode
	noWorker string // the service named when no worker took the task in time
	tooLong  string // the service named when a worker took it and did not finish in time; "": noWorker
}

// await reads task id's result into out once a worker has written it,
// looking every poll until ctx ends.
func (w checkWait) await(ctx context.Context, q PanelCheckQueue, id string, poll time.Duration, out any) error {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	taken := false
	for {
		info, err := q.GetTaskInfo(jobs.QueueChecks, id)
		switch {
		case err != nil:
			return errs.Unavailable("the queue", fmt.Errorf("read %s: %w", w.what, err))
		case info.State == asynq.TaskStateCompleted:
			if err := json.Unmarshal(info.Result, out); err != nil {
				return errs.Unavailable(w.failed, fmt.Errorf("decode the result of %s: %w", w.what, err))
			}
			return nil
		case info.State == asynq.TaskStateArchived:
			return errs.Unavailable(w.failed, fmt.Errorf("the worker failed %s: %s", w.what, info.LastErr))
		case info.State != asynq.TaskStatePending:
			taken = true
		}
		select {
		case <-ctx.Done():
			if taken && w.tooLong != "" {
				return errs.Unavailable(w.tooLong, ctx.Err())
			}
			return errs.Unavailable(w.noWorker, ctx.Err())
		case <-tick.C:
		}
	}
}
