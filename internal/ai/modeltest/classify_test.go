package modeltest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/ratelimit"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// TestClassifyWithoutAnswer: failures with no answer from the provider
// are the workers' limiter (quota), a wait that ran out (network), or
// something the provider said that made no sense (provider).
func TestClassifyWithoutAnswer(t *testing.T) {
	t.Parallel()
	m := store.AIModel{Provider: "openai", Model: "gpt-4o-mini", Kind: store.ModelKindChat}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"limiter full", &errs.ThrottledError{Err: ratelimit.ErrWaitExceedsDeadline}, tasks.ModelTestQuota},
		{"limiter wait ran out", &errs.ThrottledError{Err: context.DeadlineExceeded}, tasks.ModelTestQuota},
		{"no answer in time", fmt.Errorf("chat: %w", context.DeadlineExceeded), tasks.ModelTestNetwork},
		{"nonsense", errors.New("decode the answer: unexpected EOF"), tasks.ModelTestProvider},
	} {
		if r := classify(m, c.err); r.Problem != c.want || r.Message == "" {
			t.Errorf("%s: %+v, want %q", c.name, r, c.want)
		}
	}
}
