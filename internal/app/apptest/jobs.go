package apptest

import (
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/store"
)

// Job reads a tenant's job from the store.
func Job(t testing.TB, st *store.Store, tenantID int64, id string) store.Job {
	t.Helper()
	j, err := st.GetJob(Context(t), tenantID, id)
	Must(t, err, "get job ", id)
	return j
}

// WaitJobState waits until a job reaches state and returns it; a job that
// ends in another state fails the test at once.
func WaitJobState(t testing.TB, st *store.Store, tenantID int64, id, state string) store.Job {
	t.Helper()
	var j store.Job
	Eventually(t, 30*time.Second, "job "+id+" becomes "+state, func() (bool, error) {
		j = Job(t, st, tenantID, id)
		if j.Final() && j.State != state {
			return false, fmt.Errorf("job ended %s (error %v), want %s", j.State, Deref(j.LastError), state)
		}
		return j.State == state, nil
	})
	return j
}

// Deref returns *s, or "" when s is nil.
func Deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Inspector returns an asynq inspector on the harness's Redis database,
// closed when the test ends.
func (h *Harness) Inspector(t testing.TB) *asynq.Inspector {
	t.Helper()
	in := asynq.NewInspector(h.App.Redis)
	t.Cleanup(func() { in.Close() })
	return in
}

// TaskInfo returns the asynq state of a job's task, or nil if asynq does not
// hold it.
func TaskInfo(t testing.TB, in *asynq.Inspector, queue, id string) *asynq.TaskInfo {
	t.Helper()
	info, err := in.GetTaskInfo(queue, id)
	if err != nil {
		return nil
	}
	return info
}
