package worker_test

import (
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// TestUnusablePromptOverrideFailsTheJob stores overrides the API would have
// refused (one that does not parse, one that names a field the input does
// not have) and checks that the tenant's draft jobs fail at once with a
// message that says why, and are refunded.
func TestUnusablePromptOverrideFailsTheJob(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	const opening = 100
	tk, c := h.Tenant(t, "bad-prompts", opening)
	tenant := tk.Tenant.ID
	seed := apptest.SeedIdeas(t, st, tenant, 2, "bad")
	h.StartWorker(t)

	for i, tt := range []struct {
		user string
		says []string
	}{
		{"Write {{if .Title}}", []string{"draft prompt templates (version 1) cannot be used", "user: does not parse"}},
		{"Write {{.Nope}}", []string{"render user prompt", "can't evaluate field Nope"}},
	} {
		_, _, err := st.SavePromptOverride(apptest.Context(t), tenant, 0, "draft", "You write.", tt.user)
		apptest.Must(t, err, "store the override")
		id := apptest.DraftJobs(t, c, seed.Ideas[i])[0]
		j := apptest.WaitJobState(t, st, tenant, id, store.JobFailed)
		for _, s := range tt.says {
			if !strings.Contains(apptest.Deref(j.LastError), s) {
				t.Errorf("override %q: job error %q does not say %q", tt.user, apptest.Deref(j.LastError), s)
			}
		}
		if j.Attempts != 1 {
			t.Errorf("override %q: %d attempts, want 1 (a permanent failure)", tt.user, j.Attempts)
		}
	}
	apptest.CheckCredits(t, st, tenant, opening)
}
