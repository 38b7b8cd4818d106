package jobs_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/testenv"
)

// TestAIBatchTrigger: however often the scheduler fires it, one provider
// batch pass is queued at a time, never retried.
func TestAIBatchTrigger(t *testing.T) {
	t.Parallel()
	opt, err := asynq.ParseRedisURI(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { _ = client.Close() })
	inspector := asynq.NewInspector(opt)
	t.Cleanup(func() { _ = inspector.Close() })
	trigger := &jobs.AIBatchTrigger{Client: client, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for range 3 {
		if err := trigger.Once(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	pending, err := inspector.ListPendingTasks(jobs.QueueDefault)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].Type != tasks.TypeAIBatch || pending[0].MaxRetry != 0 {
		t.Errorf("pending tasks = %+v, want one %s never retried", pending, tasks.TypeAIBatch)
	}
}
