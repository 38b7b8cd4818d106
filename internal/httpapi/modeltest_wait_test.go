package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/testenv"
)

// TestAwaitModelTest: the API reads a worker's answer once the task
// completed; a test no worker took, one a worker did not finish in time,
// one it failed, an answer that does not decode and a queue the API
// cannot read are 503s that say which, in words that keep the worker's
// out.
func TestAwaitModelTest(t *testing.T) {
	t.Parallel()
	pending := &asynq.TaskInfo{State: asynq.TaskStatePending}
	active := &asynq.TaskInfo{State: asynq.TaskStateActive}
	done := &asynq.TaskInfo{State: asynq.TaskStateCompleted,
		Result: []byte(`{"ok":false,"problem":"key","message":"The openai key was refused (HTTP 401).","latency_ms":12}`)}
	failed := &asynq.TaskInfo{State: asynq.TaskStateArchived, LastErr: "read model 7: connection refused"}
	garbled := &asynq.TaskInfo{State: asynq.TaskStateCompleted, Result: []byte(`{"ok":`)}
	empty := &asynq.TaskInfo{State: asynq.TaskStateCompleted, Result: []byte(`{}`)}
	live := t.Context()
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	cases := []struct {
		name        string
		ctx         context.Context
		q           *checkQueue
		unavailable string // the service a 503 names; "" for an answer
	}{
		{"answered", live, &checkQueue{states: []*asynq.TaskInfo{pending, active, done}}, ""},
		{"worker failed", live, &checkQueue{states: []*asynq.TaskInfo{active, failed}}, testFailed},
		{"result unreadable", live, &checkQueue{states: []*asynq.TaskInfo{garbled}}, testFailed},
		{"result says nothing", live, &checkQueue{states: []*asynq.TaskInfo{empty}}, testFailed},
		{"queue unreadable", live, &checkQueue{err: errors.New("connection refused")}, "the queue"},
		{"no worker answered", ended, &checkQueue{states: []*asynq.TaskInfo{pending}}, noTestWorker},
		{"worker too slow", ended, &checkQueue{states: []*asynq.TaskInfo{active}}, testTooLong},
	}
	for _, c := range cases {
		result, err := awaitModelTest(c.ctx, c.q, "test", time.Millisecond)
		var ue *errs.UnavailableError
		switch {
		case c.unavailable == "" && (err != nil || result.Problem != tasks.ModelTestKey || result.LatencyMS != 12):
			t.Errorf("%s: %+v, %v", c.name, result, err)
		case c.unavailable == "":
		case err == nil:
			t.Errorf("%s: no error", c.name)
		case !errors.As(err, &ue) || ue.Service != c.unavailable:
			t.Errorf("%s: %v, want %s unavailable", c.name, err, c.unavailable)
		case problemFor(err).Status != http.StatusServiceUnavailable || strings.Contains(problemFor(err).Detail, "refused"):
			t.Errorf("%s: answered %+v, want a 503 that keeps the worker's words out", c.name, problemFor(err))
		}
	}
}

// TestModelTestWithNoWorker: on a real queue no worker serves, the API
// answers within its wait with "is a worker running?" and leaves no task
// behind to run later.
func TestModelTestWithNoWorker(t *testing.T) {
	t.Parallel()
	opt, err := asynq.ParseRedisURI(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	client, inspector := asynq.NewClient(opt), asynq.NewInspector(opt)
	t.Cleanup(func() { client.Close(); inspector.Close() })
	q := struct {
		*asynq.Client
		*asynq.Inspector
	}{client, inspector}
	tester := &QueueTester{Queue: q, Wait: 200 * time.Millisecond, Poll: 10 * time.Millisecond, Log: slog.New(slog.DiscardHandler)}
	_, err = tester.Test(t.Context(), store.AIModel{ID: 7, Provider: "openai", Model: "gpt-4o-mini", Kind: store.ModelKindChat})
	p := problemFor(err)
	if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Detail, "is one running?") {
		t.Fatalf("with no worker: %v, answered %+v", err, p)
	}
	if left, err := inspector.ListPendingTasks(jobs.QueueChecks); err != nil && !errors.Is(err, asynq.ErrQueueNotFound) || len(left) != 0 {
		t.Errorf("tasks left on the queue: %d (%v)", len(left), err)
	}
}
