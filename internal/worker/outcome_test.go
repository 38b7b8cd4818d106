package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai"
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
		{"coded", fmt.Errorf("check: %w", errs.WithCode(errs.CodeDNSNotFound, "the name blog.invalid does not exist (DNS)",
			errors.New("lookup blog.invalid: no such host"))), "the name blog.invalid does not exist (DNS)"},
		{"a provider's own words", fmt.Errorf("ideas: %w", userWords("the AI provider answered HTTP 500")),
			"the AI provider answered HTTP 500"},
		{"anything else", errors.New("dial tcp 10.0.0.1:443: connection refused"),
			"an unexpected error; the worker log has the details under job j7"},
	}
	for _, tt := range tests {
		if got := publicMessage(tt.err, "j7"); got != tt.want {
			t.Errorf("%s: publicMessage = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// userWords is an error that has words for users, as a provider's has.
type userWords string

func (u userWords) Error() string       { return "detail: " + string(u) }
func (u userWords) UserMessage() string { return string(u) }

func TestFailureCode(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("draft: %w", errs.Permanent(fmt.Errorf("draft: %w: x", ai.ErrUnusableAnswer))), errs.CodeProviderRefused},
		{errs.WithCode(errs.CodeTLSInvalid, "bad certificate", errors.New("x509")), errs.CodeTLSInvalid},
		{&errs.InsufficientCreditsError{Needed: 3}, errs.CodeInsufficientCredits},
		{fmt.Errorf("x: %w", &errs.ThrottledError{}), errs.CodeRateLimited},
		{fmt.Errorf("idea 4: %w", errs.ErrNotFound), errs.CodeNotFound},
		{errors.New("what"), errs.CodeInternal},
	} {
		if got := failureCode(c.err); got != c.want {
			t.Errorf("failureCode(%v) = %q, want %q", c.err, got, c.want)
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
	last            store.Failure
	finished        int
	failErr         error // FailJob's answer
}

func (f *fakeOutcomes) FailJob(_ context.Context, _ int64, _ string, fl store.Failure) error {
	f.failed, f.last = append(f.failed, fl.Message), fl
	return f.failErr
}

func (f *fakeOutcomes) RetryLater(_ context.Context, _ int64, _ string, fl store.Failure) error {
	f.retried, f.last = append(f.retried, fl.Message), fl
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
			"an unexpected error; the worker log has the details under job j1"},
	}
	for _, tt := range tests {
		rec := &fakeOutcomes{}
		r := &recorder{store: rec, jobs: rec, secrets: namedSecrets{"sk-own-secret"}, log: slog.New(slog.DiscardHandler)}
		err := r.handler(func(context.Context, tasks.Payload) error { return tt.err }, nil)(context.Background(),
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
	h := r.handler(func(context.Context, tasks.Payload) error { called = true; return nil }, nil)
	for _, payload := range []string{`{`, `{"tenant_id":1}`, `{"job_id":"j"}`} {
		err := h(context.Background(), asynq.NewTask(tasks.TypeDraft, []byte(payload)))
		if !errors.Is(err, asynq.SkipRetry) || called {
			t.Errorf("payload %s: error %v, work called %v; want skip retry without work", payload, err, called)
		}
	}
}

// TestRecorderPlansTheRetry: a retried attempt's job row gets the time of
// the next attempt, which asynq then keeps (plannedDelay), the retries left
// and the failure's code.
func TestRecorderPlansTheRetry(t *testing.T) {
	t.Parallel()
	rec := &fakeOutcomes{}
	r := &recorder{store: rec, jobs: rec, log: slog.New(slog.DiscardHandler),
		delay: func(n int, _ error, _ *asynq.Task) time.Duration { return time.Duration(n+1) * time.Minute }}
	cause := errs.WithCode(errs.CodeTimeout, "the server did not answer in time", errors.New("i/o timeout"))
	before := time.Now()
	err := r.recordFailure(context.Background(), r.log, tasks.Payload{TenantID: 1, JobID: "j1"}, cause, nil)
	if rec.last.Code != errs.CodeTimeout || rec.last.Message != "the server did not answer in time" || rec.last.RetryAt == nil {
		t.Fatalf("recorded %+v", rec.last)
	}
	if at := rec.last.RetryAt.Sub(before); at < time.Minute || at > time.Minute+time.Second {
		t.Errorf("retry at +%s, want +1m", at)
	}
	if got := plannedDelay(nil)(0, err, nil); got != time.Minute {
		t.Errorf("asynq is told to wait %s, want the planned 1m", got)
	}
}

// TestRecorderNotesFailures: a stage's note sees each failure the job row
// got (scrubbed, final or with its retry), not one another delivery
// already ended, and its own failure changes nothing of the job's outcome.
func TestRecorderNotesFailures(t *testing.T) {
	t.Parallel()
	type noted struct {
		f     store.Failure
		final bool
	}
	permanent := errs.Permanent(errs.WithCode(errs.CodeAuthRejected, "wrong password sk-own-secret", errors.New("401")))
	for _, tt := range []struct {
		name      string
		err       error
		failErr   error
		noteErr   error
		want      []noted
		skipRetry bool
	}{
		{name: "final", err: permanent, skipRetry: true,
			want: []noted{{store.Failure{Message: "wrong password " + secret.Redacted, Code: errs.CodeAuthRejected}, true}}},
		{name: "retry", err: errors.New("HTTP 503"),
			want: []noted{{store.Failure{Message: "an unexpected error; the worker log has the details under job j1",
				Code: errs.CodeInternal}, false}}},
		{name: "ended by another delivery", err: permanent, failErr: store.ErrJobFinished, skipRetry: true},
		{name: "note fails", err: permanent, noteErr: errors.New("database down"), skipRetry: true,
			want: []noted{{store.Failure{Message: "wrong password " + secret.Redacted, Code: errs.CodeAuthRejected}, true}}},
	} {
		rec := &fakeOutcomes{failErr: tt.failErr}
		r := &recorder{store: rec, secrets: namedSecrets{"sk-own-secret"}, log: slog.New(slog.DiscardHandler),
			delay: func(int, error, *asynq.Task) time.Duration { return time.Hour }}
		var got []noted
		note := func(_ context.Context, p tasks.Payload, f store.Failure, final bool) error {
			if p.JobID != "j1" || p.SubjectID != 9 {
				t.Errorf("%s: note of payload %+v", tt.name, p)
			}
			if !final && (f.RetryAt == nil || time.Until(*f.RetryAt) < 59*time.Minute) {
				t.Errorf("%s: a retry noted without its time: %+v", tt.name, f)
			}
			f.RetryAt = nil
			got = append(got, noted{f, final})
			return tt.noteErr
		}
		err := r.recordFailure(context.Background(), r.log, tasks.Payload{TenantID: 1, JobID: "j1", SubjectID: 9}, tt.err, note)
		if errors.Is(err, asynq.SkipRetry) != tt.skipRetry {
			t.Errorf("%s: recordFailure returned %v, want skip retry %v", tt.name, err, tt.skipRetry)
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(noted{})); diff != "" {
			t.Errorf("%s: noted (-want +got):\n%s", tt.name, diff)
		}
	}
}
