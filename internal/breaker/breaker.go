// Package breaker is a circuit breaker shared through Redis: every worker
// process that uses the same prefix sees one circuit per key (an AI
// provider's model, say "openai/gpt-4o-mini"), so that when a provider
// fails, all of them stop calling it at once and send their calls
// elsewhere (package internal/ai/fallback).
//
// # States
//
// A circuit is closed (calls go through and their outcomes are counted),
// open (calls are refused until its cooldown ends) or half-open (the
// cooldown has ended: one call at a time, the probe, goes through). A
// closed circuit opens when, over the last Window, at least MinCalls calls
// were counted and at least Ratio of them failed. A probe that succeeds
// closes the circuit, with its counts cleared; one that fails opens it for
// another Cooldown.
//
// The window slides: the counts are those of the current fixed window plus
// the previous window's, weighted by how much of the previous window is
// still within Window of now (the estimate rate limiters such as
// Cloudflare's use). This is O(1) per key, like package ratelimit's state,
// and it does not forget a run of failures that straddles a window's edge.
//
// # Outcomes
//
// A call the breaker admitted is ended with Done and its Outcome: Success,
// Failure (the provider failed: a 5xx, a timeout, a refused connection) or
// Neutral (nothing learnt about the provider's health: the caller gave up,
// the provider throttled or refused a bad request). A neutral probe frees
// the half-open circuit for the next probe. The outcome of a call admitted
// while the circuit was closed and ended after it opened is not counted.
// A probe that is never ended (its process died) holds the circuit
// half-open for ProbeTimeout, after which another probe is admitted.
//
// The state lives in one Redis hash per key, updated atomically by Lua
// scripts. Times come from the Redis server's clock (TIME), so the
// processes' clocks need not agree; tests may drive a clock of their own
// (Config.Clock).
package breaker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/errs"
)

// ErrOpen is what Allow refuses a call with: the circuit is open, or
// half-open with its probe in flight.
var ErrOpen = errors.New("circuit open")

// OpenError is Allow's refusal. It Is ErrOpen.
type OpenError struct {
	Key string
	// RetryAfter is how long until the circuit admits a probe, as far as
	// is known when it is refused (a probe in flight may end sooner).
	RetryAfter time.Duration
}

func (e *OpenError) Error() string {
	return fmt.Sprintf("breaker %s: circuit open (retry after %s)", e.Key, e.RetryAfter)
}

// Is makes errors.Is(err, ErrOpen) hold.
func (e *OpenError) Is(target error) bool { return target == ErrOpen }

// State is a circuit's state.
type State int

// The states of a circuit.
const (
	Closed State = iota
	Open
	HalfOpen
)

func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half_open"
	}
	return "unknown"
}

// Outcome is how a call the breaker admitted ended.
type Outcome int

// The outcomes of a call.
const (
	// Neutral: the call says nothing of the provider's health (the caller
	// gave up, it was throttled, the request was bad).
	Neutral Outcome = iota
	// Success: the provider answered.
	Success
	// Failure: the provider failed (a 5xx, a timeout, no connection).
	Failure
)

// Defaults of Config's zero fields.
const (
	DefaultWindow       = time.Minute
	DefaultMinCalls     = 10
	DefaultRatio        = 0.5
	DefaultCooldown     = 30 * time.Second
	DefaultProbeTimeout = 2 * time.Minute
)

// Config tunes a Breaker. Zero fields take the defaults above.
type Config struct {
	// Window is how far back calls are counted.
	Window time.Duration
	// MinCalls is the fewest calls within Window that may open the
	// circuit, so that two failures out of three do not.
	MinCalls int
	// Ratio is the share of failures, within Window, that opens the
	// circuit: in (0, 1].
	Ratio float64
	// Cooldown is how long an open circuit refuses calls before it admits
	// a probe.
	Cooldown time.Duration
	// ProbeTimeout is how long a probe holds the half-open circuit before
	// another is admitted (its process may have died); it should exceed
	// the longest call.
	ProbeTimeout time.Duration
	// OnTransition, if set, is called in the process whose call changed a
	// circuit's state (for metrics and logs). It must not block.
	OnTransition func(key string, from, to State)
	// Clock, if set, replaces the Redis server's clock: tests drive it.
	Clock func() time.Time
}

