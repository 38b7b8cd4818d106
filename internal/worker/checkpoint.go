package worker

import (
	"context"
	"encoding/json"
	"fmt"

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
// does not pay for the answer again. The first attempt (attempt 1: the
// job row counts every start) has no earlier one to read.
func remembered[T any](ctx context.Context, cs checkpointStore, p tasks.Payload, attempt int, step string,
	make func() (T, error)) (T, error) {
	var v T
	if attempt > 1 {
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
