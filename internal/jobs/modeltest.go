package jobs

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/tasks"
)

// modelTestRetention keeps a finished model test's result in Redis until
// the API has read it.
const modelTestRetention = time.Minute

// NewModelTestTask builds the task of a model test, on QueueChecks. Like
// a panel check it is no job: its id is the test id, it is never retried
// (the request that waits for it would be gone), it runs for at most
// tasks.ModelTestWait and its result is kept for modelTestRetention.
func NewModelTestTask(p tasks.ModelTestPayload) (*asynq.Task, error) {
	payload, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode the model test: %w", err)
	}
	return asynq.NewTask(tasks.TypeModelTest, payload, asynq.Queue(QueueChecks), asynq.TaskID(p.TestID),
		asynq.MaxRetry(0), asynq.Timeout(tasks.ModelTestWait), asynq.Retention(modelTestRetention)), nil
}
