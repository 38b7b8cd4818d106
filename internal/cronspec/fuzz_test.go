package cronspec

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseSchedule: Parse never panics; a schedule it accepts fires at
// strictly increasing times, each after the time asked about; a spec it
// rejects gets an error that says what is wrong in the API's words.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []struct {
		spec, tz string
		minutes  uint8
	}{
		{"0 */6 * * *", "UTC", 5},
		{"@every 6h", "", 5},
		{"@every 1s", "", 5},
		{"30 0 9 * * MON-FRI", "Europe/Berlin", 5},
		{"0 2 * * *", "America/New_York", 0},
		{"0 0 30 2 *", "", 5},
		{"* * * * *", "UTC", 5},
		{"@daily", "Local", 5},
		{"CRON_TZ=Asia/Tokyo 0 9 * * *", "", 5},
		{"TZ=UTC @hourly", "", 0},
		{"", "", 0},
		{"61 * * * *", "", 0},
		{"0 0 * * * * *", "", 0},
		{"@every -1h", "", 0},
		{"@every 0s", "", 0},
		{"*/0 * * * *", "", 0},
		{"0 0 29 2 *", "Pacific/Apia", 60},
		{"@yearly", "Antarctica/Troll", 255},
	} {
		f.Add(s.spec, s.tz, s.minutes)
	}
	words := []string{"must", "is not a valid schedule", "never fires", "fires every", "timezone"}
	f.Fuzz(func(t *testing.T, spec, tz string, minutes uint8) {
		minInterval := time.Duration(minutes) * time.Minute
		s, err := Parse(spec, tz, minInterval)
		if err != nil {
			msg := err.Error()
			named := false
			for _, w := range words {
				named = named || strings.Contains(msg, w)
			}
			if !named {
				t.Fatalf("Parse(%q, %q, %v): error %q names no problem", spec, tz, minInterval, msg)
			}
			return
		}
		at := time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC) // a DST change in Europe
		for range 10 {
			next := s.Next(at)
			if next.IsZero() {
				return // a schedule may stop firing (a last year), but only after it fired
			}
			if !next.After(at) {
				t.Fatalf("Parse(%q, %q): Next(%v) = %v, not after it", spec, tz, at, next)
			}
			at = next
		}
	})
}
