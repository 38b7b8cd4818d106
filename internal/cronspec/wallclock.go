package cronspec

import (
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Daylight saving, as Vixie cron handles it.
//
// A cron spec names wall-clock readings; a time zone's clock skips some
// readings (spring forward) and shows others twice (fall back). robfig/cron's
// own Next walks the zone's clock and gets both wrong: it fires a repeated
// slot twice and skips a missing one. Here the spec is matched against the
// readings of a clock with no changes (UTC used as a plain calendar), and
// each reading is then placed in the zone one stretch of constant offset at
// a time:
//
//   - A fixed-time spec (no "*" or "?" in its minute and hour fields, such as
//     "30 1 * * *", "0 9 * * MON-FRI" or "@daily") names moments of the day.
//     A repeated reading fires once, at its first occurrence; a skipped
//     reading fires at the instant the gap ends (02:30 on the spring-forward
//     day fires at 03:00), once however many of its slots the gap swallowed.
//   - A spec with "*" or "*/n" in its minute or hour field ("*/15 * * * *",
//     "0 * * * *", "@hourly") is an interval. It fires at every real instant
//     whose reading matches: in the repeated hour each quarter (or hour) fires
//     twice on the clock, once per real occurrence, and readings that do not
//     exist are not fired, so the interval between firings stays the same.
//   - "@every" counts real time and is unaffected.

// wallClock is a cron spec placed in a time zone.
type wallClock struct {
	// slots matches the spec's readings on a calendar without changes.
	slots cron.SpecSchedule
	loc   *time.Location
	// fixed: a fixed-time spec, see above.
	fixed bool
}

func newWallClock(spec string, parsed *cron.SpecSchedule, loc *time.Location) *wallClock {
	slots := *parsed
	slots.Location = time.UTC
	return &wallClock{slots: slots, loc: loc, fixed: isFixedTime(spec)}
}

// isFixedTime tells a spec naming moments of the day from an interval, by
// its minute and hour fields as Vixie cron does: a "*" or "?" in either
// (also as "*/n") makes it an interval. spec is one Parse accepted, so not
// empty.
func isFixedTime(spec string) bool {
	fields := strings.Fields(spec)
	switch {
	case strings.HasPrefix(fields[0], "@"):
		return fields[0] != "@hourly" && fields[0] != "@every"
	case len(fields) == 6: // seconds first
		fields = fields[1:]
	}
	if len(fields) < 2 {
		return false
	}
	return !strings.ContainsAny(fields[0]+fields[1], "*?")
}

// reading is instant i as the zone's clock shows it at offset off, written
// as a UTC time.
func reading(i time.Time, off int) time.Time {
	return i.UTC().Add(time.Duration(off) * time.Second)
}

// atOrAfter is the first slot whose reading is r or later (readings are
// whole seconds); zero if none within robfig's five years.
func (w *wallClock) atOrAfter(r time.Time) time.Time {
	return w.slots.Next(r.Add(-time.Second))
}

// next is the first firing strictly after t. It walks the stretches of
// constant offset from the one holding t, so that each transition is
// looked at once: at a gap a fixed-time slot inside it fires when the gap
// ends, at an overlap a fixed-time spec resumes only after the readings it
// already had.
func (w *wallClock) next(t time.Time) time.Time {
	t = t.In(w.loc)
	start, _ := t.ZoneBounds()
	end := stretchEnd(t, w.loc)
	_, off := t.Zone()
	// robfig's Next is strictly after, at whole seconds.
	slot := w.slots.Next(reading(t, off))
	if w.fixed && !start.IsZero() {
		_, before := start.Add(-time.Second).Zone()
		if seen := reading(start, before); before > off && reading(t, off).Before(seen) {
			slot = w.atOrAfter(seen) // t is in the repeated readings, which fired before
		}
	}
	for {
		if slot.IsZero() {
			return time.Time{}
		}
		if end.IsZero() || slot.Before(reading(end, off)) {
			return slot.Add(-time.Duration(off) * time.Second)
		}
		// The slot lies past the next transition: place it after it.
		_, after := end.In(w.loc).Zone()
		if w.fixed && after > off && slot.Before(reading(end, after)) {
			return end.UTC() // the clocks skipped the slot: fire as the gap ends
		}
		resume := reading(end, after)
		if w.fixed && after < off {
			resume = reading(end, off) // the repeated readings fired before
		}
		slot = w.atOrAfter(resume)
		off = after
		end = stretchEnd(end, w.loc)
	}
}

// stretchEnd is when loc's offset may next change after at; zero if it
// never does. Past a zone's last listed transition Go's ZoneBounds ends
// each stretch at the year's end, which in a leap year it puts a day early
// (so before at, up to a day): then the year's true end is taken, where
// the offset does not change, so that the walk always moves on.
func stretchEnd(at time.Time, loc *time.Location) time.Time {
	_, end := at.In(loc).ZoneBounds()
	if end.IsZero() || end.After(at) {
		return end
	}
	return time.Date(at.UTC().Year()+1, time.January, 1, 0, 0, 0, 0, time.UTC)
}
