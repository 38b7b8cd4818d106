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
// Failures.Admit returns for a key over its limit.
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
// window, the microseconds left in it, the failures counted in it (n) and
// the lookups admitted in it and not yet settled (p). The state is one
// hash, KEYS[1], holding w (the window it counts), n and p, so that a
// script touches only the key it declares; save writes it back.
const failureWindow = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local period = tonumber(ARGV[1])
local window = math.floor(now / period)
local left = (window + 1) * period - now
local h = redis.call('HMGET', KEYS[1], 'w', 'n', 'p')
local n, p = 0, 0
if tonumber(h[1]) == window then n = tonumber(h[2]) or 0; p = tonumber(h[3]) or 0 end
local function save()
  redis.call('HSET', KEYS[1], 'w', string.format('%d', window), 'n', n, 'p', p)
  redis.call('PEXPIRE', KEYS[1], math.ceil((left + period) / 1000))
end
`

// admitScript admits one lookup on KEYS[1] unless the limit (ARGV[2]) of
// failures is counted in the current window, or the key has failed in it
// and its failures and the lookups admitted but not settled reach the
// limit, or those lookups reach ARGV[3]; an admitted lookup is counted as
// pending. It answers {admitted (1 or 0), failures, microseconds left,
// window}. ARGV: the period in microseconds, the limit, the most lookups
// in flight.
var admitScript = redis.NewScript(failureWindow + `
local limit = tonumber(ARGV[2])
if n >= limit or (n > 0 and n + p >= limit) or p >= tonumber(ARGV[3]) then return {0, n, left, window} end
p = p + 1
save()
return {1, n, left, window}
`)

// settleScript ends a lookup admitted in window ARGV[2]: it is no longer
// pending (unless its window is over), and when ARGV[3] is "1" it failed
// and is counted. It answers the same as checkFailuresScript. ARGV: the
// period in microseconds, the window, the outcome. The key outlives its
// window by a period (save), so a settle near the window's end still finds
// it.
var settleScript = redis.NewScript(failureWindow + `
if tonumber(ARGV[2]) == window and p > 0 then p = p - 1 end
if ARGV[3] == '1' then n = n + 1 end
save()
return {n}
`)

// MaxInFlightFactor times the limit is how many lookups of one key
// Failures.Admit lets be in flight at once while the key has not failed in
// the current window: many clients behind one address (a proxy) are not
// held to the failure limit's few lookups at a time, and a client sending
// many wrong credentials at once still has at most that many looked up.
const MaxInFlightFactor = 10

// Admit admits one lookup of a credential from key, or refuses it with an
// *errs.ThrottledError: once limit failures were counted in the current
// window (RetryAfter is the window's end); or, while lookups admitted
// earlier are not settled, when the key failed in the window and those
// lookups and its failures together reach limit, or when those lookups
// reach MaxInFlightFactor times limit (RetryAfter a second at most: they
// end soon). Counting the lookups in flight is what holds a client that
// sends many wrong credentials at once: with a check before each lookup
// and a count after it, they all pass the check before the first failure
// is counted. The lookup admitted must be ended with the function
// returned (failed: the credential named nothing, and counts). Zero (or
// negative) limit admits everything. A Redis failure is returned wrapping
// errs.ErrUnavailable.
func (f *Failures) Admit(ctx context.Context, key string, limit int) (func(ctx context.Context, failed bool) error, error) {
	if limit <= 0 {
		return func(context.Context, bool) error { return nil }, nil
	}
	res, err := f.eval(ctx, admitScript, key, limit, MaxInFlightFactor*limit)
	if err != nil {
		return nil, err
	}
	admitted, n, left, window := res[0] == 1, res[1], time.Duration(res[2])*time.Microsecond, res[3]
	if !admitted {
		if n < int64(limit) {
			left = min(left, time.Second)
		}
		return nil, &errs.ThrottledError{RetryAfter: left, Err: fmt.Errorf("failures %s: %w", key, ErrTooManyFailures)}
	}
	return func(ctx context.Context, failed bool) error {
		outcome := "0"
		if failed {
			outcome = "1"
		}
		_, err := f.eval(ctx, settleScript, key, window, outcome)
		return err
	}, nil
}

// eval runs script on key's hash with the period and args as ARGV.
func (f *Failures) eval(ctx context.Context, script *redis.Script, key string, args ...any) ([]int64, error) {
	argv := append([]any{f.period.Microseconds()}, args...)
	res, err := script.Run(ctx, f.rdb, []string{f.prefix + ":" + key}, argv...).Int64Slice()
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("failures %s: %w", key, cerr)
		}
		return nil, fmt.Errorf("failures %s: %w: %w", key, errs.ErrUnavailable, err)
	}
	return res, nil
}
