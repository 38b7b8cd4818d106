package cronspec

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// firings lists a schedule's firings strictly after from and up to
// through, as the scheduler would fire them on time: each from the slot
// before, through After.
func firings(t *testing.T, s Schedule, from, through time.Time) []time.Time {
	t.Helper()
	var got []time.Time
	for next := s.Next(from); !next.IsZero() && !next.After(through); next = s.After(next, next) {
		if len(got) > 10_000 {
			t.Fatalf("more than 10,000 firings between %v and %v", from, through)
		}
		got = append(got, next)
	}
	return got
}

func times(ss ...string) []time.Time {
	out := make([]time.Time, len(ss))
	for i, s := range ss {
		out[i] = at(s)
	}
	return out
}

// Around the 2027 transitions: New York springs forward on 14 March
// (02:00 EST becomes 03:00 EDT, 07:00Z) and falls back on 7 November
// (02:00 EDT becomes 01:00 EST, 06:00Z); Berlin on 28 March (02:00 CET
// becomes 03:00 CEST, 01:00Z) and 31 October (03:00 CEST becomes 02:00 CET,
// 01:00Z).
func TestFixedTimeSlotsAcrossDaylightSaving(t *testing.T) {
	cases := []struct {
		name, spec, tz, from, through string
		want                          []time.Time
	}{
		{
			name: "a repeated 01:30 fires once, at its first occurrence",
			spec: "30 1 * * *", tz: "America/New_York", from: "2027-11-06T00:00:00Z", through: "2027-11-09T00:00:00Z",
			want: times("2027-11-06T05:30:00Z", "2027-11-07T05:30:00Z", "2027-11-08T06:30:00Z"),
		},
		{
			name: "a skipped 02:30 fires at 03:00, when the gap ends",
			spec: "30 2 * * *", tz: "America/New_York", from: "2027-03-13T00:00:00Z", through: "2027-03-16T00:00:00Z",
			want: times("2027-03-13T07:30:00Z", "2027-03-14T07:00:00Z", "2027-03-15T06:30:00Z"),
		},
		{
			name: "two slots in the gap fire once",
			spec: "0,30 2 * * *", tz: "America/New_York", from: "2027-03-14T00:00:00Z", through: "2027-03-15T07:00:00Z",
			want: times("2027-03-14T07:00:00Z", "2027-03-15T06:00:00Z", "2027-03-15T06:30:00Z"),
		},
		{
			name: "a skipped slot and the slot at the gap's end are one firing",
			spec: "0 2,3 * * *", tz: "America/New_York", from: "2027-03-14T00:00:00Z", through: "2027-03-15T08:00:00Z",
			want: times("2027-03-14T07:00:00Z", "2027-03-15T06:00:00Z", "2027-03-15T07:00:00Z"),
		},
		{
			name: "Berlin: a skipped 02:30 fires at 03:00 CEST",
			spec: "30 2 * * *", tz: "Europe/Berlin", from: "2027-03-27T00:00:00Z", through: "2027-03-30T00:00:00Z",
			want: times("2027-03-27T01:30:00Z", "2027-03-28T01:00:00Z", "2027-03-29T00:30:00Z"),
		},
		{
			name: "Berlin: a repeated 02:30 fires once, in summer time",
			spec: "30 2 * * *", tz: "Europe/Berlin", from: "2027-10-30T00:00:00Z", through: "2027-11-02T00:00:00Z",
			want: times("2027-10-30T00:30:00Z", "2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z"),
		},
		{
			name: "six fields: each second of a repeated minute fires once",
			spec: "*/20 30 1 * * *", tz: "America/New_York", from: "2027-11-07T05:00:00Z", through: "2027-11-07T12:00:00Z",
			want: times("2027-11-07T05:30:00Z", "2027-11-07T05:30:20Z", "2027-11-07T05:30:40Z"),
		},
		{
			name: "@daily at a midnight the clocks skip fires at 01:00",
			spec: "@daily", tz: "America/Santiago", from: "2027-09-04T12:00:00Z", through: "2027-09-06T12:00:00Z",
			want: times("2027-09-05T04:00:00Z", "2027-09-06T03:00:00Z"),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse(c.spec, c.tz, 0) // the seconds case fires more often than any minimum
			if err != nil {
				t.Fatal(err)
			}
			got := firings(t, s, at(c.from), at(c.through))
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("%q in %s (-want +got):\n%s", c.spec, c.tz, diff)
			}
		})
	}
}

// The API shows next_fire_at from Next(now); asked in the middle of the
// repeated hour, after the first 01:30 fired, it names the next day.
func TestNextInsideTheRepeatedHourSkipsTheRepeat(t *testing.T) {
	s := mustParse(t, "30 1 * * *", "America/New_York")
	for _, now := range []string{"2027-11-07T05:45:00Z", "2027-11-07T06:10:00Z", "2027-11-07T06:30:00Z"} {
		if got, want := s.Next(at(now)), at("2027-11-08T06:30:00Z"); !got.Equal(want) {
			t.Errorf("Next(%s) = %v, want %v", now, got, want)
		}
	}
	// Before the first occurrence, it is the first occurrence.
	if got, want := s.Next(at("2027-11-07T05:10:00Z")), at("2027-11-07T05:30:00Z"); !got.Equal(want) {
		t.Errorf("Next before the repeat = %v, want %v", got, want)
	}
}

