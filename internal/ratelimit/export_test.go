package ratelimit

import "time"

// SetPeriod makes "per minute" mean d, so that tests can observe whole
// windows in a second.
func SetPeriod(l *Limiter, d time.Duration) { l.period = d }

// SleepUntil is sleepUntil, for the benchmark.
var SleepUntil = sleepUntil

// SetFailurePeriod makes a failure window last d instead of a minute.
func SetFailurePeriod(f *Failures, d time.Duration) { f.period = d }
