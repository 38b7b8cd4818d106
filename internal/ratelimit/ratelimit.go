// Package ratelimit keeps the calls of every worker process to one upstream
// (an AI provider's model, say "openai/gpt-4o-mini") under its requests per
// minute and tokens per minute. The state lives in Redis, so the processes
// share it, and a Lua script updates it atomically.
//
// # Algorithm
//
// Each key is a GCRA (generic cell rate algorithm, the "virtual scheduling"
// form of a token bucket) in two dimensions, requests and tokens. A
// dimension keeps one number, its theoretical arrival time (TAT): the moment
// the units admitted so far would have been served at the steady rate. A
// call of n units is admitted at the earliest time a at which, after adding
// its n units, the TAT is at most one burst ahead of a; the call then waits
// until a. Both dimensions must agree, so a is the later of the two.
//
// GCRA was chosen over a sliding-window log because its state is O(1) per
// key (two numbers, not one entry per request in the last minute), the
// script computes the exact wait instead of making callers poll, tokens are
// charged and corrected (Adjust) by moving one number, and it spaces calls
// evenly instead of letting a minute's budget go in its first second, which
// providers that enforce their per-minute limits over shorter periods
// (OpenAI says it may) answer with 429s.
//
// The steady rate is the limit less the burst, so that no rolling minute
// ever holds more than the limit: at most burst + rate*minute - 1 = limit
// units. The request burst is one second's worth of the limit (limit/60,
// plus one): providers that enforce per-minute limits over shorter periods
// then see no burst larger than a second's share, and the steady rate is
// about 98% of the limit. The token burst is three seconds' worth
// (limit/20, plus one), since a single call is often larger than a second's
// share of tokens; the steady rate is then 95% of the limit.
//
// A call larger than the burst is admitted as soon as the bucket is full
// (instead of waiting for its excess to drain as well, which would waste
// nearly half the budget when most calls are that large); a rolling minute
// can then exceed the limit by that call's excess over the burst. A call is
// charged at most the whole limit, so that one larger than the limit
// (which the provider will likely refuse anyway) still gets a place.
//
// # Reservations
//
// Wait reserves its place: the script advances the TATs at once and answers
// how long to wait, so waiters are served in the order they asked, without
// polling. A caller whose place lies beyond its context's deadline reserves
// nothing and gets an *errs.ThrottledError at once, which the worker treats
// as a delay rather than a failure; a caller whose context ends while it
// waits gives its place back.
//
// # Backoff
//
// When the provider answers 429 anyway (another client on the same account,
// a provider-side limit lower than configured), Backoff sets a pause on the
// key that every process's Wait honours; a longer pause wins, a shorter one
// never shortens it. Calls reserved before the pause check it when their
// time comes and, if it is still on, take a new place after it.
//
// All times come from the Redis server's clock (TIME), so the processes'
// clocks need not agree.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/errs"
)

// ErrWaitExceedsDeadline is wrapped in the *errs.ThrottledError that Wait
// returns when the call's place lies beyond the context's deadline.
var ErrWaitExceedsDeadline = errors.New("rate limit wait would exceed the context deadline")

// Limits are an upstream's limits. Zero (or negative) means unlimited.
type Limits struct {
	RequestsPerMinute int
	TokensPerMinute   int
}

// The bursts are limit/divisor+1: one second's worth of requests and three
// seconds' worth of tokens.
const (
	requestBurstDivisor = 60
	tokenBurstDivisor   = 20
)

// refundTimeout bounds giving a place back after the caller's context ended.
const refundTimeout = 2 * time.Second

// Limiter is a rate limiter shared through Redis by every process that uses
// the same prefix. It is safe for concurrent use.
type Limiter struct {
	rdb    redis.UniversalClient
	prefix string
	// period is what "per minute" means; tests shorten it.
	period time.Duration
}

// New returns a limiter that keeps its state in rdb under keys that start
// with prefix and a colon (e.g. prefix "presswork:ratelimit" and key
// "openai/gpt-4o-mini" give "presswork:ratelimit:openai/gpt-4o-mini").
func New(rdb redis.UniversalClient, prefix string) *Limiter {
	return &Limiter{rdb: rdb, prefix: prefix, period: time.Minute}
}

// gcra is one dimension's parameters in microseconds: the time one unit
// takes at the steady rate, and the burst window. Zero means unlimited.
type gcra struct{ interval, burst float64 }

func (l *Limiter) gcra(perMinute, burstDivisor int) gcra {
	if perMinute <= 0 {
		return gcra{}
	}
	burst := 1 + perMinute/burstDivisor
	rate := perMinute - (burst - 1)
	interval := float64(l.period.Microseconds()) / float64(rate)
	return gcra{interval: interval, burst: float64(burst) * interval}
}