func (c Config) withDefaults() (Config, error) {
	if c.Window < 0 || c.MinCalls < 0 || c.Cooldown < 0 || c.ProbeTimeout < 0 || c.Ratio < 0 || c.Ratio > 1 {
		return c, fmt.Errorf("breaker config: window, min calls, cooldown and probe timeout must not be negative "+
			"and the ratio must be within (0, 1], not %+v", c)
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.MinCalls == 0 {
		c.MinCalls = DefaultMinCalls
	}
	if c.Ratio == 0 {
		c.Ratio = DefaultRatio
	}
	if c.Cooldown == 0 {
		c.Cooldown = DefaultCooldown
	}
	if c.ProbeTimeout == 0 {
		c.ProbeTimeout = DefaultProbeTimeout
	}
	return c, nil
}

// Breaker is a circuit breaker per key, shared through Redis by every
// process that uses the same prefix. It is safe for concurrent use.
type Breaker struct {
	rdb    redis.UniversalClient
	prefix string
	cfg    Config
}

// New returns a breaker that keeps its circuits in rdb under keys that
// start with prefix and a colon ("presswork:breaker" and
// "openai/gpt-4o-mini" give "presswork:breaker:openai/gpt-4o-mini"). It
// fails when cfg is out of range.
func New(rdb redis.UniversalClient, prefix string, cfg Config) (*Breaker, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Breaker{rdb: rdb, prefix: prefix, cfg: cfg}, nil
}

// Ticket is a call Allow admitted, to be ended with Done.
type Ticket struct {
	Key string
	// probe is the probe's number on a half-open circuit, 0 for a call
	// admitted while the circuit was closed.
	probe int64
}

// Probe reports whether the call is the probe of a half-open circuit.
func (t Ticket) Probe() bool { return t.probe > 0 }

// prelude is the Lua shared by the scripts: now (µs, ARGV[1], or the
// server's clock when negative), the window (µs, ARGV[2]), the hash's
// fields rolled to the current window, est() (the sliding estimates of
// calls and failures) and save(ttl).
//
// KEYS[1]: the circuit's hash: w (the current window's number), c and f
// (its calls and failures), pc and pf (the previous window's), o (the end
// of the cooldown in µs, 0 while closed), g (the last probe's number), pe
// (the end of the current probe's lease in µs, 0 when none), ps (the o of
// the last probe's cooldown: a probe of another is the first since the
// circuit opened).
const prelude = `
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local window = tonumber(ARGV[2])
local h = redis.call('HMGET', KEYS[1], 'w', 'c', 'f', 'pc', 'pf', 'o', 'g', 'pe', 'ps')
local w, c, f = tonumber(h[1]) or 0, tonumber(h[2]) or 0, tonumber(h[3]) or 0
local pc, pf, o = tonumber(h[4]) or 0, tonumber(h[5]) or 0, tonumber(h[6]) or 0
local g, pe, ps = tonumber(h[7]) or 0, tonumber(h[8]) or 0, tonumber(h[9]) or 0
local cur = math.floor(now / window)
if cur ~= w then
  if cur == w + 1 then pc, pf = c, f else pc, pf = 0, 0 end
  c, f, w = 0, 0, cur
end
local function est()
  local weight = 1 - (now - cur * window) / window
  return c + pc * weight, f + pf * weight
end
local function save(ttl)
  redis.call('HSET', KEYS[1], 'w', string.format('%d', w), 'c', c, 'f', f, 'pc', pc, 'pf', pf,
    'o', string.format('%d', o), 'g', g, 'pe', string.format('%d', pe), 'ps', string.format('%d', ps))
  local keep = 2 * window
  if o > 0 then keep = keep + math.max(o - now, 0) + ttl end
  redis.call('PEXPIRE', KEYS[1], math.ceil(keep / 1000))
end
`

// allowScript admits a call: {1, 0, 0, 0} while closed; {2, 0, probe,
// first} for the probe of a half-open circuit, first 1 for the first probe
// since it opened; {0, wait, 0, 0} refused, wait in µs. ARGV: now, window,
// probe timeout (µs).
var allowScript = redis.NewScript(prelude + `
local lease = tonumber(ARGV[3])
if o == 0 then return {1, 0, 0, 0} end
if now < o then return {0, o - now, 0, 0} end
if pe > now then return {0, pe - now, 0, 0} end
local first = 0
if ps ~= o then first = 1 end
g, pe, ps = g + 1, now + lease, o
save(lease)
return {2, 0, g, first}
`)

// doneScript ends a call with ARGV[5] (0 neutral, 1 success, 2 failure);
// ARGV[4] is its probe number (0: not a probe). It answers {from, to}, the
// states before and after (0 closed, 1 open, 2 half-open). ARGV: now,
// window, probe timeout, probe, outcome, cooldown, min calls, ratio (all
// times in µs).
var doneScript = redis.NewScript(prelude + `
local lease, probe, outcome = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local cooldown, mincalls, ratio = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local from = 0
if o > 0 then from = (now < o) and 1 or 2 end
if probe > 0 then
  if o == 0 or probe ~= g or now < o then return {from, from} end
  pe = 0
  if outcome == 1 then
    o, c, f, pc, pf = 0, 0, 0, 0, 0
    save(lease)
    return {2, 0}
  elseif outcome == 2 then
    o = now + cooldown
    save(lease)
    return {2, 1}
  end
  save(lease)
  return {2, 2}
end
if o > 0 or outcome == 0 then return {from, from} end
c = c + 1
if outcome == 2 then f = f + 1 end
local ec, ef = est()
if outcome == 2 and ec >= mincalls and ef >= ratio * ec then
  o, c, f, pc, pf, pe = now + cooldown, 0, 0, 0, 0, 0
  save(lease)
  return {0, 1}
end
save(lease)
return {0, 0}
`)

// stateScript answers the circuit's state (0 closed, 1 open, 2 half-open)
// and the estimated calls and failures within the window, as strings.
// ARGV: now, window.
var stateScript = redis.NewScript(prelude + `
local s = 0
if o > 0 then s = (now < o) and 1 or 2 end
local ec, ef = est()
return {s, tostring(ec), tostring(ef)}
`)

// Allow admits a call on key, or refuses it with an *OpenError while the
// circuit is open or its probe is in flight. An admitted call must be
// ended with Done. A Redis failure is returned wrapping
// errs.ErrUnavailable; callers may then let the call through unrecorded.
func (b *Breaker) Allow(ctx context.Context, key string) (Ticket, error) {
	res, err := b.run(ctx, allowScript, key, b.cfg.ProbeTimeout.Microseconds())
	if err != nil {
		return Ticket{}, err
	}
	vals, err := ints(res, 4)
	if err != nil {
		return Ticket{}, fmt.Errorf("breaker %s: %w", key, err)
	}
	if vals[0] == 0 {
		return Ticket{}, &OpenError{Key: key, RetryAfter: time.Duration(vals[1]) * time.Microsecond}
	}
	t := Ticket{Key: key, probe: vals[2]}
	if vals[3] == 1 {
		b.transition(key, Open, HalfOpen)
	}
	return t, nil
}

// Done ends a call Allow admitted with its outcome. A Redis failure is
// returned wrapping errs.ErrUnavailable; the outcome is then lost.
func (b *Breaker) Done(ctx context.Context, t Ticket, o Outcome) error {
	res, err := b.run(ctx, doneScript, t.Key, b.cfg.ProbeTimeout.Microseconds(), t.probe, int(o),
		b.cfg.Cooldown.Microseconds(), b.cfg.MinCalls, strconv.FormatFloat(b.cfg.Ratio, 'f', -1, 64))
	if err != nil {
		return err
	}
	vals, err := ints(res, 2)
	if err != nil {
		return fmt.Errorf("breaker %s: %w", t.Key, err)
	}
	if from, to := State(vals[0]), State(vals[1]); from != to {
		b.transition(t.Key, from, to)
	}
	return nil
}

// Stats are what a circuit looks like now.
type Stats struct {
	State State
	// Calls and Failures are the sliding estimates within the window, of
	// a closed circuit.
	Calls, Failures float64
}

// Stats returns key's circuit as it is now.
func (b *Breaker) Stats(ctx context.Context, key string) (Stats, error) {
	res, err := b.run(ctx, stateScript, key)
	if err != nil {
		return Stats{}, err
	}
	vals, ok := res.([]any)
	if !ok || len(vals) != 3 {
		return Stats{}, fmt.Errorf("breaker %s: unexpected answer %v", key, res)
	}
	s, _ := vals[0].(int64)
	out := Stats{State: State(s)}
	calls, _ := vals[1].(string)
	failures, _ := vals[2].(string)
	out.Calls, _ = strconv.ParseFloat(calls, 64)
	out.Failures, _ = strconv.ParseFloat(failures, 64)
	return out, nil
}

func (b *Breaker) transition(key string, from, to State) {
	if b.cfg.OnTransition != nil {
		b.cfg.OnTransition(key, from, to)
	}
}

// run runs script on key's hash with now and the window before args.
func (b *Breaker) run(ctx context.Context, script *redis.Script, key string, args ...any) (any, error) {
	now := int64(-1)
	if b.cfg.Clock != nil {
		now = b.cfg.Clock().UnixMicro()
	}
	argv := append([]any{now, b.cfg.Window.Microseconds()}, args...)
	res, err := script.Run(ctx, b.rdb, []string{b.prefix + ":" + key}, argv...).Result()
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("breaker %s: %w", key, cerr)
		}
		return nil, fmt.Errorf("breaker %s: %w: %w", key, errs.ErrUnavailable, err)
	}
	return res, nil
}

// ints reads a script's answer of n integers.
func ints(res any, n int) ([]int64, error) {
	vals, ok := res.([]any)
	if !ok || len(vals) != n {
		return nil, fmt.Errorf("unexpected script answer %v", res)
	}
	out := make([]int64, n)
	for i, v := range vals {
		if out[i], ok = v.(int64); !ok {
			return nil, fmt.Errorf("unexpected script answer %v", res)
		}
	}
	return out, nil
}
