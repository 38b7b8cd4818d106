package e2e_test

import (
	"testing"
	"time"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// TestFoldedSlotIsNotFiredAgain checks that a slot whose run was folded
// into an earlier record (its row deleted) is not recorded again when the
// rule's next_fire_at goes back to it, as an edit computed on a clock
// behind the scheduler's makes it: the run row would come back queued for
// ever, its job having finished long ago (or, for a slot skipped as busy,
// which has no job, the slot would fire a second time).
func TestFoldedSlotIsNotFiredAgain(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	h.StartWorker(t)
	a := startAutomation(t, h, "refire", 0)
	r := a.rule([]string{store.StageCluster}, 5)
	base := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	a.fireAt(r, base)
	if run := a.fireAt(r, base.Add(time.Second)); run.ID != store.RunID(r.ID, base) {
		t.Fatalf("the second skip for credits was not folded: %+v", run)
	}

	// next_fire_at goes back to the folded slot; the scheduler fires.
	folded := base.Add(time.Second)
	a.fireDue(r, folded)

	runs, err := a.h.App.Store.ListRuns(t.Context(), a.tenant.ID, r.ID, time.Time{}, 10)
	apptest.Must(t, err, "list runs")
	if len(runs) != 1 || runs[0].Count != 2 || runs[0].Status != store.RunSkipped {
		t.Errorf("after the folded slot came due again the rule has records %+v, want only the folded one (count 2)", runs)
	}
	got, err := a.h.App.Store.GetRun(t.Context(), a.tenant.ID, store.RunID(r.ID, folded))
	apptest.Must(t, err, "get the folded run")
	if got.ID != store.RunID(r.ID, base) {
		t.Errorf("the folded run's id answers %+v, want the record it was folded into", got)
	}
	rule, err := a.h.App.Store.GetRule(t.Context(), a.tenant.ID, r.ID)
	apptest.Must(t, err, "get rule")
	if rule.NextFireAt == nil || !rule.NextFireAt.After(time.Now()) || rule.LastFiredAt == nil || !rule.LastFiredAt.Equal(folded) {
		t.Errorf("rule after the repeated slot: next %v, last fired %v; want next in the future, last fired %v",
			rule.NextFireAt, rule.LastFiredAt, folded)
	}
}
