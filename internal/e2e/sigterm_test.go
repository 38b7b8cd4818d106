package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
)

// sigtermChildEnv marks the child worker process of the test below.
const sigtermChildEnv = "PRESSWORK_SIGTERM_WORKER"

// TestSIGTERMWorkerProcess sends SIGTERM to a real worker process (the
// test binary re-executed, running workerapp.Run as cmd/worker does) while
// it writes a draft whose model never answers: the process exits 0 within
// SHUTDOWN_TIMEOUT, the task goes back to the queue without counting as a
// failure, the job is neither failed nor refunded, and a new worker
// completes it with one reserve and one charge.
func TestSIGTERMWorkerProcess(t *testing.T) {
	if os.Getenv(sigtermChildEnv) != "" {
		runBlockingWorker(t)
		return
	}
	t.Parallel()
	h := apptest.Start(t)
	cost := h.App.Config.Costs.Draft
	r, _ := startTenant(t, h, "sigterm", "SIGTERM")
	stopIdeas := h.StartWorker(t)
	r.cluster()
	r.ideas()
	stopIdeas()

	var ideas []store.Idea
	r.api.listAll(fmt.Sprintf("/v1/ideas?cluster_id=%d", r.clusters[0].ID), &ideas)
	var acc apptest.Accepted
	r.api.do(http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": []int64{ideas[0].ID}}, &acc)
	id := acc.Jobs[0].ID

	var out bytes.Buffer
	cmd := startWorkerProcess(t, h, "TestSIGTERMWorkerProcess", sigtermChildEnv, &out, "SHUTDOWN_TIMEOUT=1s", "LOG_LEVEL=error")
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	apptest.Eventually(t, 60*time.Second, "draft job "+id+" runs in the worker process", func() (bool, error) {
		j := r.api.job(id)
		if j.Final() {
			return false, fmt.Errorf("job ended %s: %s", j.State, apptest.Deref(j.LastError))
		}
		return j.State == store.JobRunning && j.CreditsReserved == cost, nil
	})
	apptest.Must(t, cmd.Process.Signal(syscall.SIGTERM), "SIGTERM")
	select {
	case err := <-exited:
		if err != nil || cmd.ProcessState.ExitCode() != 0 {
			t.Fatalf("worker process after SIGTERM: %v (exit code %d), want exit code 0; output:\n%s",
				err, cmd.ProcessState.ExitCode(), out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("worker process still running 30s after SIGTERM (SHUTDOWN_TIMEOUT=1s); output:\n%s", out.String())
	}

	j := r.api.job(id)
	if j.State == store.JobFailed || j.Final() || j.LastError != nil || j.Attempts != 1 {
		t.Errorf("job after SIGTERM: state %s, error %q, attempts %d; want unfinished, no error, 1 attempt",
			j.State, apptest.Deref(j.LastError), j.Attempts)
	}
	if got, want := jobLedger(r.api, id), fmt.Sprintf("reserve:%d", -cost); got != want {
		t.Errorf("job ledger after SIGTERM %q, want %q (no refund, no second reserve)", got, want)
	}
	in := asynq.NewInspector(h.App.Redis)
	t.Cleanup(func() { _ = in.Close() })
	info, err := in.GetTaskInfo(jobs.QueueDefault, id)
	apptest.Must(t, err, "task info")
	if info.State != asynq.TaskStatePending || info.Retried != 0 || info.LastErr != "" {
		t.Errorf("task after SIGTERM: state %s, retried %d, error %q; want pending, not retried, no error",
			info.State, info.Retried, info.LastErr)
	}
	q, err := in.GetQueueInfo(jobs.QueueDefault)
	apptest.Must(t, err, "queue info")
	if q.Failed != 0 || q.FailedTotal != 0 || q.Retry != 0 || q.Archived != 0 {
		t.Errorf("asynq counted the interrupted task as a failure: failed %d (total %d), retry %d, archived %d",
			q.Failed, q.FailedTotal, q.Retry, q.Archived)
	}

	h.StartWorker(t)
	j = r.api.waitJob(id)
	if j.CreditsCharged != cost || j.Attempts != 2 {
		t.Errorf("job charged %d in %d attempts, want %d in 2", j.CreditsCharged, j.Attempts, cost)
	}
	if got, want := jobLedger(r.api, id), fmt.Sprintf("reserve:%d", -cost); got != want {
		t.Errorf("job ledger %q, want %q (one reserve, charged from it)", got, want)
	}
}

// jobLedger renders a job's ledger entries as "kind:delta ...".
func jobLedger(api pipelineAPI, id string) string {
	api.t.Helper()
	var entries []store.LedgerEntry
	api.listAll("/v1/credits/ledger", &entries)
	var parts []string
	for _, e := range entries {
		if apptest.Deref(e.JobID) == id {
			parts = append(parts, fmt.Sprintf("%s:%d", e.Kind, e.Delta))
		}
	}
	return strings.Join(parts, " ")
}

// runBlockingWorker is the child process: offline providers whose text
// model never finishes a draft.
func runBlockingWorker(t *testing.T) {
	runWorkerProcess(t, func(*slog.Logger) providers.Set {
		p := providers.Offline()
		p.Text = blockingDraftModel{TextModel: p.Text}
		return p
	})
}

// blockingDraftModel never answers a draft request: only the end of its
// context (the worker's shutdown) ends the call.
type blockingDraftModel struct{ ai.TextModel }

func (m blockingDraftModel) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	if req.Stage == ai.StageDraft {
		<-ctx.Done()
		return ai.JSONResponse{}, ctx.Err()
	}
	return m.TextModel.GenerateJSON(ctx, req)
}