// Interval specs fire at every real instant that matches: every quarter
// hour of the repeated hour fires (the wall clock shows 01:00 to 01:45
// twice), none of the hour that does not exist, and the interval never
// changes.
func TestIntervalsKeepTheirCadenceAcrossDaylightSaving(t *testing.T) {
	cases := []struct {
		spec, tz, from, through string
		every                   time.Duration
	}{
		{"*/15 * * * *", "America/New_York", "2027-11-07T04:00:00Z", "2027-11-07T08:00:00Z", 15 * time.Minute},
		{"*/15 * * * *", "America/New_York", "2027-03-14T05:00:00Z", "2027-03-14T09:00:00Z", 15 * time.Minute},
		{"*/15 * * * *", "Europe/Berlin", "2027-10-30T23:00:00Z", "2027-10-31T03:00:00Z", 15 * time.Minute},
		{"*/15 * * * *", "Europe/Berlin", "2027-03-27T23:00:00Z", "2027-03-28T03:00:00Z", 15 * time.Minute},
		{"30 * * * *", "America/New_York", "2027-11-07T03:00:00Z", "2027-11-07T09:00:00Z", time.Hour},
		{"30 * * * *", "America/New_York", "2027-03-14T04:00:00Z", "2027-03-14T10:00:00Z", time.Hour},
		{"@hourly", "Europe/Berlin", "2027-10-30T22:00:00Z", "2027-10-31T04:00:00Z", time.Hour},
		{"@every 15m", "America/New_York", "2027-11-07T04:00:00Z", "2027-11-07T08:00:00Z", 15 * time.Minute},
		{"@every 15m", "America/New_York", "2027-03-14T05:00:00Z", "2027-03-14T09:00:00Z", 15 * time.Minute},
	}
	for _, c := range cases {
		s := mustParse(t, c.spec, c.tz)
		got := firings(t, s, at(c.from), at(c.through))
		span := at(c.through).Sub(at(c.from))
		if want := int(span / c.every); len(got) != want {
			t.Errorf("%q in %s from %s: %d firings, want %d: %v", c.spec, c.tz, c.from, len(got), want, got)
		}
		for i := 1; i < len(got); i++ {
			if gap := got[i].Sub(got[i-1]); gap != c.every {
				t.Errorf("%q in %s: %v after %v, want every %v", c.spec, c.tz, got[i], got[i-1], c.every)
			}
		}
	}
	// The repeated hour's quarters, read on New York's clock: each twice.
	loc, _ := time.LoadLocation("America/New_York")
	seen := map[string]int{}
	for _, f := range firings(t, mustParse(t, "*/15 * * * *", "America/New_York"), at("2027-11-07T04:59:00Z"), at("2027-11-07T06:59:00Z")) {
		seen[f.In(loc).Format("15:04")]++
	}
	want := map[string]int{"01:00": 2, "01:15": 2, "01:30": 2, "01:45": 2}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("readings of the repeated hour (-want +got):\n%s", diff)
	}
}

func TestFixedTimeOrInterval(t *testing.T) {
	cases := map[string]bool{
		"30 1 * * *":       true,
		"0,30 1-3 * * 1-5": true,
		"0 9 * * MON-FRI":  true,
		"*/20 30 1 * * *":  true, // seconds do not count, as in Vixie cron
		"@daily":           true,
		"@weekly":          true,
		"@yearly":          true,
		"*/15 * * * *":     false,
		"0 * * * *":        false,
		"0 */6 * * *":      false,
		"5/15 1 * * *":     true, // a start and a step name minutes of the hour
		"0 ? * * *":        false,
		"0 0 * * * *":      false,
		"@hourly":          false,
		"@every 15m":       false,
		"15 1,*/2 * * *":   false,
		"0 0 3 1 * *":      true,
	}
	for spec, want := range cases {
		if got := isFixedTime(spec); got != want {
			t.Errorf("isFixedTime(%q) = %v, want %v", spec, got, want)
		}
	}
}

// Past a zone's last listed transition, Go's ZoneBounds ends a leap year's
// last stretch a day early; the walk must still move on.
func TestNextPastTheZoneDataInALeapYear(t *testing.T) {
	s := mustParse(t, "@yearly", "Antarctica/Troll")
	got := firings(t, s, at("2039-06-01T00:00:00Z"), at("2042-06-01T00:00:00Z"))
	want := times("2040-01-01T00:00:00Z", "2041-01-01T00:00:00Z", "2042-01-01T00:00:00Z")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	ny := mustParse(t, "30 2 * * *", "America/New_York")
	if got, want := ny.Next(at("2040-12-31T06:00:00Z")), at("2040-12-31T07:30:00Z"); !got.Equal(want) {
		t.Errorf("Next in a leap year's last day = %v, want %v", got, want)
	}
}
