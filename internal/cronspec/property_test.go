package cronspec

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Zones whose clocks change in different ways: by an hour at night, at
// midnight (Santiago, Havana), by half an hour (Lord Howe), by two hours
// (Troll), with a 45-minute offset (Chatham), with "negative" summer time
// in the data (Dublin), and none (Tokyo, UTC).
var dstZones = []string{
	"America/New_York", "Europe/Berlin", "America/Santiago", "America/Havana",
	"Australia/Lord_Howe", "Antarctica/Troll", "Pacific/Chatham", "Europe/Dublin",
	"Asia/Tokyo", "UTC",
}

// transitions lists loc's offset changes in [from, to).
func transitions(loc *time.Location, from, to time.Time) []time.Time {
	var out []time.Time
	for at := from; ; {
		end := stretchEnd(at, loc)
		if end.IsZero() || !end.Before(to) {
			return out
		}
		_, before := end.Add(-time.Second).In(loc).Zone()
		if _, after := end.In(loc).Zone(); after != before {
			out = append(out, end)
		}
		at = end
	}
}

// oracle fires s, minute by minute of real time, by the rule in
// wallclock.go read literally: a matching reading fires unless the spec
// is fixed-time and the reading was shown before; a fixed-time slot that
// the clocks skipped fires at the instant they skip to. It knows only
// whole-minute specs (no seconds field).
func oracle(s Schedule, from, through time.Time) []time.Time {
	w := s.clock
	matches := func(r time.Time) bool { return w.slots.Next(r.Add(-time.Second)).Equal(r) }
	seen := map[time.Time]bool{}
	var out []time.Time
	// Readings shown in the hours before from count as seen.
	for i := from.Truncate(time.Minute).Add(-3 * time.Hour); !i.After(through); i = i.Add(time.Minute) {
		_, off := i.In(w.loc).Zone()
		r := reading(i, off)
		fires := matches(r) && (!w.fixed || !seen[r])
		seen[r] = true
		if _, before := i.Add(-time.Second).In(w.loc).Zone(); w.fixed && before < off {
			c := w.atOrAfter(reading(i, before))
			fires = fires || (!c.IsZero() && c.Before(r))
		}
		if fires && i.After(from) {
			out = append(out, i.UTC())
		}
	}
	return out
}

// checkAround checks s's firings in (from, through]: strictly increasing;
// a fixed-time spec never fires the same reading twice on a day; and for
// whole-minute specs, the firings are exactly the oracle's.
func checkAround(t *testing.T, s Schedule, label string, from, through time.Time) {
	t.Helper()
	var got []time.Time
	seen := map[string]time.Time{}
	prev := from
	for next := s.Next(from); !next.IsZero() && !next.After(through); next = s.Next(next) {
		if !next.After(prev) {
			t.Fatalf("%s: Next(%v) = %v, not after it", label, prev, next)
		}
		if s.clock != nil && s.clock.fixed {
			key := next.In(s.loc).Format("2006-01-02 15:04:05")
			if first, dup := seen[key]; dup {
				t.Fatalf("%s: the reading %s fires twice, at %v and %v", label, key, first, next)
			}
			seen[key] = next
		}
		got = append(got, next)
		prev = next
		if len(got) == 4000 { // a seconds spec: enough to judge, and fast
			through = next
			break
		}
	}
	if s.clock == nil || s.clock.slots.Second != 1 {
		return
	}
	if diff := cmp.Diff(oracle(s, from, through), got); diff != "" {
		t.Fatalf("%s: firings differ from the rule (-rule +Next):\n%s", label, diff)
	}
}

// randomSpec writes a five-field spec with minute and hour fields of
// every form cron knows.
func randomSpec(r *rand.Rand) string {
	field := func(top int) string {
		a, b := r.IntN(top+1), r.IntN(top+1)
		switch r.IntN(8) {
		case 0:
			return "*"
		case 1:
			return fmt.Sprintf("*/%d", 1+r.IntN(top/2+1))
		case 2:
			return fmt.Sprintf("%d,%d", a, b)
		case 3:
			return fmt.Sprintf("%d-%d", min(a, b), max(a, b))
		case 4:
			return fmt.Sprintf("%d/%d", a, 1+r.IntN(top/2+1))
		default:
			return fmt.Sprint(a)
		}
	}
	dow := []string{"*", "*", "*", "0", "1-5", "6,0"}[r.IntN(6)]
	return fmt.Sprintf("%s %s * * %s", field(59), field(23), dow)
}

// For random specs in zones of every kind, around each of their
// transitions in 2027, Next follows the rule: see checkAround.
func TestNextFollowsTheDaylightSavingRule(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 16))
	specs := []string{"30 1 * * *", "30 2 * * *", "0 0 * * *", "*/15 * * * *", "0 * * * *", "@daily", "@hourly"}
	for range 20 {
		specs = append(specs, randomSpec(r))
	}
	year := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tz := range dstZones {
		loc, err := Location(tz)
		if err != nil {
			t.Fatal(err)
		}
		around := transitions(loc, year, year.AddDate(1, 0, 0))
		if len(around) == 0 {
			around = []time.Time{year.AddDate(0, 2, 13)}
		}
		for _, spec := range specs {
			s, err := Parse(spec, tz, 0)
			if err != nil {
				t.Fatalf("Parse(%q, %q): %v", spec, tz, err)
			}
			for _, tr := range around {
				label := fmt.Sprintf("%q in %s around %v", spec, tz, tr)
				checkAround(t, s, label, tr.Add(-3*time.Hour-7*time.Minute), tr.Add(3*time.Hour))
			}
		}
	}
}

// FuzzNextAcrossDaylightSaving: for any spec Parse accepts, in any zone,
// around any of the zone's transitions, Next is strictly increasing,
// never fires a fixed-time spec's reading twice a day, and fires
// whole-minute specs exactly as the rule says.
func FuzzNextAcrossDaylightSaving(f *testing.F) {
	for _, s := range []struct {
		spec, tz string
		which    uint8
	}{
		{"30 1 * * *", "America/New_York", 1},
		{"30 2 * * *", "America/New_York", 0},
		{"30 2 * * *", "Europe/Berlin", 0},
		{"30 2 * * *", "Europe/Berlin", 1},
		{"*/15 * * * *", "America/New_York", 1},
		{"15,45 1-3 * * *", "Australia/Lord_Howe", 0},
		{"0 0 * * *", "America/Santiago", 1},
		{"*/20 30 1 * * *", "America/New_York", 1},
		{"@every 15m", "America/New_York", 0},
		{"@daily", "Antarctica/Troll", 1},
		{"0 */6 * * *", "Pacific/Chatham", 0},
	} {
		f.Add(s.spec, s.tz, s.which)
	}
	year := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec, tz string, which uint8) {
		s, err := Parse(spec, tz, 0)
		if err != nil {
			return
		}
		around := transitions(s.loc, year, year.AddDate(1, 0, 0))
		tr := year.AddDate(0, 2, 13)
		if len(around) > 0 {
			tr = around[int(which)%len(around)]
		}
		checkAround(t, s, fmt.Sprintf("%q in %q around %v", spec, tz, tr), tr.Add(-26*time.Hour), tr.Add(26*time.Hour))
	})
}
