package jobs

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/tasks"
)

// QueueChecks is the queue of checks a request waits for. The worker
// serves it with a small server of its own, so that checks never wait
// behind long AI jobs.
const QueueChecks = "checks"

// panelCheckRetention keeps a finished check's result in Redis until the
// API has read it.
const panelCheckRetention = 2 * time.Minute

// NewPanelCheckTask builds the task of a panel check, on QueueChecks. A
// panel check is no job (it has no row): its id is the check id, it is
// never retried (the request that waits for it would be gone), it runs for
// at most tasks.PanelCheckWait and its result is kept for
// panelCheckRetention.
func NewPanelCheckTask(p tasks.PanelCheckPayload) (*asynq.Task, error) {
	payload, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode the panel check: %w", err)
	}
	return asynq.NewTask(tasks.TypePanelCheck, payload, panelCheckOptions(p.CheckID)...), nil
}

// panelCheckOptions are the options of check id's task.
func panelCheckOptions(id string) []asynq.Option {
	return []asynq.Option{asynq.Queue(QueueChecks), asynq.TaskID(id), asynq.MaxRetry(0),
		asynq.Timeout(tasks.PanelCheckWait), asynq.Retention(panelCheckRetention)}
}
