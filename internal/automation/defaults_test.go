package automation

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

func TestDefaultRules(t *testing.T) {
	t.Parallel()
	rules, err := Limits{MaxItems: 15}.DefaultRules(4, Defaults{}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	type brief struct {
		Name, Schedule string
		Stages         []string
		MaxItems       int
		NextFireAt     time.Time
	}
	var got []brief
	for _, r := range rules {
		got = append(got, brief{r.Name, r.Schedule, r.Stages, r.MaxItems, *r.NextFireAt})
		if r.SiteID != 4 || r.Timezone != "UTC" || r.IdeasPerCluster != 3 || r.AutoApprove || r.MaxCredits != nil ||
			!r.Enabled || r.Conditions == nil || len(r.Conditions) != 0 {
			t.Errorf("default rule %+v: want site 4, enabled, UTC, 3 ideas per cluster, no auto-approve, no credit cap", r)
		}
	}
	want := []brief{
		{"Cluster new keywords", "@every 6h", []string{store.StageCluster}, 1, testNow.Add(6 * time.Hour)},
		{"Generate ideas", "@every 6h", []string{store.StageIdeas}, 15, testNow.Add(6 * time.Hour)},
		{"Write drafts", "@every 3h", []string{store.StageDrafts}, 10, testNow.Add(3 * time.Hour)},
		{"Generate images", "@every 3h", []string{store.StageImages}, 10, testNow.Add(3 * time.Hour)},
		{"Publish approved drafts", "@every 12h", []string{store.StagePublish}, 10, testNow.Add(12 * time.Hour)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("default rules (-want +got):\n%s", diff)
	}
}

func TestDefaultRulesOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		d        Defaults
		timezone string
		enabled  bool
	}{
		{"blank time zone", Defaults{Timezone: new("  ")}, "UTC", true},
		{"disabled in a time zone", Defaults{Enabled: new(false), Timezone: new(" Asia/Tokyo ")}, "Asia/Tokyo", false},
		{"enabled", Defaults{Enabled: new(true)}, "UTC", true},
	}
	for _, tt := range tests {
		rules, err := Limits{MaxItems: 100}.DefaultRules(4, tt.d, testNow)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for _, r := range rules {
			if r.Timezone != tt.timezone || r.Enabled != tt.enabled || (r.NextFireAt != nil) != tt.enabled {
				t.Errorf("%s: rule %q in %s, enabled %v, next_fire_at %v; want %s, enabled %v",
					tt.name, r.Name, r.Timezone, r.Enabled, r.NextFireAt, tt.timezone, tt.enabled)
			}
		}
	}
}

func TestDefaultRulesBadTimezone(t *testing.T) {
	t.Parallel()
	_, err := Limits{MaxItems: 100}.DefaultRules(4, Defaults{Timezone: new("Nowhere/City")}, testNow)
	var v *errs.ValidationError
	if !errors.As(err, &v) || len(v.Problems) != 1 || v.Problems[0].Field != "timezone" ||
		v.Problems[0].Problem != timezoneProblem("Nowhere/City") {
		t.Errorf("error %v, want the timezone named", err)
	}
}
