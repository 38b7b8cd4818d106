package apptest

import (
	"net/http"
	"testing"

	"github.com/presswork/presswork/internal/client"
	"github.com/presswork/presswork/internal/store"
)

// Accepted is the API's answer to a request that creates jobs.
type Accepted struct {
	BatchID       string `json:"batch_id"`
	CreditsQuoted int64  `json:"credits_quoted"`
	Jobs          []struct {
		ID        string `json:"id"`
		SubjectID int64  `json:"subject_id"`
	} `json:"jobs"`
}

// Post calls the API with body and fails the test on an error answer.
func Post(t testing.TB, c *client.Client, path string, body any) Accepted {
	t.Helper()
	var acc Accepted
	Must(t, c.Do(Context(t), http.MethodPost, path, body, &acc), "POST ", path)
	return acc
}

// DraftJobs asks the API for drafts of ideas and returns the job ids.
func DraftJobs(t testing.TB, c *client.Client, ideas ...store.Idea) []string {
	t.Helper()
	acc := Post(t, c, "/v1/drafts/generate", map[string]any{"idea_ids": ideaIDs(ideas)})
	if len(acc.Jobs) != len(ideas) {
		t.Fatalf("asked for %d drafts, got %d jobs", len(ideas), len(acc.Jobs))
	}
	ids := make([]string, len(acc.Jobs))
	for i, j := range acc.Jobs {
		ids[i] = j.ID
	}
	return ids
}

func ideaIDs(ideas []store.Idea) []int64 {
	ids := make([]int64, len(ideas))
	for i, idea := range ideas {
		ids[i] = idea.ID
	}
	return ids
}
