package worker_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// TestDraftMinWordsConfigured: the operator's minimum for a content type
// (DRAFT_MIN_WORDS, through providers.Set) reaches the draft job, whose
// result warns of a draft shorter than it; other types keep their default.
func TestDraftMinWordsConfigured(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	set := providers.Offline()
	set.DraftMinWords = map[string]int{"guide": 9000}
	h.StartWorker(t, set)
	tk, c := h.Tenant(t, "minwords", 100)
	seed := apptest.SeedIdeas(t, h.App.Store, tk.Tenant.ID, 1, "minwords") // guides
	id := apptest.DraftJobs(t, c, seed.Ideas[0])[0]
	j := apptest.WaitJobState(t, h.App.Store, tk.Tenant.ID, id, store.JobSucceeded)
	var result struct {
		WordCount int `json:"word_count"`
		Warnings  []struct {
			Field, Problem string
		} `json:"warnings"`
	}
	apptest.Must(t, json.Unmarshal(j.Result, &result), "job result")
	if len(result.Warnings) != 1 || !strings.Contains(result.Warnings[0].Problem, "fewer than the 9000 expected of a guide") {
		t.Errorf("a %d-word guide under a 9000-word minimum: warnings %+v", result.WordCount, result.Warnings)
	}
}
