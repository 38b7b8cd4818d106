package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// Markers of the child worker processes of the tests below.
const (
	killChildEnv  = "PRESSWORK_RESCUE_KILL_WORKER"
	pauseChildEnv = "PRESSWORK_RESCUE_PAUSE_WORKER"
)

// rescueEnv are the heartbeat settings of the rescue tests: a worker is
// lost after 400 ms of silence.
var rescueEnv = []apptest.Option{apptest.WithEnv("WORKER_HEARTBEAT", "100ms"),
	apptest.WithEnv("WORKER_LOST_AFTER", "400ms")}

// rescueRun is a tenant with a draft job waiting for a worker.
type rescueRun struct {
	tenantRun
	jobID string
}

// startRescueRun makes a tenant's ideas with an in-process worker, then
// queues one draft job and stops that worker.
func startRescueRun(t *testing.T, h *apptest.Harness, slug string) rescueRun {
	t.Helper()
	r, _ := startTenant(t, h, slug, slug)
	stop := h.StartWorker(t)
	r.cluster()
	r.ideas()
	stop()
	var ideas []store.Idea
	r.api.listAll(fmt.Sprintf("/v1/ideas?cluster_id=%d", r.clusters[0].ID), &ideas)
	var acc apptest.Accepted
	r.api.do(http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": []int64{ideas[0].ID}}, &acc)
	return rescueRun{tenantRun: r, jobID: acc.Jobs[0].ID}
}

// startChild starts a worker process running test as marker says and
// waits until it runs the draft job.
func (r rescueRun) startChild(t *testing.T, h *apptest.Harness, test, marker string, out io.Writer, level string) *exec.Cmd {
	t.Helper()
	cmd := startWorkerProcess(t, h, test, marker, out, "LOG_LEVEL="+level)
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	apptest.Eventually(t, 60*time.Second, "draft job "+r.jobID+" runs in the worker process", func() (bool, error) {
		j := r.api.job(r.jobID)
		if j.Final() {
			return false, fmt.Errorf("job ended %s: %s", j.State, apptest.Deref(j.LastError))
		}
		return j.State == store.JobRunning, nil
	})
	return cmd
}

// stored returns the job as PostgreSQL holds it, delivery included.
func (r rescueRun) stored(t *testing.T, h *apptest.Harness) store.Job {
	t.Helper()
	j, err := h.App.Store.GetJob(t.Context(), r.tenantID, r.jobID)
	apptest.Must(t, err, "get job")
	return j
}

// TestSIGKILLedWorkerJobIsRescued kills (SIGKILL) a worker process while it
// writes a draft whose model never answers. Another worker delivers the
// job again once the dead one's heartbeat is 400 ms old, under delivery 1,
// long before asynq would give the task back (its lease alone is 30 s):
// asynq still holds the dead worker's task as active when the job has
// succeeded. The job is charged once, with one reserve, in two attempts;
// and the dead worker's task, delivered later as asynq's recoverer would,
// does nothing.
func TestSIGKILLedWorkerJobIsRescued(t *testing.T) {
	if os.Getenv(killChildEnv) != "" {
		runBlockingWorker(t)
		return
	}
	t.Parallel()
	h := apptest.Start(t, rescueEnv...)
	cost := h.App.Config.Costs.Draft
	r := startRescueRun(t, h, "rescue-kill")
	var out syncBuffer
	child := r.startChild(t, h, "TestSIGKILLedWorkerJobIsRescued", killChildEnv, &out, "error")
	h.StartWorker(t)

	apptest.Must(t, child.Process.Kill(), "SIGKILL")
	_ = child.Wait()
	j := r.api.waitJob(r.jobID)
	if j.Attempts != 2 || j.CreditsCharged != cost {
		t.Errorf("rescued job: %d attempts, charged %d; want 2 attempts, charged %d", j.Attempts, j.CreditsCharged, cost)
	}
	if got := r.stored(t, h).Delivery; got != 1 {
		t.Errorf("job delivery %d, want 1 (delivered again by the rescuer)", got)
	}
	if got, want := jobLedger(r.api, r.jobID), fmt.Sprintf("reserve:%d", -cost); got != want {
		t.Errorf("job ledger %q, want %q (one reserve, charged from it)", got, want)
	}
	in := asynq.NewInspector(h.App.Redis)
	t.Cleanup(func() { _ = in.Close() })
	info, err := in.GetTaskInfo(jobs.QueueDefault, r.jobID)
	apptest.Must(t, err, "the dead worker's task")
	if info.State != asynq.TaskStateActive {
		t.Errorf("the dead worker's task is %s, want still active: asynq had not recovered it, the rescuer did", info.State)
	}

	// What asynq's recoverer would deliver, later: the first delivery.
	stale, err := json.Marshal(tasks.Payload{TenantID: r.tenantID, JobID: r.jobID, SubjectID: j.SubjectID})
	apptest.Must(t, err, "payload")
	client := asynq.NewClient(h.App.Redis)
	t.Cleanup(func() { _ = client.Close() })
	_, err = client.EnqueueContext(t.Context(), asynq.NewTask(tasks.TypeDraft, stale, asynq.TaskID(r.jobID+"-stale"),
		asynq.Queue(jobs.QueueDefault)))
	apptest.Must(t, err, "enqueue the stale delivery")
	apptest.Eventually(t, 30*time.Second, "the stale delivery is done", func() (bool, error) {
		_, err := in.GetTaskInfo(jobs.QueueDefault, r.jobID+"-stale")
		return err != nil, nil
	})
	after := r.api.job(r.jobID)
	if after.Attempts != 2 || after.State != store.JobSucceeded || jobLedger(r.api, r.jobID) != fmt.Sprintf("reserve:%d", -cost) {
		t.Errorf("after the stale delivery: %s in %d attempts, ledger %q; want it left as it was",
			after.State, after.Attempts, jobLedger(r.api, r.jobID))
	}
}

// TestPausedWorkerDoesNotFinishRescuedJob stops a worker process
// (SIGSTOP) while it writes a draft; the job is delivered again to another
// worker and succeeds. The paused process is then continued and its model
// answered: its writes find the job delivered again, change nothing, and
// it says so in its log. The idea has one draft, the job one charge.
func TestPausedWorkerDoesNotFinishRescuedJob(t *testing.T) {
	if os.Getenv(pauseChildEnv) != "" {
		runWorkerProcess(t, func(*slog.Logger) providers.Set {
			p := providers.Offline()
			p.Text = heldDraftModel{TextModel: p.Text, release: releaseOnSIGUSR1()}
			return p
		})
		return
	}
	t.Parallel()
	h := apptest.Start(t, rescueEnv...)
	cost := h.App.Config.Costs.Draft
	r := startRescueRun(t, h, "rescue-pause")
	var out syncBuffer
	child := r.startChild(t, h, "TestPausedWorkerDoesNotFinishRescuedJob", pauseChildEnv, &out, "warn")
	apptest.Must(t, child.Process.Signal(syscall.SIGSTOP), "SIGSTOP")
	h.StartWorker(t)
	j := r.api.waitJob(r.jobID)

	apptest.Must(t, child.Process.Signal(syscall.SIGCONT), "SIGCONT")
	apptest.Must(t, child.Process.Signal(syscall.SIGUSR1), "SIGUSR1")
	apptest.Eventually(t, 30*time.Second, "the continued worker finds it lost the job", func() (bool, error) {
		return strings.Contains(out.String(), "this worker lost the job"), nil
	})
	after := r.api.job(r.jobID)
	if after.State != store.JobSucceeded || after.Attempts != 2 || after.CreditsCharged != cost ||
		!after.FinishedAt.Equal(*j.FinishedAt) {
		t.Errorf("job after the paused worker came back: %s, %d attempts, charged %d, finished %v (was %v); "+
			"want it as the rescue left it", after.State, after.Attempts, after.CreditsCharged, after.FinishedAt, j.FinishedAt)
	}
	if got, want := jobLedger(r.api, r.jobID), fmt.Sprintf("reserve:%d", -cost); got != want {
		t.Errorf("job ledger %q, want %q", got, want)
	}
	var drafts []store.Draft
	r.api.listAll(fmt.Sprintf("/v1/drafts?site_id=%d", r.site.ID), &drafts)
	if len(drafts) != 1 {
		t.Errorf("the site has %d drafts, want the 1 the rescued job wrote", len(drafts))
	}
	if strings.Contains(out.String(), "panic") {
		t.Errorf("the continued worker panicked:\n%s", out.String())
	}
}

// heldDraftModel answers a draft request only once release is closed (or
// its context ends).
type heldDraftModel struct {
	ai.TextModel
	release <-chan struct{}
}

func (m heldDraftModel) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	if req.Stage == ai.StageDraft {
		select {
		case <-m.release:
		case <-ctx.Done():
			return ai.JSONResponse{}, ctx.Err()
		}
	}
	return m.TextModel.GenerateJSON(ctx, req)
}

// releaseOnSIGUSR1 returns a channel closed when the process gets SIGUSR1.
func releaseOnSIGUSR1() <-chan struct{} {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	release := make(chan struct{})
	go func() {
		<-sig
		close(release)
	}()
	return release
}

// syncBuffer is a bytes.Buffer a child process writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
