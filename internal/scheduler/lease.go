// Package scheduler is Presswork's cron: it fires automation rules whose
// time has come, one automation:run task per firing, from any number of
// replicas of which one (the holder of a Redis lease) fires at a time.
// Firing state lives in PostgreSQL (each rule's next_fire_at and a run row
// per slot), so a replica that takes over fires exactly the slots left,
// and run ids built from the rule and the slot make an overlap harmless.
// What a rule's schedule means and when it fires next is package
// cronspec's; this package only fires, under the lease.
package scheduler

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Lease is leadership among scheduler replicas: a Redis key holding the
// holder's name with a time to live, taken when free and renewed by its
// holder. A holder that dies stops renewing and the key expires after TTL.
type Lease struct {
	Redis  redis.UniversalClient
	Key    string
	Holder string // unique per process
	TTL    time.Duration
	Now    func() time.Time

	mu    sync.Mutex
	until time.Time // the lease is ours until then (by our own clock)
}

// takeScript renews the lease for its holder or takes it when free.
var takeScript = redis.NewScript(`
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`)

// releaseScript gives the lease up, if we hold it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// Try takes or renews the lease and reports whether we hold it. The lease
// counts as ours until TTL after the request was sent, which is no later
// than Redis lets the key expire. An error loses nothing: the lease held
// keeps its time.
func (l *Lease) Try(ctx context.Context) (bool, error) {
	sent := l.Now()
	got, err := takeScript.Run(ctx, l.Redis, []string{l.Key}, l.Holder, l.TTL.Milliseconds()).Int()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		return sent.Before(l.until), fmt.Errorf("scheduler lease: %w", err)
	}
	if got == 1 {
		l.until = sent.Add(l.TTL)
	} else {
		l.until = time.Time{}
	}
	return got == 1, nil
}

// Held reports whether the lease is ours now.
func (l *Lease) Held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.Now().Before(l.until)
}

// Release gives the lease up so that another replica takes over at once.
func (l *Lease) Release(ctx context.Context) error {
	l.mu.Lock()
	l.until = time.Time{}
	l.mu.Unlock()
	return releaseScript.Run(ctx, l.Redis, []string{l.Key}, l.Holder).Err()
}