// reserveScript reserves a place for nreq requests and ntok tokens, after
// any pause. A dimension admits n units at the earliest when its TAT, plus
// n intervals, is at most one burst ahead; n units larger than the burst
// when the TAT has passed. It answers {1, wait} with the wait in microseconds, or {0, wait}
// without reserving when the wait exceeds maxwait (negative: no bound).
//
// KEYS[1]: the key's hash: r and t, the TATs of requests and tokens, and p,
// the end of the pause, all in microseconds of the server's clock.
// ARGV: nreq, request interval, request burst, ntok, token interval, token
// burst, maxwait, idle ttl in milliseconds.
var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local h = redis.call('HMGET', KEYS[1], 'r', 't', 'p')
local tr, tt, p = tonumber(h[1]) or 0, tonumber(h[2]) or 0, tonumber(h[3]) or 0
local nreq, ir, wr = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local ntok, it, wt = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local maxwait, ttl = tonumber(ARGV[7]), tonumber(ARGV[8])
local function earliest(tat, n, interval, burst)
  if n * interval > burst then return tat end
  return tat + n * interval - burst
end
local a = math.max(now, p)
if ir > 0 then a = math.max(a, earliest(tr, nreq, ir, wr)) end
if it > 0 then a = math.max(a, earliest(tt, ntok, it, wt)) end
local wait = math.ceil(a - now)
if maxwait >= 0 and wait > maxwait then
  return {0, wait}
end
local last = p
if ir > 0 then
  tr = math.max(tr, a) + nreq * ir
  redis.call('HSET', KEYS[1], 'r', string.format('%.3f', tr))
  last = math.max(last, tr)
end
if it > 0 then
  tt = math.max(tt, a) + ntok * it
  redis.call('HSET', KEYS[1], 't', string.format('%.3f', tt))
  last = math.max(last, tt)
end
if last > now then
  redis.call('PEXPIRE', KEYS[1], math.ceil((last - now) / 1000) + ttl)
end
return {1, wait}
`)

// adjustScript charges nreq requests and ntok tokens more (or, negative,
// fewer) than were reserved. A charge moves the TAT from now at the
// earliest; a refund never moves it before now.
//
// KEYS[1]: the key's hash. ARGV: nreq, request interval, ntok, token
// interval, idle ttl in milliseconds.
var adjustScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local h = redis.call('HMGET', KEYS[1], 'r', 't', 'p')
local tr, tt, p = tonumber(h[1]) or 0, tonumber(h[2]) or 0, tonumber(h[3]) or 0
local nreq, ir, ntok, it, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local last = p
if ir > 0 and nreq ~= 0 then
  tr = math.max(math.max(tr, now) + nreq * ir, now)
  redis.call('HSET', KEYS[1], 'r', string.format('%.3f', tr))
end
if it > 0 and ntok ~= 0 then
  tt = math.max(math.max(tt, now) + ntok * it, now)
  redis.call('HSET', KEYS[1], 't', string.format('%.3f', tt))
end
last = math.max(last, tr, tt)
if last > now then
  redis.call('PEXPIRE', KEYS[1], math.ceil((last - now) / 1000) + ttl)
end
return 1
`)

// backoffScript extends the pause to now + ARGV[1] microseconds unless it
// already lasts longer, and answers the pause left in microseconds.
//
// KEYS[1]: the key's hash. ARGV: the pause, idle ttl in milliseconds.
var backoffScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local h = redis.call('HMGET', KEYS[1], 'r', 't', 'p')
local tr, tt, p = tonumber(h[1]) or 0, tonumber(h[2]) or 0, tonumber(h[3]) or 0
local np = now + tonumber(ARGV[1])
if np > p then
  p = np
  redis.call('HSET', KEYS[1], 'p', string.format('%.0f', p))
  redis.call('PEXPIRE', KEYS[1], math.ceil((math.max(p, tr, tt) - now) / 1000) + tonumber(ARGV[2]))
end
return math.ceil(p - now)
`)

// pauseScript answers the pause left on KEYS[1] in microseconds, or 0.
var pauseScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local p = tonumber(redis.call('HGET', KEYS[1], 'p')) or 0
return math.max(0, math.ceil(p - now))
`)

func (l *Limiter) redisKey(key string) string { return l.prefix + ":" + key }

func (l *Limiter) ttlMillis() int64 { return l.period.Milliseconds() }

