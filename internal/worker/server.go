package worker

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/jobs"
)

// ServerConfig is the asynq server configuration Presswork's workers use,
// serving jobs.Queues with their priority weights.
func ServerConfig(c config.Config, log *slog.Logger) asynq.Config {
	return asynq.Config{
		Concurrency:       c.WorkerConcurrency,
		Queues:            jobs.Queues,
		TaskCheckInterval: c.TaskCheckInterval,
		ShutdownTimeout:   c.ShutdownTimeout,
		IsFailure:         func(err error) bool { return !isThrottled(err) },
		RetryDelayFunc:    plannedDelay(RetryDelay(c)),
		// asynq's default (5 s) would add up to 5 s to every retry.
		DelayedTaskCheckInterval: c.RetryCheckInterval,
		Logger:                   asynqLogger{log},
		LogLevel:                 asynq.WarnLevel,
	}
}

func isThrottled(err error) bool {
	var t *errs.ThrottledError
	return errors.As(err, &t)
}

// RetryDelay is the back-off of failed attempts under c (retryDelay).
func RetryDelay(c config.Config) asynq.RetryDelayFunc {
	return retryDelay(c.RetryBaseDelay, c.RetryMaxDelay)
}

// plannedDelay is the delay the recorder planned and wrote on the job row
// (plannedRetry), else fallback's.
func plannedDelay(fallback asynq.RetryDelayFunc) asynq.RetryDelayFunc {
	return func(n int, err error, t *asynq.Task) time.Duration {
		var pr *plannedRetry
		if errors.As(err, &pr) {
			return pr.delay
		}
		return fallback(n, err, t)
	}
}

// retryDelay honours a throttled error's Retry-After and otherwise backs off
// exponentially: base, 2 base, 4 base, ... up to most, each spread by up to
// a quarter either way so that retries of a bulk do not arrive together.
func retryDelay(base, most time.Duration) asynq.RetryDelayFunc {
	return func(n int, err error, _ *asynq.Task) time.Duration {
		var t *errs.ThrottledError
		if errors.As(err, &t) && t.RetryAfter > 0 {
			return t.RetryAfter
		}
		d := most
		if n < 30 && base<<n < most {
			d = base << n
		}
		return d - d/4 + rand.N(d/2+1)
	}
}

// asynqLogger sends asynq's own logs to slog.
type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Error(args ...any) { l.log.Error(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Fatal(args ...any) {
	l.log.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
}
