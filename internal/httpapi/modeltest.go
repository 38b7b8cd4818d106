package httpapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// The services a model test's 503 names: no worker took the test, the
// test outlasted the wait, or a worker could not run it. None is the
// model's fault.
const (
	noTestWorker = "a worker (none answered the model test; is one running?)"
	testTooLong  = "the model test (a worker took it but did not finish in time)"
	testFailed   = "the model test"
)

// QueueTester is the ModelTester of an API with workers: it hands the
// test to a worker as a tasks.TypeModelTest task on jobs.QueueChecks
// (the worker has the providers' keys and clients; the API has neither)
// and waits up to Wait for the answer.
type QueueTester struct {
	Queue PanelCheckQueue
	// Wait bounds the wait for a worker's answer (tasks.ModelTestWait).
	Wait time.Duration
	// Poll is how often the answer is looked for.
	Poll time.Duration
	Log  *slog.Logger
}

// NewQueueTester returns the tester that sends its tests through q.
func NewQueueTester(q PanelCheckQueue, log *slog.Logger) *QueueTester {
	return &QueueTester{Queue: q, Wait: tasks.ModelTestWait, Poll: panelCheckPoll, Log: log}
}

// Test has a worker test m. No worker answering within Wait, or a worker
// that could not run the test, is an *errs.UnavailableError (503).
func (q *QueueTester) Test(ctx context.Context, m store.AIModel) (TestResult, error) {
	id := rand.Text()
	task, err := jobs.NewModelTestTask(tasks.ModelTestPayload{TestID: id, ModelID: m.ID})
	if err != nil {
		return TestResult{}, err
	}
	if _, err := q.Queue.EnqueueContext(ctx, task); err != nil {
		return TestResult{}, errs.Unavailable("the queue", fmt.Errorf("enqueue the model test: %w", err))
	}
	defer q.drop(id)
	ctx, cancel := context.WithTimeout(ctx, q.Wait)
	defer cancel()
	return awaitModelTest(ctx, q.Queue, id, q.Poll)
}

// modelTestWait is how the API waits for a model test.
var modelTestWait = checkWait{what: "the model test", failed: testFailed, noWorker: noTestWorker, tooLong: testTooLong}

// awaitModelTest reads test id's result once a worker has written it,
// looking every poll until ctx ends; a result that says nothing is one
// the worker could not write.
func awaitModelTest(ctx context.Context, q PanelCheckQueue, id string, poll time.Duration) (TestResult, error) {
	var result TestResult
	if err := modelTestWait.await(ctx, q, id, poll, &result); err != nil {
		return TestResult{}, err
	}
	if result.Message == "" {
		return TestResult{}, errs.Unavailable(testFailed, fmt.Errorf("the model test's result says nothing"))
	}
	return result, nil
}

// drop deletes test id from the queue once the API stops waiting for it:
// a test no worker took does not run later. A test still running cannot
// be deleted; its retention ends it.
func (q *QueueTester) drop(id string) {
	if err := q.Queue.DeleteTask(jobs.QueueChecks, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
		q.Log.Debug("model test left to its retention", "test_id", id, "error", err)
	}
}
