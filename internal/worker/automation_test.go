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
	dear := &store.AIModel{CreditMultiplier: 1.5}
	tests := []struct {
		stage      string
		c          store.Candidate
		routed     *store.AIModel
		quote      int64
		wantParams string
	}{
		{store.StageCluster, store.Candidate{Need: 250}, nil, 3, ""},
		{store.StageCluster, store.Candidate{Need: 2 * tasks.MaxKeywordsPerClustering}, nil, tasks.MaxKeywordsPerClustering / 100, ""},
		{store.StageIdeas, store.Candidate{Need: 4}, nil, 4, `{"count":4}`},
		{store.StageDrafts, store.Candidate{}, nil, 3, ""},
		{store.StageImages, store.Candidate{}, nil, 6, ""},
		{store.StagePublish, store.Candidate{Params: scheduled}, nil, 0, string(scheduled)},
		{store.StagePublish, store.Candidate{}, nil, 0, `{"status":"publish"}`},
		// A dearer routed model: 3 x 1.5 up, 4 x 1.5, 3 x 1.5 up, 3 images of 2 x 1.5.
		{store.StageCluster, store.Candidate{Need: 250}, dear, 5, `{"credit_multiplier":1.5}`},
		{store.StageIdeas, store.Candidate{Need: 4}, dear, 6, `{"count":4}`},
		{store.StageDrafts, store.Candidate{}, dear, 5, ""},
		{store.StageImages, store.Candidate{}, dear, 9, `{"credits_per_image":3}`},
	}
	for _, tt := range tests {
		quote, params := r.stageQuote(tt.stage, tt.c, rc, tt.routed)
		if quote != tt.quote || string(params) != tt.wantParams {
			t.Errorf("%s %+v: quote %d, params %s; want %d, %s", tt.stage, tt.c, quote, params, tt.quote, tt.wantParams)
		}
	}
}
