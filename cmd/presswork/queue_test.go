package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/testenv"
)

type queueBundle struct {
	insp   *asynq.Inspector
	client *asynq.Client
}

func setupQueue(t *testing.T) queueBundle {
	t.Helper()
	opt, err := asynq.ParseRedisURI(testenv.RedisURL(t))
	if err != nil {
		t.Fatalf("parse redis url: %v", err)
	}
	b := queueBundle{insp: asynq.NewInspector(opt), client: asynq.NewClient(opt)}
	t.Cleanup(func() {
		b.insp.Close()
		b.client.Close()
	})
	return b
}

// enqueue puts a job's real task on its queue, optionally in the future.
func (b queueBundle) enqueue(t *testing.T, id, queue string, opts ...asynq.Option) {
	t.Helper()
	task, err := jobs.NewTask(store.Job{ID: id, TenantID: 7, Type: tasks.TypeDraft, Queue: queue, SubjectID: 42})
	if err != nil {
		t.Fatalf("new task: %v", err)
	}
	if _, err := b.client.Enqueue(task, opts...); err != nil {
		t.Fatalf("enqueue %s: %v", id, err)
	}
}

func (b queueBundle) run(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := queueCommand(b.insp, args, &out); err != nil {
		t.Fatalf("queue %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

func (b queueBundle) state(t *testing.T, queue, id string) asynq.TaskState {
	t.Helper()
	info, err := b.insp.GetTaskInfo(queue, id)
	if err != nil {
		t.Fatalf("task info %s: %v", id, err)
	}
	return info.State
}

// row returns the whitespace-separated fields of the output line starting
// with first.
func row(t *testing.T, out, first string) []string {
	t.Helper()
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) > 0 && f[0] == first {
			return f
		}
	}
	t.Fatalf("no line starting with %q in:\n%s", first, out)
	return nil
}

func TestQueueStats(t *testing.T) {
	t.Parallel()
	b := setupQueue(t)
	b.enqueue(t, "job-a", jobs.QueueDefault)
	b.enqueue(t, "job-b", jobs.QueueDefault)
	b.enqueue(t, "job-c", jobs.QueueDefault, asynq.ProcessIn(time.Hour))

	out := b.run(t, "stats")
	if !strings.Contains(out, "QUEUE") || !strings.Contains(out, "PROCESSED TODAY") {
		t.Errorf("stats has no header:\n%s", out)
	}
	//             QUEUE     SIZE PENDING ACTIVE SCHEDULED RETRY ARCHIVED COMPLETED PROCESSED FAILED PAUSED
	want := []string{"default", "3", "2", "0", "1", "0", "0", "0", "0", "0", "no"}
	if diff := cmp.Diff(want, row(t, out, "default")); diff != "" {
		t.Errorf("default row (-want +got):\n%s", diff)
	}
	// bulk never had a task: it is listed, empty.
	want = []string{"bulk", "0", "0", "0", "0", "0", "0", "0", "0", "0", "no"}
	if diff := cmp.Diff(want, row(t, out, "bulk")); diff != "" {
		t.Errorf("bulk row (-want +got):\n%s", diff)
	}
}

func TestQueueList(t *testing.T) {
	t.Parallel()
	b := setupQueue(t)
	b.enqueue(t, "job-a", jobs.QueueBulk)
	b.enqueue(t, "job-b", jobs.QueueBulk)
	b.enqueue(t, "job-c", jobs.QueueBulk, asynq.ProcessIn(time.Hour))

	out := b.run(t, "list", "-queue", "bulk", "-state", "pending")
	for _, id := range []string{"job-a", "job-b"} {
		f := row(t, out, id)
		if f[1] != tasks.TypeDraft || !strings.Contains(f[2], `"job_id":"`+id+`"`) || f[3] != "0/8" {
			t.Errorf("row of %s = %q", id, f)
		}
	}
	if strings.Contains(out, "job-c") {
		t.Errorf("pending list shows the scheduled task:\n%s", out)
	}

	out = b.run(t, "list", "-queue", "bulk", "-state", "scheduled")
	f := row(t, out, "job-c")
	next, err := time.Parse(time.RFC3339, f[len(f)-1])
	if err != nil || next.Before(time.Now().Add(50*time.Minute)) {
		t.Errorf("scheduled task's next process time = %q (%v), want about an hour from now", f[len(f)-1], err)
	}

	out = b.run(t, "list", "-queue", "bulk", "-state", "pending", "-limit", "1")
	if n := strings.Count(out, "\njob-"); n != 1 {
		t.Errorf("-limit 1 listed %d tasks:\n%s", n, out)
	}

	out = b.run(t, "list", "-queue", "default", "-state", "archived")
	if want := "no archived tasks in queue default\n"; out != want {
		t.Errorf("empty list = %q, want %q", out, want)
	}
}

func TestQueueArchiveRetryDelete(t *testing.T) {
	t.Parallel()
	b := setupQueue(t)
	b.enqueue(t, "job-a", jobs.QueueDefault)
	b.enqueue(t, "job-b", jobs.QueueDefault)
	b.enqueue(t, "job-c", jobs.QueueDefault)

	b.run(t, "archive", "-queue", "default", "-id", "job-a")
	if s := b.state(t, "default", "job-a"); s != asynq.TaskStateArchived {
		t.Fatalf("after archive: state %v, want archived", s)
	}
	if f := row(t, b.run(t, "stats"), "default"); f[6] != "1" {
		t.Errorf("archived count = %s, want 1", f[6])
	}
	if f := row(t, b.run(t, "list", "-queue", "default", "-state", "archived"), "job-a"); f[1] != tasks.TypeDraft {
		t.Errorf("archived list row = %q", f)
	}

	b.run(t, "retry", "-queue", "default", "-id", "job-a")
	if s := b.state(t, "default", "job-a"); s != asynq.TaskStatePending {
		t.Errorf("after retry: state %v, want pending", s)
	}

	b.run(t, "archive", "-queue", "default", "-id", "job-a")
	b.run(t, "archive", "-queue", "default", "-id", "job-b")
	out := b.run(t, "retry", "-queue", "default", "-all-archived")
	if !strings.HasPrefix(out, "2 archived tasks") {
		t.Errorf("retry -all-archived said %q", out)
	}
	for _, id := range []string{"job-a", "job-b"} {
		if s := b.state(t, "default", id); s != asynq.TaskStatePending {
			t.Errorf("after retry -all-archived: %s is %v, want pending", id, s)
		}
	}

	out = b.run(t, "delete", "-queue", "default", "-id", "job-c")
	if !strings.Contains(out, "POST /v1/jobs/:id/cancel") {
		t.Errorf("delete does not say how to cancel the job: %q", out)
	}
	if _, err := b.insp.GetTaskInfo("default", "job-c"); !errors.Is(err, asynq.ErrTaskNotFound) {
		t.Errorf("after delete: GetTaskInfo err = %v, want ErrTaskNotFound", err)
	}
}

func TestQueuePause(t *testing.T) {
	t.Parallel()
	b := setupQueue(t)
	b.enqueue(t, "job-a", jobs.QueueBulk)

	b.run(t, "pause", "-queue", "bulk")
	info, err := b.insp.GetQueueInfo("bulk")
	if err != nil || !info.Paused {
		t.Fatalf("after pause: paused=%v err=%v", info != nil && info.Paused, err)
	}
	if f := row(t, b.run(t, "stats"), "bulk"); f[len(f)-1] != "yes" {
		t.Errorf("stats paused column = %s, want yes", f[len(f)-1])
	}
	b.run(t, "unpause", "-queue", "bulk")
	if info, err := b.insp.GetQueueInfo("bulk"); err != nil || info.Paused {
		t.Errorf("after unpause: paused=%v err=%v", info != nil && info.Paused, err)
	}
}

func TestQueueErrors(t *testing.T) {
	t.Parallel()
	b := setupQueue(t)
	b.enqueue(t, "job-a", jobs.QueueDefault)

	tests := []struct {
		args []string
		want string // in the error
	}{
		{nil, "no subcommand"},
		{[]string{"frobnicate"}, `unknown subcommand "frobnicate"`},
		{[]string{"list", "-state", "pending"}, "-queue is required"},
		{[]string{"list", "-queue", "default"}, "-state is required"},
		{[]string{"list", "-queue", "default", "-state", "done"}, `-state: unknown state "done"`},
		{[]string{"list", "-queue", "default", "-state", "pending", "-limit", "0"}, "-limit must be between 1 and 500"},
		{[]string{"list", "-queue", "default", "-state", "pending", "-limit", "x"}, "-limit"},
		{[]string{"list", "-queue", "nope", "-state", "pending"}, `-queue: unknown queue "nope" (queues: bulk, default)`},
		{[]string{"list", "-bogus"}, "-bogus"},
		{[]string{"stats", "extra"}, `unexpected argument "extra"`},
		{[]string{"retry", "-queue", "default"}, "exactly one of -id and -all-archived"},
		{[]string{"retry", "-queue", "default", "-id", "job-a", "-all-archived"}, "exactly one of -id and -all-archived"},
		{[]string{"retry", "-queue", "default", "-id", "missing"}, "no task missing in queue default"},
		{[]string{"retry", "-queue", "default", "-id", "job-a"}, "run task job-a of queue default"}, // pending already
		{[]string{"archive", "-queue", "default"}, "-id is required"},
		{[]string{"archive", "-queue", "nope", "-id", "job-a"}, `unknown queue "nope"`},
		{[]string{"delete", "-queue", "default", "-id", "missing"}, "no task missing in queue default"},
		{[]string{"pause"}, "-queue is required"},
		{[]string{"pause", "-queue", "nope"}, `unknown queue "nope"`},
		{[]string{"unpause", "-queue", "default"}, "unpause queue default"}, // not paused
	}
	for _, tt := range tests {
		var out bytes.Buffer
		err := queueCommand(b.insp, tt.args, &out)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("queue %q: err = %v, want one containing %q", tt.args, err, tt.want)
		}
	}
	if s := b.state(t, "default", "job-a"); s != asynq.TaskStatePending {
		t.Errorf("failed commands changed job-a to %v", s)
	}
}
