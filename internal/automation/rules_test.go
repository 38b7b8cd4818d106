package automation

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/cronspec"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

var (
	testLimits = Limits{MinInterval: 5 * time.Minute, MaxItems: 1000}
	testNow    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// validCreate is a complete create, changed by edit.
func validCreate(edit func(*RuleChange)) RuleChange {
	ch := RuleChange{SiteID: new(int64(4)), Name: new("Everything"), Schedule: new("@every 6h"),
		Stages: &[]string{"pipeline"}}
	if edit != nil {
		edit(&ch)
	}
	return ch
}

// problems returns the field problems of a validation error; nil for nil.
func problems(t *testing.T, err error) []errs.FieldProblem {
	t.Helper()
	if err == nil {
		return nil
	}
	var v *errs.ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("error %v, want a validation error", err)
	}
	return v.Problems
}

// scheduleProblem is what schedule says of spec read in tz.
func scheduleProblem(spec, tz string, minInterval time.Duration) string {
	_, err := cronspec.Parse(spec, tz, minInterval)
	return err.Error()
}

func timezoneProblem(tz string) string {
	_, err := cronspec.Location(tz)
	return err.Error()
}

// problem lists field problems from pairs of a field and its problem.
func problem(pairs ...string) []errs.FieldProblem {
	var ps []errs.FieldProblem
	for i := 0; i+1 < len(pairs); i += 2 {
		ps = append(ps, errs.FieldProblem{Field: pairs[i], Problem: pairs[i+1]})
	}
	return ps
}

