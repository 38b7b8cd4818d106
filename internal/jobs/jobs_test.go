package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

func TestQueueFor(t *testing.T) {
	for _, tc := range []struct {
		items int
		want  string
	}{
		{1, jobs.QueueDefault},
		{2, jobs.QueueBulk},
		{500, jobs.QueueBulk},
	} {
		if got := jobs.QueueFor(tc.items); got != tc.want {
			t.Errorf("QueueFor(%d) = %q, want %q", tc.items, got, tc.want)
		}
		if _, ok := jobs.Queues[jobs.QueueFor(tc.items)]; !ok {
			t.Errorf("QueueFor(%d) is no queue a worker serves (%v)", tc.items, jobs.Queues)
		}
	}
	if jobs.Queues[jobs.QueueDefault] <= jobs.Queues[jobs.QueueBulk] {
		t.Errorf("queue weights %v: a person's single item must weigh more than bulk work", jobs.Queues)
	}
}

func TestNewTaskDeliversTheJobID(t *testing.T) {
	job := store.Job{ID: "job-1", TenantID: 7, Type: tasks.TypeDraft, Queue: jobs.QueueBulk, SubjectID: 42}
	task, err := jobs.NewTask(job)
	if err != nil {
		t.Fatal(err)
	}
	var p tasks.Payload
	if err := json.Unmarshal(task.Payload(), &p); err != nil {
		t.Fatal(err)
	}
	if task.Type() != tasks.TypeDraft || p != (tasks.Payload{TenantID: 7, JobID: "job-1", SubjectID: 42}) {
		t.Errorf("task %s with payload %+v, want the job's type and ids", task.Type(), p)
	}
}

// unreachable returns a client whose queue cannot be reached (nothing
// listens on port 1) and the log it writes to.
func unreachable(t *testing.T) (*jobs.Client, *bytes.Buffer) {
	t.Helper()
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: time.Second})
	t.Cleanup(func() { client.Close() })
	var log bytes.Buffer
	return jobs.New(nil, client, slog.New(slog.NewTextHandler(&log, nil))), &log
}

func TestSubmitReturnsTheCommitsErrorAndEnqueuesNothing(t *testing.T) {
	c, log := unreachable(t)
	failed := errors.New("commit failed")
	err := c.Submit(t.Context(), func(context.Context) ([]store.Job, error) {
		return []store.Job{{ID: "j", Type: tasks.TypeDraft, Queue: jobs.QueueDefault}}, failed
	})
	if !errors.Is(err, failed) || log.Len() != 0 {
		t.Errorf("Submit: %v, log %q; want the commit's error and no enqueue", err, log.String())
	}
}

func TestSubmitLeavesAFailedEnqueueToTheReconciler(t *testing.T) {
	c, log := unreachable(t)
	err := c.Submit(t.Context(), func(context.Context) ([]store.Job, error) {
		return []store.Job{{ID: "j1", Type: tasks.TypeDraft, Queue: jobs.QueueBulk},
			{ID: "j2", Type: tasks.TypeDraft, Queue: jobs.QueueBulk}}, nil
	})
	if err != nil {
		t.Errorf("Submit with the queue unreachable: %v, want nil (the jobs are committed)", err)
	}
	if !strings.Contains(log.String(), "the reconciler will deliver") {
		t.Errorf("log %q, want a warning that the reconciler will deliver", log.String())
	}
}

func TestFinishedReleasesOnlyAfterAPacedJob(t *testing.T) {
	c, log := unreachable(t) // no store: a release would panic
	c.Finished(t.Context(), 1, jobs.QueueDefault)
	if log.Len() != 0 {
		t.Errorf("a default-queue job's end tried a release: %q", log.String())
	}
}
