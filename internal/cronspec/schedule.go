// Package cronspec reads automation rules' schedules: a cron expression
// (five fields, or six with seconds first) or a descriptor such as
// "@every 6h" or "@daily", in a time zone, parsed by robfig/cron. It also
// decides when a rule fires next, across daylight saving changes as Vixie
// cron does (see wallclock.go), so that every caller (the scheduler, the
// API's next_fire_at) agrees; and that a rule that missed slots (the
// scheduler was down or behind) fires once to catch up, not once per slot,
// and which slots it missed.
package cronspec

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // time zones without the system's database

	"github.com/robfig/cron/v3"
)

// parser accepts standard five-field specs, an optional leading seconds
// field and descriptors.
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Schedule is a parsed schedule in its time zone.
type Schedule struct {
	spec cron.Schedule
	loc  *time.Location
	// clock places a cron spec's slots in loc; nil for "@every", which
	// counts real time.
	clock *wallClock
}

// probes is how many consecutive firings Parse looks at to find a
// schedule's shortest interval.
const probes = 64

// Parse reads spec in the time zone tz (an IANA name; empty is UTC) and
// checks that no two firings are closer than minInterval (zero: no check,
// for schedules accepted before, as the scheduler reads them at every
// firing). The error names the problem in words fit for the API's caller.
func Parse(spec, tz string, minInterval time.Duration) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return Schedule{}, fmt.Errorf("must be a cron expression such as \"0 */6 * * *\" or a descriptor such as \"@every 6h\"")
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return Schedule{}, fmt.Errorf("must not name a time zone; set the rule's timezone instead")
	}
	loc, err := Location(tz)
	if err != nil {
		return Schedule{}, err
	}
	parsed, err := parser.Parse(spec)
	if err != nil {
		return Schedule{}, fmt.Errorf("is not a valid schedule: %v", err)
	}
	s := Schedule{spec: parsed, loc: loc}
	if cronSpec, ok := parsed.(*cron.SpecSchedule); ok {
		s.clock = newWallClock(spec, cronSpec, loc)
	}
	if s.Next(time.Now()).IsZero() {
		return Schedule{}, fmt.Errorf("never fires")
	}
	if minInterval <= 0 {
		return s, nil
	}
	if gap := s.shortestGap(); gap < minInterval {
		return Schedule{}, fmt.Errorf("fires every %v at times; the shortest interval allowed is %v", gap, minInterval)
	}
	return s, nil
}

// Location loads an IANA time zone; empty is UTC.
func Location(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "Local" {
		return nil, fmt.Errorf("timezone %q is not an IANA time zone name such as Europe/Berlin", tz)
	}
	return loc, nil
}

// shortestGap is the shortest interval between the next firings from a
// fixed reference time; a spec that never fires (February 30th) has none.
func (s Schedule) shortestGap() time.Duration {
	shortest := time.Duration(1<<63 - 1)
	t := s.Next(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	for range probes {
		if t.IsZero() {
			break
		}
		n := s.Next(t)
		if n.IsZero() {
			break
		}
		shortest = min(shortest, n.Sub(t))
		t = n
	}
	return shortest
}

// Next is the first firing strictly after t, in UTC; zero if it never
// fires again. A cron spec's slot repeated by daylight saving fires once
// and a skipped one when the gap ends, unless the spec is an interval
// (see wallClock).
func (s Schedule) Next(t time.Time) time.Time {
	if s.clock != nil {
		return s.clock.next(t)
	}
	next := s.spec.Next(t.In(s.loc))
	if next.IsZero() {
		return next
	}
	return next.UTC()
}

// After is when a rule fires next once the slot due at scheduled fired at
// now: the first slot after both, so that slots missed during an outage
// are skipped and the catch-up firing is the only one.
func (s Schedule) After(scheduled, now time.Time) time.Time {
	return s.Next(latest(scheduled, now))
}

// Missed counts the slots After skips once the slot due at scheduled fired
// at now: those strictly after scheduled and at or before now, which came
// due while the firing was late and fire no run of their own (the catch-up
// firing stands for them). It counts up to limit of them, n, from first to
// last; more says further slots were left uncounted.
func (s Schedule) Missed(scheduled, now time.Time, limit int) (n int, first, last time.Time, more bool) {
	for t := s.Next(scheduled); !t.IsZero() && !t.After(now); t = s.Next(t) {
		if n == limit {
			return n, first, last, true
		}
		if n == 0 {
			first = t
		}
		last = t
		n++
	}
	return n, first, last, false
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
