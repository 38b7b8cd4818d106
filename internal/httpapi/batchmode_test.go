package httpapi_test

import (
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// TestDraftsBatchMode: "mode": "batch" makes draft jobs that wait in the
// state batched, quoted and reserved at half the draft cost (rounded up;
// no catalogue route), listed by state;
// an unknown mode is refused.
func TestDraftsBatchMode(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "batchmode", 100)
	seed := apptest.SeedIdeas(t, h.App.Store, tk.Tenant.ID, 2, "batchmode")
	ids := []int64{seed.Ideas[0].ID, seed.Ideas[1].ID}

	p := callJSON(t, h, tk.OwnerKey, "POST", "/v1/drafts/generate", map[string]any{"idea_ids": ids, "mode": "later"}).problem(t, 400)
	if got := fields(p); len(got) != 1 || got[0] != "mode" {
		t.Errorf("problem fields %v, want [mode]", got)
	}

	var acc jobsAnswer
	callJSON(t, h, tk.OwnerKey, "POST", "/v1/drafts/generate", map[string]any{"idea_ids": ids, "mode": "batch"}).must(t, 202, &acc)
	if len(acc.Jobs) != 2 || acc.CreditsQuoted != 2*((h.App.Config.Costs.Draft+1)/2) {
		t.Fatalf("answer %+v", acc)
	}
	for _, j := range acc.Jobs {
		if got := apptest.Job(t, h.App.Store, tk.Tenant.ID, j.ID); got.State != store.JobBatched || got.CreditsReserved == 0 {
			t.Errorf("job %s: state %s, reserved %d", j.ID, got.State, got.CreditsReserved)
		}
	}
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	callJSON(t, h, tk.OwnerKey, "GET", "/v1/jobs?state=batched", nil).must(t, 200, &page)
	if len(page.Items) != 2 {
		t.Errorf("GET /v1/jobs?state=batched: %d jobs, want 2", len(page.Items))
	}
}
