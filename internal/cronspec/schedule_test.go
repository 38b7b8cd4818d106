package cronspec

import (
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, spec, tz string) Schedule {
	t.Helper()
	s, err := Parse(spec, tz, time.Minute)
	if err != nil {
		t.Fatalf("Parse(%q, %q): %v", spec, tz, err)
	}
	return s
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseRefusesWithAReason(t *testing.T) {
	cases := []struct{ spec, tz, want string }{
		{"", "", "must be a cron expression"},
		{"every day", "", "is not a valid schedule"},
		{"61 * * * *", "", "is not a valid schedule"},
		{"@every 10s", "", "shortest interval allowed is 1m0s"},
		{"* * * * * *", "", "shortest interval allowed"},
		{"0 0 30 2 *", "", "never fires"},
		{"TZ=Europe/Berlin 0 * * * *", "", "set the rule's timezone"},
		{"0 * * * *", "Mars/Olympus", "not an IANA time zone"},
		{"0 * * * *", "Local", "not an IANA time zone"},
	}
	for _, c := range cases {
		_, err := Parse(c.spec, c.tz, time.Minute)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q, %q) = %v, want an error containing %q", c.spec, c.tz, err, c.want)
		}
	}
}

func TestNextFollowsTheSpecInItsTimeZone(t *testing.T) {
	cases := []struct {
		spec, tz, after, want string
	}{
		{"@every 6h", "", "2026-03-01T10:00:00Z", "2026-03-01T16:00:00Z"},
		{"0 */3 * * *", "", "2026-03-01T10:00:00Z", "2026-03-01T12:00:00Z"},
		{"30 9 * * *", "Europe/Berlin", "2026-07-01T10:00:00Z", "2026-07-02T07:30:00Z"}, // CEST: UTC+2
		{"30 9 * * *", "Europe/Berlin", "2026-01-01T10:00:00Z", "2026-01-02T08:30:00Z"}, // CET: UTC+1
		{"@daily", "America/New_York", "2026-01-01T00:00:00Z", "2026-01-01T05:00:00Z"},
	}
	for _, c := range cases {
		got := mustParse(t, c.spec, c.tz).Next(at(c.after))
		if !got.Equal(at(c.want)) || got.Location() != time.UTC {
			t.Errorf("%q in %q after %s = %v, want %s", c.spec, c.tz, c.after, got, c.want)
		}
	}
}

func TestAfterAnOutageTheRuleFiresOnceThenResumes(t *testing.T) {
	s := mustParse(t, "0 * * * *", "")
	due := at("2026-03-01T10:00:00Z")
	// On time: the next slot follows the one that fired.
	if got := s.After(due, due.Add(2*time.Second)); !got.Equal(at("2026-03-01T11:00:00Z")) {
		t.Errorf("on time: next = %v", got)
	}
	// Ten hours late: the slot due fires once, and the next is the first
	// one after now, not the nine missed in between.
	now := at("2026-03-01T20:10:00Z")
	if got := s.After(due, now); !got.Equal(at("2026-03-01T21:00:00Z")) {
		t.Errorf("late: next = %v, want the first slot after now", got)
	}
	// An @every schedule counts from when it fired when late.
	every := mustParse(t, "@every 6h", "")
	if got := every.After(due, now); !got.Equal(now.Add(6 * time.Hour)) {
		t.Errorf("@every late: next = %v", got)
	}
}

func TestMinimumIntervalLooksAtIrregularSpecs(t *testing.T) {
	// Fires at :00 and :01 every hour: one gap of a minute.
	if _, err := Parse("0,1 * * * *", "", 5*time.Minute); err == nil {
		t.Error("a spec with a one-minute gap passed a five-minute minimum")
	}
	if _, err := Parse("0 */6 * * *", "", 5*time.Minute); err != nil {
		t.Errorf("every six hours refused: %v", err)
	}
	if _, err := Parse("*/2 * * * * *", "", time.Second); err != nil {
		t.Errorf("seconds field refused with a one-second minimum: %v", err)
	}
}
