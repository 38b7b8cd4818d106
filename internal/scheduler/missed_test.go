package scheduler_test

import (
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/store"
)

// TestOutageRecordsMissedSlots checks #17's point 17: the slots an outage
// left unfired are recorded, once per rule, with how many there were and
// from when to when; a scheduler on time records none.
func TestOutageRecordsMissedSlots(t *testing.T) {
	e := newEnv(t)
	c := &clock{now: t0}
	s := e.scheduler(t, c, "a")
	hourly := e.rule(t, "0 * * * *", t0)
	every := e.rule(t, "@every 3h", t0)
	c.Set(t0.Add(36*time.Hour + 30*time.Minute))
	fireDue(t, s)
	for _, tc := range []struct {
		rule     store.Rule
		missed   int
		from, to time.Time
	}{
		{hourly, 36, t0.Add(time.Hour), t0.Add(36 * time.Hour)},
		{every, 12, t0.Add(3 * time.Hour), t0.Add(36 * time.Hour)},
	} {
		runs := e.runs(t, tc.rule.ID)
		if len(runs) != 2 {
			t.Fatalf("rule %s: %d records after the outage, want the catch-up run and one of the missed slots: %+v",
				tc.rule.Schedule, len(runs), runs)
		}
		m := runs[0]
		if m.Status != store.RunMissed || m.Count != tc.missed || !m.ScheduledFor.Equal(tc.from) ||
			m.LastScheduledFor == nil || !m.LastScheduledFor.Equal(tc.to) || m.ID != store.MissedRunID(tc.rule.ID, tc.from) {
			t.Errorf("rule %s: missed record %+v, want %d slots from %v to %v", tc.rule.Schedule, m, tc.missed, tc.from, tc.to)
		}
		if len(m.Skipped) != 1 || !strings.Contains(m.Skipped[0].Reason, "slots from") {
			t.Errorf("rule %s: missed record says %+v", tc.rule.Schedule, m.Skipped)
		}
		if runs[1].Status != store.RunQueued || !runs[1].ScheduledFor.Equal(t0) {
			t.Errorf("rule %s: catch-up run %+v, want the slot %v", tc.rule.Schedule, runs[1], t0)
		}
	}

	// On time again (a second late): no more missed records.
	c.Set(t0.Add(37*time.Hour + time.Second))
	fireDue(t, s)
	if runs := e.runs(t, hourly.ID); len(runs) != 3 || runs[0].Status == store.RunMissed {
		t.Errorf("the hourly rule fired on time has records %+v, want a third, not missed", runs)
	}
}

// TestBusySkipsAreFolded checks that the slots skipped while a rule's run
// is still planning make one record with a count, not one per slot.
func TestBusySkipsAreFolded(t *testing.T) {
	e := newEnv(t)
	c := &clock{now: t0}
	s := e.scheduler(t, c, "a")
	r := e.rule(t, "0 * * * *", t0)
	for i := range 4 {
		c.Set(t0.Add(time.Duration(i)*time.Hour + time.Second))
		if n := fireDue(t, s); n != 1 {
			t.Fatalf("slot %d: fired %d", i, n)
		}
	}
	runs := e.runs(t, r.ID)
	if len(runs) != 2 {
		t.Fatalf("records %+v, want the run still planning and one for the three slots skipped meanwhile", runs)
	}
	busy := runs[0]
	if busy.Status != store.RunSkipped || busy.Count != 3 || !busy.ScheduledFor.Equal(t0.Add(time.Hour)) ||
		busy.LastScheduledFor == nil || !busy.LastScheduledFor.Equal(t0.Add(3*time.Hour)) ||
		busy.LastFiredAt == nil || !busy.LastFiredAt.Equal(t0.Add(3*time.Hour+time.Second)) {
		t.Errorf("folded record %+v, want 3 slots from %v to %v", busy, t0.Add(time.Hour), t0.Add(3*time.Hour))
	}
}
