package cronspec

import (
	"testing"
	"time"
)

func TestMissedCountsTheSlotsAfterSkips(t *testing.T) {
	hourly := mustParse(t, "0 * * * *", "")
	every := mustParse(t, "@every 3h", "")
	daily := mustParse(t, "30 2 * * *", "Europe/Berlin")
	due := at("2026-03-01T10:00:00Z")
	cases := []struct {
		name        string
		s           Schedule
		scheduled   time.Time
		now         time.Time
		limit       int
		n           int
		first, last time.Time
		more        bool
	}{
		{"on time", hourly, due, due.Add(time.Second), 10, 0, time.Time{}, time.Time{}, false},
		{"not yet due", hourly, due, due.Add(-time.Minute), 10, 0, time.Time{}, time.Time{}, false},
		{"late", hourly, due, at("2026-03-01T13:30:00Z"), 10, 3, at("2026-03-01T11:00:00Z"), at("2026-03-01T13:00:00Z"), false},
		{"a slot due now is missed", hourly, due, at("2026-03-01T12:00:00Z"), 10, 2, at("2026-03-01T11:00:00Z"), at("2026-03-01T12:00:00Z"), false},
		{"at the limit", hourly, due, at("2026-03-01T14:10:00Z"), 4, 4, at("2026-03-01T11:00:00Z"), at("2026-03-01T14:00:00Z"), false},
		{"past the limit", hourly, due, at("2026-03-01T20:10:00Z"), 4, 4, at("2026-03-01T11:00:00Z"), at("2026-03-01T14:00:00Z"), true},
		{"@every", every, due, at("2026-03-02T10:30:00Z"), 10, 8, at("2026-03-01T13:00:00Z"), at("2026-03-02T10:00:00Z"), false},
		// 02:30 does not exist on March 29th in Berlin: that slot fires at
		// 03:00 CEST (01:00Z).
		{"across daylight saving", daily, at("2026-03-27T01:30:00Z"), at("2026-03-30T12:00:00Z"), 10, 3,
			at("2026-03-28T01:30:00Z"), at("2026-03-30T00:30:00Z"), false},
	}
	for _, tc := range cases {
		n, first, last, more := tc.s.Missed(tc.scheduled, tc.now, tc.limit)
		if n != tc.n || !first.Equal(tc.first) || !last.Equal(tc.last) || more != tc.more {
			t.Errorf("%s: Missed = %d from %v to %v (more %v), want %d from %v to %v (more %v)",
				tc.name, n, first, last, more, tc.n, tc.first, tc.last, tc.more)
			continue
		}
		// The slots counted are those After skips: all before the next
		// firing, and none left between the last of them and now.
		if next := tc.s.After(tc.scheduled, tc.now); n > 0 && (!last.Before(next) || !more && !tc.s.Next(last).After(tc.now)) {
			t.Errorf("%s: the last slot counted is %v, the one after it %v; After fires next at %v",
				tc.name, last, tc.s.Next(last), next)
		}
	}
}
