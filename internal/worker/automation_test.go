package worker

import (
	"encoding/json"
	"testing"

	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

func TestStageQuote(t *testing.T) {
	t.Parallel()
	r := &RunPlanner{costs: config.Costs{KeywordsPerCredit: 100, Idea: 1, Draft: 3, Image: 2}}
	rc := store.RunContext{Site: store.Site{InlineImages: 2}}
	scheduled := json.RawMessage(`{"status":"future","publish_at":"2030-01-01T09:00:00Z"}`)
	tests := []struct {
		stage      string
		c          store.Candidate
		quote      int64
		wantParams string
	}{
		{store.StageCluster, store.Candidate{Need: 250}, 3, ""},
		{store.StageCluster, store.Candidate{Need: 2 * tasks.MaxKeywordsPerClustering}, tasks.MaxKeywordsPerClustering / 100, ""},
		{store.StageIdeas, store.Candidate{Need: 4}, 4, `{"count":4}`},
		{store.StageDrafts, store.Candidate{}, 3, ""},
		{store.StageImages, store.Candidate{}, 6, ""},
		{store.StagePublish, store.Candidate{Params: scheduled}, 0, string(scheduled)},
		{store.StagePublish, store.Candidate{}, 0, `{"status":"publish"}`},
	}
	for _, tt := range tests {
		quote, params := r.stageQuote(tt.stage, tt.c, rc)
		if quote != tt.quote || string(params) != tt.wantParams {
			t.Errorf("%s %+v: quote %d, params %s; want %d, %s", tt.stage, tt.c, quote, params, tt.quote, tt.wantParams)
		}
	}
}
