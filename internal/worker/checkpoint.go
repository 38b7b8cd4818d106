package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// checkpointStore keeps what an unfinished job's attempts already paid for.
type checkpointStore interface {
	SaveCheckpoint(ctx context.Context, tenantID int64, jobID, step string, value any) error
	Checkpoints(ctx context.Context, tenantID int64, jobID, prefix string) (map[string]json.RawMessage, error)
}

// stepAnswer is the checkpoint of a job's one model answer.
const stepAnswer = "answer"

// remembered returns the value an earlier attempt of the job saved as
// step, or calls make and saves what it returns before returning it: a job
// whose model answered but which failed afterwards (its save, a crash)
// does not pay for the answer again. A job that had no checkpoints when it
// started (store.Job.Checkpointed) has none to read.
func remembered[T any](ctx context.Context, cs checkpointStore, p tasks.Payload, checkpointed bool, step string,
	make func() (T, error)) (T, error) {
	var v T
	if checkpointed {
		saved, err := cs.Checkpoints(ctx, p.TenantID, p.JobID, step)
		if err != nil {
			return v, err
		}
		if raw, ok := saved[step]; ok && json.Unmarshal(raw, &v) == nil {
			return v, nil
		}
	}
	v, err := make()
	if err != nil {
		return v, err
	}
	if err := cs.SaveCheckpoint(ctx, p.TenantID, p.JobID, step, v); err != nil {
		return v, fmt.Errorf("checkpoint %s: %w", step, err)
	}
	return v, nil
}

// answerOnce is remembered for a job whose one model answer is followed by
// its save and nothing else that costs: the answer of an earlier attempt
// (stepAnswer) is read when the job had checkpoints, else ask is called;
// then save is called with the answer. The answer is checkpointed only
// when save fails (with a context of its own: the task's may be ending),
// since a job that succeeds drops its checkpoints anyway: one statement
// less on every job (#24). A crash between the answer and the end of save
// loses the answer, as one between the answer and its checkpoint would.
func answerOnce[T any](ctx context.Context, cs checkpointStore, p tasks.Payload, checkpointed bool,
	ask func() (T, error), save func(T) error) error {
	var answer T
	found := false
	if checkpointed {
		saved, err := cs.Checkpoints(ctx, p.TenantID, p.JobID, stepAnswer)
		if err != nil {
			return err
		}
		raw, ok := saved[stepAnswer]
		found = ok && json.Unmarshal(raw, &answer) == nil
	}
	if !found {
		var err error
		if answer, err = ask(); err != nil {
			return err
		}
	}
	err := save(answer)
	if err == nil || found || errors.Is(err, store.ErrJobFinished) {
		return err
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkpointTimeout)
	defer cancel()
	if cerr := cs.SaveCheckpoint(bg, p.TenantID, p.JobID, stepAnswer, answer); cerr != nil {
		return errors.Join(err, fmt.Errorf("checkpoint %s: %w", stepAnswer, cerr))
	}
	return err
}

// checkpointTimeout bounds the checkpoint of an answer whose save failed.
const checkpointTimeout = 10 * time.Second
