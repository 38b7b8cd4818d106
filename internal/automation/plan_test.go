package automation

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/store"
)

// runContext is a run of an enabled rule on an enabled site of an active
// tenant, changed by edit.
func runContext(edit func(*store.RunContext)) store.RunContext {
	rc := store.RunContext{
		Run: store.Run{ID: "run-1", Trigger: "schedule"},
		Rule: store.Rule{ID: 3, TenantID: 2, SiteID: 4, Stages: []string{store.StageIdeas}, IdeasPerCluster: 3,
			MaxItems: 10, Enabled: true},
		Site:         store.Site{ID: 4, Name: "Blog", Enabled: true},
		TenantStatus: "active", Available: 500,
	}
	if edit != nil {
		edit(&rc)
	}
	return rc
}

func TestNewBudget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rc   store.RunContext
		want Budget
	}{
		{"no cap", runContext(nil), Budget{Items: 10, Credits: 500}},
		{"unfinished jobs count", runContext(func(rc *store.RunContext) { rc.Unfinished = 4 }), Budget{Items: 6, Credits: 500}},
		{"more unfinished than the cap", runContext(func(rc *store.RunContext) { rc.Unfinished = 12 }), Budget{Credits: 500}},
		{"credit cap below the balance", runContext(func(rc *store.RunContext) { rc.Rule.MaxCredits = new(int64(40)) }),
			Budget{Items: 10, Credits: 40, Capped: true}},
		{"credit cap above the balance", runContext(func(rc *store.RunContext) { rc.Rule.MaxCredits = new(int64(900)) }),
			Budget{Items: 10, Credits: 500}},
		{"credit cap equal to the balance", runContext(func(rc *store.RunContext) { rc.Rule.MaxCredits = new(int64(500)) }),
			Budget{Items: 10, Credits: 500}},
	}
	for _, tt := range tests {
		if got := NewBudget(tt.rc); got != tt.want {
			t.Errorf("%s: NewBudget = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestBudgetSpendAndShortfall(t *testing.T) {
	t.Parallel()
	b := Budget{Items: 3, Credits: 20}
	b.Spend(15)
	if want := (Budget{Items: 2, Credits: 5}); b != want {
		t.Errorf("after spending 15: %+v, want %+v", b, want)
	}
	if got, want := b.Shortfall("drafts", 8, 2),
		"not enough credits: the next drafts job needs 8, 5 available; 2 items left"; got != want {
		t.Errorf("Shortfall = %q, want %q", got, want)
	}
	b.Capped = true
	if got, want := b.Shortfall("drafts", 8, 2),
		"the run's credit cap is spent: 2 drafts items left for a later run (the next needs 8 credits, 5 left)"; got != want {
		t.Errorf("capped Shortfall = %q, want %q", got, want)
	}
}

func TestBlocked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rc   store.RunContext
		want string
	}{
		{"runs", runContext(nil), ""},
		{"suspended tenant", runContext(func(rc *store.RunContext) { rc.TenantStatus = "suspended" }), "the tenant is suspended"},
		{"disabled after a scheduled firing", runContext(func(rc *store.RunContext) { rc.Rule.Enabled = false }),
			"the rule was disabled after it fired"},
		{"disabled rule run by hand", runContext(func(rc *store.RunContext) {
			rc.Rule.Enabled, rc.Run.Trigger = false, "manual"
		}), ""},
		{"disabled site", runContext(func(rc *store.RunContext) { rc.Site.Enabled = false }), `site "Blog" is disabled`},
		{"the tenant first", runContext(func(rc *store.RunContext) {
			rc.TenantStatus, rc.Site.Enabled = "closed", false
		}), "the tenant is closed"},
	}
	for _, tt := range tests {
		if got := Blocked(tt.rc); got != tt.want {
			t.Errorf("%s: Blocked = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestCandidateQuery(t *testing.T) {
	t.Parallel()
	base := store.CandidateQuery{TenantID: 2, SiteID: 4, Stage: store.StagePublish, JobType: "post:publish", IdeasPerCluster: 3}
	tests := []struct {
		name string
		rc   store.RunContext
		want store.CandidateQuery
	}{
		{"approved drafts only", runContext(nil), base},
		{"auto-approve", runContext(func(rc *store.RunContext) { rc.Rule.AutoApprove = true }),
			store.CandidateQuery{TenantID: 2, SiteID: 4, Stage: store.StagePublish, JobType: "post:publish",
				IdeasPerCluster: 3, AutoApprove: true}},
		{"auto-approve on a site that requires review", runContext(func(rc *store.RunContext) {
			rc.Rule.AutoApprove, rc.Site.RequireReview = true, true
		}), base},
		{"a run that makes images", runContext(func(rc *store.RunContext) {
			rc.Rule.Stages = []string{store.StageImages, store.StagePublish}
		}), store.CandidateQuery{TenantID: 2, SiteID: 4, Stage: store.StagePublish, JobType: "post:publish",
			IdeasPerCluster: 3, NeedImages: true}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, CandidateQuery(tt.rc, store.StagePublish, "post:publish")); diff != "" {
			t.Errorf("%s: query (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestNothingToDo(t *testing.T) {
	t.Parallel()
	for _, stage := range store.Stages {
		if skip := NothingToDo(stage); skip.Stage != stage || skip.Reason == "" {
			t.Errorf("NothingToDo(%s) = %+v, want the stage and a reason", stage, skip)
		}
	}
	if got, want := NothingToDo(store.StageDrafts).Reason,
		"nothing to do: every idea has a draft or a draft job in flight"; got != want {
		t.Errorf("drafts reason %q, want %q", got, want)
	}
}

func TestCapReached(t *testing.T) {
	t.Parallel()
	rc := runContext(func(rc *store.RunContext) { rc.Unfinished = 4 })
	const prefix = "the cap of 10 items is reached (it counts this rule's jobs still queued or running, " +
		"from earlier runs too: 4 jobs of earlier runs are unfinished): "
	many := make([]int64, 25)
	for i := range many {
		many[i] = int64(100 + i)
	}
	tests := []struct {
		name  string
		named []int64
		total int64
		want  store.Skip
	}{
		{"all named", []int64{7, 9}, 2, store.Skip{Stage: store.StageDrafts, Subjects: []int64{7, 9},
			Reason: prefix + "2 ideas left for a later run (7, 9)"}},
		{"more than fetched", []int64{7, 9}, 30, store.Skip{Stage: store.StageDrafts, Subjects: []int64{7, 9},
			Reason: prefix + "30 ideas left for a later run (the first 2: 7, 9)"}},
		{"at most MaxNamed", many, 25, store.Skip{Stage: store.StageDrafts, Subjects: many[:MaxNamed],
			Reason: prefix + "25 ideas left for a later run (the first 20: 100, 101, 102, 103, 104, 105, 106, 107, " +
				"108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119)"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, CapReached(rc, store.StageDrafts, "ideas", tt.named, tt.total)); diff != "" {
			t.Errorf("%s: skip (-want +got):\n%s", tt.name, diff)
		}
	}
}