func TestCreateProblems(t *testing.T) {
	t.Parallel()
	stagesText := "must be one of cluster, ideas, drafts, images, publish, or \"pipeline\" alone"
	tests := []struct {
		name string
		ch   RuleChange
		want []errs.FieldProblem
	}{
		{"valid", validCreate(nil), nil},
		{"nothing", RuleChange{}, problem("site_id", "is required", "name", "is required",
			"schedule", "is required", "stages", "is required")},
		{"site id zero", validCreate(func(ch *RuleChange) { ch.SiteID = new(int64(0)) }),
			problem("site_id", "must be a positive id")},
		{"name blank", validCreate(func(ch *RuleChange) { ch.Name = new("  ") }), problem("name", "must not be empty")},
		{"name not UTF-8", validCreate(func(ch *RuleChange) { ch.Name = new("a\xffb") }), problem("name", "is not valid UTF-8")},
		{"name too long", validCreate(func(ch *RuleChange) { ch.Name = new(strings.Repeat("é", 101)) }),
			problem("name", "must be 1 to 100 characters")},
		{"name of 100", validCreate(func(ch *RuleChange) { ch.Name = new(strings.Repeat("é", 100)) }), nil},
		{"name with a tab", validCreate(func(ch *RuleChange) { ch.Name = new("a\tb") }),
			problem("name", "must not contain control characters")},
		{"unknown time zone", validCreate(func(ch *RuleChange) { ch.Timezone = new("Nowhere/City") }),
			problem("timezone", timezoneProblem("Nowhere/City"))},
		{"Local time zone", validCreate(func(ch *RuleChange) { ch.Timezone = new("Local") }),
			problem("timezone", timezoneProblem("Local"))},
		{"bad time zone and schedule", validCreate(func(ch *RuleChange) {
			ch.Timezone, ch.Schedule = new("Nowhere/City"), new("not a schedule")
		}), problem("timezone", timezoneProblem("Nowhere/City"),
			"schedule", scheduleProblem("not a schedule", "UTC", testLimits.MinInterval))},
		{"blank schedule", validCreate(func(ch *RuleChange) { ch.Schedule = new(" ") }),
			problem("schedule", scheduleProblem("", "UTC", testLimits.MinInterval))},
		{"schedule too frequent", validCreate(func(ch *RuleChange) { ch.Schedule = new("* * * * *") }),
			problem("schedule", scheduleProblem("* * * * *", "UTC", testLimits.MinInterval))},
		{"no stages", validCreate(func(ch *RuleChange) { ch.Stages = &[]string{} }),
			problem("stages", "must list at least one stage of cluster, ideas, drafts, images, publish, or be [\"pipeline\"]")},
		{"pipeline among others", validCreate(func(ch *RuleChange) { ch.Stages = &[]string{"ideas", "pipeline"} }),
			problem("stages[1]", "\"pipeline\" stands for every stage and must be the only one")},
		{"unknown stage", validCreate(func(ch *RuleChange) { ch.Stages = &[]string{"draft"} }),
			problem("stages[0]", stagesText)},
		{"repeated stage", validCreate(func(ch *RuleChange) { ch.Stages = &[]string{"ideas", "ideas"} }),
			problem("stages[1]", "repeats stage \"ideas\"")},
		{"no ideas per cluster", validCreate(func(ch *RuleChange) { ch.IdeasPerCluster = new(0) }),
			problem("ideas_per_cluster", "must be from 1 to 10 ideas per cluster")},
		{"too many ideas per cluster", validCreate(func(ch *RuleChange) { ch.IdeasPerCluster = new(11) }),
			problem("ideas_per_cluster", "must be from 1 to 10 ideas per cluster")},
		{"no items", validCreate(func(ch *RuleChange) { ch.MaxItems = new(0) }), problem("max_items", "must be from 1 to 1000")},
		{"too many items", validCreate(func(ch *RuleChange) { ch.MaxItems = new(1001) }),
			problem("max_items", "must be from 1 to 1000")},
		{"negative credit cap", validCreate(func(ch *RuleChange) { ch.MaxCredits = json.RawMessage("-1") }),
			problem("max_credits", "must be null (no cap) or a whole number from 0 to 1000000000000")},
		{"fractional credit cap", validCreate(func(ch *RuleChange) { ch.MaxCredits = json.RawMessage("1.5") }),
			problem("max_credits", "must be null (no cap) or a whole number from 0 to 1000000000000")},
		{"text credit cap", validCreate(func(ch *RuleChange) { ch.MaxCredits = json.RawMessage(`"5"`) }),
			problem("max_credits", "must be null (no cap) or a whole number from 0 to 1000000000000")},
		{"credit cap too high", validCreate(func(ch *RuleChange) { ch.MaxCredits = json.RawMessage("1000000000001") }),
			problem("max_credits", "must be null (no cap) or a whole number from 0 to 1000000000000")},
		{"bad condition", validCreate(func(ch *RuleChange) {
			ch.Conditions = &[]store.Condition{{Field: "credits_available", Op: "gte", Value: -1}}
		}), problem("conditions[0].value", "must not be negative")},
		{"every problem at once", RuleChange{SiteID: new(int64(-1)), Name: new(""), Schedule: new("* * * * *"),
			Timezone: new("Nowhere/City"), Stages: &[]string{"x"}, IdeasPerCluster: new(0), MaxItems: new(0),
			MaxCredits: json.RawMessage("-1"), Conditions: &[]store.Condition{{Field: "x", Op: "gte"}}},
			problem("site_id", "must be a positive id", "name", "must not be empty",
				"timezone", timezoneProblem("Nowhere/City"),
				"schedule", scheduleProblem("* * * * *", "UTC", testLimits.MinInterval),
				"stages[0]", stagesText, "ideas_per_cluster", "must be from 1 to 10 ideas per cluster",
				"max_items", "must be from 1 to 1000",
				"max_credits", "must be null (no cap) or a whole number from 0 to 1000000000000",
				"conditions[0].field", "must be one of [unclustered_keywords clusters_needing_ideas ideas_without_drafts "+
					"drafts_without_images drafts_to_publish credits_available]")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := testLimits.Create(tt.ch, testNow)
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCreateRule(t *testing.T) {
	t.Parallel()
	at := func(d time.Duration) *time.Time { return new(testNow.Add(d)) }
	tests := []struct {
		name string
		ch   RuleChange
		want store.Rule
	}{
		{"defaults", validCreate(func(ch *RuleChange) { ch.Name = new("  Everything  ") }),
			store.Rule{SiteID: 4, Name: "Everything", Schedule: "@every 6h", Timezone: "UTC", Stages: store.Stages,
				IdeasPerCluster: 3, MaxItems: 50, Conditions: []store.Condition{}, Enabled: true, NextFireAt: at(6 * time.Hour)}},
		{"every field", RuleChange{SiteID: new(int64(9)), Name: new("Late stages"), Schedule: new(" 0 9 * * * "),
			Timezone: new(" Europe/Berlin "), Stages: &[]string{"publish", "drafts"}, IdeasPerCluster: new(10),
			AutoApprove: new(true), MaxItems: new(1000), MaxCredits: json.RawMessage("40"),
			Conditions: &[]store.Condition{{Field: "drafts_to_publish", Op: "gt", Value: 0}}},
			store.Rule{SiteID: 9, Name: "Late stages", Schedule: "0 9 * * *", Timezone: "Europe/Berlin",
				Stages: []string{"drafts", "publish"}, IdeasPerCluster: 10, AutoApprove: true, MaxItems: 1000,
				MaxCredits: new(int64(40)), Conditions: []store.Condition{{Field: "drafts_to_publish", Op: "gt", Value: 0}},
				Enabled: true, NextFireAt: new(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))}},
		{"disabled, blank time zone, no cap, conditions null", validCreate(func(ch *RuleChange) {
			ch.Enabled, ch.Timezone, ch.MaxCredits = new(false), new(" "), json.RawMessage("null")
			ch.Conditions = new([]store.Condition(nil))
		}), store.Rule{SiteID: 4, Name: "Everything", Schedule: "@every 6h", Timezone: "UTC", Stages: store.Stages,
			IdeasPerCluster: 3, MaxItems: 50, Conditions: []store.Condition{}}},
		{"credit cap zero", validCreate(func(ch *RuleChange) { ch.MaxCredits = json.RawMessage("0") }),
			store.Rule{SiteID: 4, Name: "Everything", Schedule: "@every 6h", Timezone: "UTC", Stages: store.Stages,
				IdeasPerCluster: 3, MaxItems: 50, MaxCredits: new(int64(0)), Conditions: []store.Condition{}, Enabled: true,
				NextFireAt: at(6 * time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := testLimits.Create(tt.ch, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rule (-want +got):\n%s", diff)
			}
		})
	}
}

// storedRule is an enabled rule as the store holds it, changed by edit.
func storedRule(edit func(*store.Rule)) store.Rule {
	next := testNow.Add(time.Hour)
	r := store.Rule{ID: 7, SiteID: 4, Name: "Ideas", Schedule: "@every 6h", Timezone: "UTC",
		Stages: []string{"ideas"}, IdeasPerCluster: 3, MaxItems: 50, Conditions: []store.Condition{},
		Enabled: true, NextFireAt: &next}
	if edit != nil {
		edit(&r)
	}
	return r
}

func TestUpdateRule(t *testing.T) {
	t.Parallel()
	sixHours := new(testNow.Add(6 * time.Hour))
	tests := []struct {
		name   string
		stored store.Rule
		ch     RuleChange
		want   store.Rule
	}{
		{"nothing", storedRule(nil), RuleChange{}, storedRule(nil)},
		{"other fields keep next_fire_at", storedRule(nil),
			RuleChange{Name: new(" Renamed "), MaxItems: new(9), MaxCredits: json.RawMessage("100"), AutoApprove: new(true)},
			storedRule(func(r *store.Rule) {
				r.Name, r.MaxItems, r.MaxCredits, r.AutoApprove = "Renamed", 9, new(int64(100)), true
			})},
		{"max_credits null lifts the cap", storedRule(func(r *store.Rule) { r.MaxCredits = new(int64(5)) }),
			RuleChange{MaxCredits: json.RawMessage("null")}, storedRule(nil)},
		{"a new schedule computes next_fire_at", storedRule(nil), RuleChange{Schedule: new("@every 12h")},
			storedRule(func(r *store.Rule) { r.Schedule, r.NextFireAt = "@every 12h", new(testNow.Add(12*time.Hour)) })},
		{"a new time zone computes next_fire_at", storedRule(nil), RuleChange{Timezone: new("Asia/Tokyo")},
			storedRule(func(r *store.Rule) { r.Timezone, r.NextFireAt = "Asia/Tokyo", sixHours })},
		{"disabling clears next_fire_at", storedRule(nil), RuleChange{Enabled: new(false)},
			storedRule(func(r *store.Rule) { r.Enabled, r.NextFireAt = false, nil })},
		{"a disabled rule stays without next_fire_at",
			storedRule(func(r *store.Rule) { r.Enabled, r.NextFireAt = false, nil }),
			RuleChange{Stages: &[]string{"images"}},
			storedRule(func(r *store.Rule) { r.Enabled, r.NextFireAt, r.Stages = false, nil, []string{"images"} })},
		{"enabling computes next_fire_at", storedRule(func(r *store.Rule) { r.Enabled, r.NextFireAt = false, nil }),
			RuleChange{Enabled: new(true)}, storedRule(func(r *store.Rule) { r.NextFireAt = sixHours })},
		{"an enabled rule without next_fire_at gets one", storedRule(func(r *store.Rule) { r.NextFireAt = nil }),
			RuleChange{Name: new("Ideas")}, storedRule(func(r *store.Rule) { r.NextFireAt = sixHours })},
		{"a stored schedule keeps the interval it was accepted under",
			storedRule(func(r *store.Rule) { r.Schedule = "* * * * *" }), RuleChange{Name: new("Often")},
			storedRule(func(r *store.Rule) { r.Schedule, r.Name = "* * * * *", "Often" })},
		{"conditions replaced", storedRule(nil),
			RuleChange{Conditions: &[]store.Condition{{Field: "credits_available", Op: "gte", Value: 10}}},
			storedRule(func(r *store.Rule) {
				r.Conditions = []store.Condition{{Field: "credits_available", Op: "gte", Value: 10}}
			})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.stored
			if err := testLimits.Update(tt.ch, &got, testNow); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rule (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdateProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		stored store.Rule
		ch     RuleChange
		want   []errs.FieldProblem
	}{
		{"site_id cannot change", storedRule(nil), RuleChange{SiteID: new(int64(5))},
			problem("site_id", "cannot change; create a rule for the other site instead")},
		{"a new schedule keeps the minimum interval", storedRule(nil), RuleChange{Schedule: new("* * * * *")},
			problem("schedule", scheduleProblem("* * * * *", "UTC", testLimits.MinInterval))},
		{"a new time zone checks the stored schedule again", storedRule(func(r *store.Rule) { r.Schedule = "* * * * *" }),
			RuleChange{Timezone: new("Asia/Tokyo")},
			problem("schedule", scheduleProblem("* * * * *", "Asia/Tokyo", testLimits.MinInterval))},
		{"every bad field", storedRule(nil), RuleChange{Schedule: new("* * * * *"), Timezone: new("Nowhere/City"),
			Stages: &[]string{"ideas", "ideas"}, MaxItems: new(0)},
			problem("timezone", timezoneProblem("Nowhere/City"),
				"schedule", scheduleProblem("* * * * *", "UTC", testLimits.MinInterval),
				"stages[1]", "repeats stage \"ideas\"", "max_items", "must be from 1 to 1000")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tt.stored
			err := testLimits.Update(tt.ch, &r, testNow)
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if !r.NextFireAt.Equal(*tt.stored.NextFireAt) {
				t.Errorf("next_fire_at %v after a refused update, want %v kept", r.NextFireAt, tt.stored.NextFireAt)
			}
		})
	}
}

func TestUpdateBrokenStoredSchedule(t *testing.T) {
	t.Parallel()
	r := storedRule(func(r *store.Rule) { r.Schedule = "not a schedule" })
	err := testLimits.Update(RuleChange{Name: new("Renamed")}, &r, testNow)
	var v *errs.ValidationError
	if err == nil || errors.As(err, &v) || !strings.Contains(err.Error(), "stored schedule of rule 7") {
		t.Errorf("error %v, want one about the stored schedule of rule 7 that is no validation error", err)
	}
}
