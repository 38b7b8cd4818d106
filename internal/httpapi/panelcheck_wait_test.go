package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/errs"
)

// checkQueue is a PanelCheckQueue whose task goes through states, one per
// look, and stays in the last.
type checkQueue struct {
	states []*asynq.TaskInfo
	err    error
	looks  int
}

func (q *checkQueue) EnqueueContext(context.Context, *asynq.Task, ...asynq.Option) (*asynq.TaskInfo, error) {
	return nil, errors.New("not used")
}

func (q *checkQueue) GetTaskInfo(string, string) (*asynq.TaskInfo, error) {
	if q.err != nil {
		return nil, q.err
	}
	q.looks++
	return q.states[min(q.looks, len(q.states))-1], nil
}

func (q *checkQueue) DeleteTask(string, string) error { return nil }

// TestAwaitPanelCheck: the API reads the result once the task completed;
// a task the worker failed, a result it cannot read, a queue it cannot
// read and a wait that ends first are 503s, none the settings' fault.
func TestAwaitPanelCheck(t *testing.T) {
	t.Parallel()
	pending := &asynq.TaskInfo{State: asynq.TaskStatePending}
	active := &asynq.TaskInfo{State: asynq.TaskStateActive}
	done := &asynq.TaskInfo{State: asynq.TaskStateCompleted, Result: []byte(`{"ok":true}`)}
	failed := &asynq.TaskInfo{State: asynq.TaskStateArchived, LastErr: "open the panel check's password: undecryptable"}
	garbled := &asynq.TaskInfo{State: asynq.TaskStateCompleted, Result: []byte(`{"ok":`)}
	live := t.Context()
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	cases := []struct {
		name        string
		ctx         context.Context
		q           *checkQueue
		ok          bool
		unavailable string // the service a 503 names
	}{
		{"answered", live, &checkQueue{states: []*asynq.TaskInfo{pending, active, done}}, true, ""},
		{"worker failed", live, &checkQueue{states: []*asynq.TaskInfo{active, failed}}, false, checkFailed},
		{"result unreadable", live, &checkQueue{states: []*asynq.TaskInfo{garbled}}, false, checkFailed},
		{"queue unreadable", live, &checkQueue{err: errors.New("connection refused")}, false, "the queue"},
		{"no worker answered", ended, &checkQueue{states: []*asynq.TaskInfo{pending}}, false, noWorker},
	}
	for _, c := range cases {
		result, err := awaitPanelCheck(c.ctx, c.q, "check", time.Millisecond)
		var ue *errs.UnavailableError
		switch {
		case c.ok && (err != nil || !result.OK):
			t.Errorf("%s: %+v, %v", c.name, result, err)
		case c.ok:
		case err == nil:
			t.Errorf("%s: no error", c.name)
		case !errors.As(err, &ue) || ue.Service != c.unavailable:
			t.Errorf("%s: %v, want %s unavailable", c.name, err, c.unavailable)
		case problemFor(err).Status != http.StatusServiceUnavailable || strings.Contains(problemFor(err).Detail, "undecryptable"):
			t.Errorf("%s: answered %+v, want a 503 that keeps the worker's words out", c.name, problemFor(err))
		}
	}
}
