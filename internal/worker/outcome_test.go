package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

func TestPublicMessage(t *testing.T) {
	t.Parallel()
	permanent := errs.Permanent(errors.New(`the provider rejected the request: model "gpt-x" does not exist`))
	invalid := errs.Invalid("count", "must be positive")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"remote site's words", fmt.Errorf("publish: %w", &remoteError{msg: "WordPress did not answer in time",
			err: context.DeadlineExceeded}), "WordPress did not answer in time"},
		{"remote words before permanence", errs.Permanent(&remoteError{msg: "Deployment failed", err: errors.New("x")}),
			"Deployment failed"},
		{"insufficient credits", &errs.InsufficientCreditsError{Needed: 3, Available: 1},
			"insufficient credits: needed 3, available 1"},
		{"throttled", fmt.Errorf("draft: %w", &errs.ThrottledError{Err: errors.New("HTTP 429 key sk-1")}),
			"the AI provider is rate limiting requests"},
		{"time limit", fmt.Errorf("write draft: %w", context.DeadlineExceeded), "the job ran past its time limit"},
		{"gone", fmt.Errorf("idea 4: %w", errs.ErrNotFound), "the item this job works on no longer exists"},
		{"validation", invalid, invalid.Error()},
		{"permanent", permanent, permanent.Error()},
		{"unavailable", errs.Unavailable("the database", errors.New("dial tcp 10.0.0.1:5432")),
			"a service Presswork depends on was unavailable"},
		{"anything else", errors.New("dial tcp 10.0.0.1:443: connection refused"),
			"temporary failure (details in the worker log)"},
	}
	for _, tt := range tests {
		if got := publicMessage(tt.err); got != tt.want {
			t.Errorf("%s: publicMessage = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestGaveUp(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{1: "gave up after 1 attempt: ", 2: "gave up after 2 attempts: ",
		21: "gave up after 21 attempts: "} {
		if got := gaveUp(n); got != want {
			t.Errorf("gaveUp(%d) = %q, want %q", n, got, want)
		}
	}
}

// fakeOutcomes records what a recorder wrote.
type fakeOutcomes struct {
	failed, retried []string // messages
	finished        int
}

func (f *fakeOutcomes) FailJob(_ context.Context, _ int64, _, msg string) error {
	f.failed = append(f.failed, msg)
	return nil
}

func (f *fakeOutcomes) RetryLater(_ context.Context, _ int64, _, msg string) error {
	f.retried = append(f.retried, msg)
	return nil
}

func (f *fakeOutcomes) Finished(context.Context, int64, string) { f.finished++ }

type namedSecrets []string

func (s namedSecrets) TenantSecrets(int64) []string { return s }

func TestRecorderOutcomes(t *testing.T) {
	t.Parallel()
	payload, _ := json.Marshal(tasks.Payload{TenantID: 1, JobID: "j1", SubjectID: 2})
	tests := []struct {
		name                      string
		err                       error
		skipRetry                 bool
		failed, retried, finished int
		says                      string
	}{
		{"success", nil, false, 0, 0, 1, ""},
		{"finished already", fmt.Errorf("start: %w", store.ErrJobFinished), false, 0, 0, 1, ""},
		{"permanent", errs.Permanent(errors.New("bad key sk-own-secret")), true, 1, 0, 1, "bad key " + secret.Redacted},
		{"retryable", errors.New("HTTP 503 for sk-own-secret"), false, 0, 1, 0,
			"temporary failure (details in the worker log)"},
	}
	for _, tt := range tests {
		rec := &fakeOutcomes{}
		r := &recorder{store: rec, jobs: rec, secrets: namedSecrets{"sk-own-secret"}, log: slog.New(slog.DiscardHandler)}
		err := r.handler(func(context.Context, tasks.Payload) error { return tt.err })(context.Background(),
			asynq.NewTask(tasks.TypeDraft, payload))
		if (err == nil) != (tt.err == nil || errors.Is(tt.err, store.ErrJobFinished)) || errors.Is(err, asynq.SkipRetry) != tt.skipRetry {
			t.Errorf("%s: handler returned %v, want skip retry %v", tt.name, err, tt.skipRetry)
		}
		if err != nil && strings.Contains(err.Error(), "sk-own-secret") {
			t.Errorf("%s: handler's error %q shows the tenant's secret", tt.name, err)
		}
		if len(rec.failed) != tt.failed || len(rec.retried) != tt.retried || rec.finished != tt.finished {
			t.Errorf("%s: failed %q, retried %q, finished %d; want %d, %d, %d", tt.name, rec.failed, rec.retried,
				rec.finished, tt.failed, tt.retried, tt.finished)
		}
		if said := strings.Join(append(rec.failed, rec.retried...), ""); !strings.Contains(said, tt.says) {
			t.Errorf("%s: the job says %q, want %q", tt.name, said, tt.says)
		}
	}
}

func TestRecorderRefusesUnreadablePayload(t *testing.T) {
	t.Parallel()
	rec := &fakeOutcomes{}
	r := &recorder{store: rec, log: slog.New(slog.DiscardHandler)}
	called := false
	h := r.handler(func(context.Context, tasks.Payload) error { called = true; return nil })
	for _, payload := range []string{`{`, `{"tenant_id":1}`, `{"job_id":"j"}`} {
		err := h(context.Background(), asynq.NewTask(tasks.TypeDraft, []byte(payload)))
		if !errors.Is(err, asynq.SkipRetry) || called {
			t.Errorf("payload %s: error %v, work called %v; want skip retry without work", payload, err, called)
		}
	}
}