// Wait blocks until one request and tokens tokens fit under limits on key,
// and no pause set by Backoff is on. It charges them at once (tokens at
// most the whole token limit); correct the estimate with Adjust once the
// real usage is known. With zero limits it only honours the pause.
//
// When the place it would get lies beyond ctx's deadline, Wait reserves
// nothing and returns at once an *errs.ThrottledError that wraps
// ErrWaitExceedsDeadline, with RetryAfter the wait it would have needed.
// When ctx ends while it waits, Wait gives its place back and returns ctx's
// error. A Redis failure is returned wrapping errs.ErrUnavailable.
func (l *Limiter) Wait(ctx context.Context, key string, limits Limits, tokens int) error {
	req, tok := l.gcra(limits.RequestsPerMinute, requestBurstDivisor), l.gcra(limits.TokensPerMinute, tokenBurstDivisor)
	tokens = max(tokens, 0)
	if limits.TokensPerMinute > 0 {
		tokens = min(tokens, limits.TokensPerMinute)
	}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("ratelimit %s: %w", key, err)
		}
		maxWait := int64(-1) // microseconds; negative: no bound
		deadline, hasDeadline := ctx.Deadline()
		if hasDeadline {
			maxWait = max(time.Until(deadline), 0).Microseconds()
		}
		res, err := reserveScript.Run(ctx, l.rdb, []string{l.redisKey(key)},
			1, req.interval, req.burst, tokens, tok.interval, tok.burst,
			maxWait, l.ttlMillis()).Int64Slice()
		if err != nil {
			return l.redisError(ctx, key, err)
		}
		wait := time.Duration(res[1]) * time.Microsecond
		if res[0] == 0 {
			return throttled(key, wait)
		}
		if wait <= 0 {
			return nil
		}
		// Sleeping from now rather than from the request errs on the late
		// side; if that overruns the deadline, give the place back.
		wake := time.Now().Add(wait)
		if hasDeadline && wake.After(deadline) {
			l.refund(ctx, key, req, tok, tokens)
			return throttled(key, wait)
		}
		if err := sleepUntil(ctx, wake); err != nil {
			l.refund(ctx, key, req, tok, tokens)
			return fmt.Errorf("ratelimit %s: %w", key, err)
		}
		left, err := pauseScript.Run(ctx, l.rdb, []string{l.redisKey(key)}).Int64()
		if err != nil {
			return l.redisError(ctx, key, err)
		}
		if left <= 0 {
			return nil
		}
		// A Backoff came while this call waited: take a new place after it.
		l.refund(ctx, key, req, tok, tokens)
	}
}

// Allow admits one request on key now, under perMinute requests per
// minute, or returns at once an *errs.ThrottledError whose RetryAfter is
// when one would be admitted: it never waits, and a refused request costs
// nothing. Zero (or negative) perMinute admits everything. A Redis failure
// is returned wrapping errs.ErrUnavailable.
func (l *Limiter) Allow(ctx context.Context, key string, perMinute int) error {
	if perMinute <= 0 {
		return nil
	}
	req := l.gcra(perMinute, requestBurstDivisor)
	res, err := reserveScript.Run(ctx, l.rdb, []string{l.redisKey(key)},
		1, req.interval, req.burst, 0, 0, 0, 0, l.ttlMillis()).Int64Slice()
	if err != nil {
		return l.redisError(ctx, key, err)
	}
	if res[0] == 0 {
		return throttled(key, time.Duration(res[1])*time.Microsecond)
	}
	return nil
}

// Adjust corrects the tokens charged on key by delta: positive when the
// call used more than Wait was told, negative when it used fewer. It does
// nothing when limits has no token limit.
func (l *Limiter) Adjust(ctx context.Context, key string, limits Limits, delta int) error {
	tok := l.gcra(limits.TokensPerMinute, tokenBurstDivisor)
	if tok.interval == 0 || delta == 0 {
		return nil
	}
	err := adjustScript.Run(ctx, l.rdb, []string{l.redisKey(key)},
		0, 0, delta, tok.interval, l.ttlMillis()).Err()
	if err != nil {
		return l.redisError(ctx, key, err)
	}
	return nil
}

// Backoff pauses key for d in every process: Wait admits nothing on key
// until the pause is over. A pause that already lasts longer is kept.
func (l *Limiter) Backoff(ctx context.Context, key string, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	err := backoffScript.Run(ctx, l.rdb, []string{l.redisKey(key)},
		d.Microseconds(), l.ttlMillis()).Err()
	if err != nil {
		return l.redisError(ctx, key, err)
	}
	return nil
}

// refund gives back a place that Wait reserved and will not use. It runs
// even when ctx has ended; a failure only leaves the place unused.
func (l *Limiter) refund(ctx context.Context, key string, req, tok gcra, tokens int) {
	if req.interval == 0 && tok.interval == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refundTimeout)
	defer cancel()
	_ = adjustScript.Run(ctx, l.rdb, []string{l.redisKey(key)},
		-1, req.interval, -tokens, tok.interval, l.ttlMillis()).Err()
}

func (l *Limiter) redisError(ctx context.Context, key string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("ratelimit %s: %w", key, cerr)
	}
	return fmt.Errorf("ratelimit %s: %w: %w", key, errs.ErrUnavailable, err)
}

func throttled(key string, wait time.Duration) error {
	// Round up so that a retry after RetryAfter finds its place free.
	wait = time.Duration(math.Ceil(float64(wait)/float64(time.Millisecond))) * time.Millisecond
	return &errs.ThrottledError{RetryAfter: wait, Err: fmt.Errorf("ratelimit %s: %w", key, ErrWaitExceedsDeadline)}
}

// sleepUntil waits until t or until ctx ends.
func sleepUntil(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
