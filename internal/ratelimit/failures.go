package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/errs"
)

// ErrTooManyFailures is wrapped in the *errs.ThrottledError that
// Failures.Check returns for a key over its limit.
var ErrTooManyFailures = errors.New("too many failures")

// Failures counts failures per key (failed authentications per client
// address, say) in fixed one-minute windows on Redis, so that every
// process sharing the prefix sees the same count. It is a count, not
// Limiter's even spacing: a person who mistypes a key and tries again at
// once should get in, and only a run of failures is cut off, for the rest
// of the minute. Times come from the Redis server's clock. It is safe for
// concurrent use.
type Failures struct {
	rdb    redis.UniversalClient
	prefix string
	// period is the window; tests shorten it.
	period time.Duration
}

// NewFailures returns a failure counter keeping its windows under keys
// that start with prefix and a colon.
func NewFailures(rdb redis.UniversalClient, prefix string) *Failures {
	return &Failures{rdb: rdb, prefix: prefix, period: time.Minute}
}

// failureWindow is the Lua prelude shared by the scripts: the current
// window, the microseconds left in it, and the failures counted in it. The
// state is one hash, KEYS[1], holding w (the window it counts) and n (the
// count), so that a script touches only the key it declares.
const failureWindow = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local period = tonumber(ARGV[1])
local window = math.floor(now / period)
local left = (window + 1) * period - now
local h = redis.call('HMGET', KEYS[1], 'w', 'n')
local n = 0
if tonumber(h[1]) == window then n = tonumber(h[2]) or 0 end
`

// checkFailuresScript answers {failures, microseconds left} of KEYS[1]'s
// current window. ARGV: the period in microseconds.
var checkFailuresScript = redis.NewScript(failureWindow + `
return {n, left}
`)

// addFailureScript counts one failure in KEYS[1]'s current window and
// answers the same as checkFailuresScript. The key outlives its window by
// a period, so a check near the window's end still finds it. ARGV: the
// period in microseconds.
var addFailureScript = redis.NewScript(failureWindow + `
n = n + 1
redis.call('HSET', KEYS[1], 'w', string.format('%d', window), 'n', n)
redis.call('PEXPIRE', KEYS[1], math.ceil((left + period) / 1000))
return {n, left}
`)

// Check refuses key when limit failures or more were counted on it in the
// current window, with an *errs.ThrottledError whose RetryAfter is the end
// of the window; it counts nothing itself. Zero (or negative) limit admits
// everything. A Redis failure is returned wrapping errs.ErrUnavailable.
func (f *Failures) Check(ctx context.Context, key string, limit int) error {
	if limit <= 0 {
		return nil
	}
	n, left, err := f.run(ctx, checkFailuresScript, key)
	if err != nil {
		return err
	}
	if n >= int64(limit) {
		return &errs.ThrottledError{RetryAfter: left, Err: fmt.Errorf("failures %s: %w", key, ErrTooManyFailures)}
	}
	return nil
}

// Add counts one failure on key in the current window. A Redis failure is
// returned wrapping errs.ErrUnavailable.
func (f *Failures) Add(ctx context.Context, key string) error {
	_, _, err := f.run(ctx, addFailureScript, key)
	return err
}

func (f *Failures) run(ctx context.Context, script *redis.Script, key string) (count int64, left time.Duration, err error) {
	res, err := script.Run(ctx, f.rdb, []string{f.prefix + ":" + key}, f.period.Microseconds()).Int64Slice()
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return 0, 0, fmt.Errorf("failures %s: %w", key, cerr)
		}
		return 0, 0, fmt.Errorf("failures %s: %w: %w", key, errs.ErrUnavailable, err)
	}
	return res[0], time.Duration(res[1]) * time.Microsecond, nil
}
