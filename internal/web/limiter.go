package web

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/errs"
)

// WindowLimiter counts attempts per key in fixed one-minute windows on
// Redis, shared by every API process. Sign-in needs a count, not
// internal/ratelimit's even spacing: a person who mistypes a password
// tries again within seconds, and should be let in; only the eleventh
// attempt of the minute is refused.
type WindowLimiter struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewWindowLimiter returns a limiter keeping its counters under prefix.
func NewWindowLimiter(rdb redis.UniversalClient, prefix string) *WindowLimiter {
	return &WindowLimiter{rdb: rdb, prefix: prefix}
}

// Allow counts one attempt on key and refuses it with an
// *errs.ThrottledError when it is over perMinute in the current minute.
func (l *WindowLimiter) Allow(ctx context.Context, key string, perMinute int) error {
	window := time.Now().Unix() / 60
	k := fmt.Sprintf("%s:%s:%d", l.prefix, key, window)
	pipe := l.rdb.TxPipeline()
	incr := pipe.Incr(ctx, k)
	pipe.Expire(ctx, k, 2*time.Minute)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("%w: login limit: %w", errs.ErrUnavailable, err)
	}
	if incr.Val() > int64(perMinute) {
		wait := time.Until(time.Unix((window+1)*60, 0))
		return &errs.ThrottledError{RetryAfter: wait, Err: errors.New("too many attempts")}
	}
	return nil
}
