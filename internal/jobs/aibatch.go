package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/tasks"
)

// aiBatchTaskID is the one id of the provider batch pass's task: asynq
// refuses a second while one is queued or running.
const aiBatchTaskID = "ai-batch-pass"

// aiBatchTimeout bounds a pass: it uploads files, creates batches and
// reads the output files of those that ended.
const aiBatchTimeout = 10 * time.Minute

// NewAIBatchTask builds the task of a provider batch pass: no job, never
// retried (the next pass does what this one left), on the default queue.
func NewAIBatchTask() *asynq.Task {
	return asynq.NewTask(tasks.TypeAIBatch, nil, asynq.TaskID(aiBatchTaskID), asynq.Queue(QueueDefault),
		asynq.MaxRetry(0), asynq.Timeout(aiBatchTimeout))
}

// AIBatchTrigger queues a provider batch pass; the scheduler runs its Pass
// periodically while it leads.
type AIBatchTrigger struct {
	Client *asynq.Client
	Log    *slog.Logger
}

// Pass queues a pass unless one is queued or running already.
func (a *AIBatchTrigger) Pass(ctx context.Context) {
	if err := a.Once(ctx); err != nil && ctx.Err() == nil {
		a.Log.Warn("queueing the provider batch pass failed", "error", err)
	}
}

// Once queues a pass unless one is queued or running already.
func (a *AIBatchTrigger) Once(ctx context.Context) error {
	_, err := a.Client.EnqueueContext(ctx, NewAIBatchTask())
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueue the provider batch pass: %w", err)
	}
	return nil
}
