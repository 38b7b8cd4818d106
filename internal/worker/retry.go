package worker

import (
	"context"
	"errors"
	"time"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// callAttempts is how many times a model call that fails for a passing
// reason (a server error, a timeout) is tried inside its job.
const callAttempts = 4

// defaultCallRetryBase is the first wait between those tries when
// Deps.CallRetryBase is zero.
const defaultCallRetryBase = time.Second

// answerRuns is how many times a job runs a stage call (each run a call
// and, if its answer is unusable, one repair) before it gives up on the
// model's answers: a refusal or a broken answer twice in a row is as often
// bad luck as a bad request.
const answerRuns = 2

// callRetry retries one model call inside its job, so that a passing
// fault costs that call again and not the job's other calls (or a wait for
// the job's own retry).
type callRetry struct {
	// base is the first wait, doubled after each try; zero means
	// defaultCallRetryBase.
	base time.Duration
}

// do runs call until it succeeds, fails for good (errs.IsPermanent), is
// throttled (the job's retry waits for the provider), ctx ends, or it has
// failed callAttempts times; it returns call's last error.
func (r callRetry) do(ctx context.Context, call func() error) error {
	wait := r.base
	if wait <= 0 {
		wait = defaultCallRetryBase
	}
	for attempt := 1; ; attempt++ {
		err := call()
		var throttled *errs.ThrottledError
		if err == nil || attempt == callAttempts || errs.IsPermanent(err) || errors.As(err, &throttled) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait *= 2
	}
}

// ask runs a stage call (whose writer retries passing faults itself, see
// Models) again when its answers were unusable (ai.ErrUnusableAnswer), up
// to answerRuns times; it returns the last error.
func ask(call func() error) error {
	var err error
	for range answerRuns {
		if err = call(); !errors.Is(err, ai.ErrUnusableAnswer) {
			return err
		}
	}
	return err
}

// askChat runs a text stage's call through ask, reporting what each run
// spent to ctx's meter and adding it to total.
func askChat[T any](ctx context.Context, total *ai.Usage, call func() (T, ai.Usage, error)) (T, error) {
	var v T
	err := ask(func() error {
		var u ai.Usage
		var err error
		v, u, err = call()
		spent(ctx, store.UsageChat, u)
		total.Add(u)
		return err
	})
	return v, err
}
