package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// gatedDraftModel holds every draft until gate is closed.
type gatedDraftModel struct {
	ai.TextModel
	gate chan struct{}
}

func (m gatedDraftModel) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	if req.Stage == ai.StageDraft {
		select {
		case <-m.gate:
		case <-ctx.Done():
			return ai.JSONResponse{}, ctx.Err()
		}
	}
	return m.TextModel.GenerateJSON(ctx, req)
}

// TestBulkOfOneTenantDoesNotHoldUpAnother: tenant A asks for 20 drafts in
// bulk, then tenant B for 2, on a worker with room for 10 at once and a
// plan that lets a tenant have 2 bulk jobs on the queue. B's drafts run
// beside A's first two instead of waiting behind A's bulk; A's other 18
// wait in PostgreSQL, held, and run in turn; all 22 are charged once.
func TestBulkOfOneTenantDoesNotHoldUpAnother(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.WithEnv("BULK_INFLIGHT", "free=2,starter=2,pro=2,agency=2"))
	stopPlain := h.StartWorker(t)
	a, aIdeas := fairTenant(t, h, "fair-a", 10)
	b, bIdeas := fairTenant(t, h, "fair-b", 1)
	stopPlain()

	gate := make(chan struct{})
	p := providers.Offline()
	p.Text = gatedDraftModel{TextModel: p.Text, gate: gate}
	h.StartWorker(t, p)
	defer func() {
		select {
		case <-gate:
		default:
			close(gate)
		}
	}()

	var accA, accB apptest.Accepted
	a.do(http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": aIdeas}, &accA)
	b.do(http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": bIdeas}, &accB)
	if len(accA.Jobs) != 20 || len(accB.Jobs) != 2 {
		t.Fatalf("asked for 20 and 2 drafts, got %d and %d jobs", len(accA.Jobs), len(accB.Jobs))
	}
	count := func(api pipelineAPI) (running, held int) {
		for _, j := range api.jobs() {
			if j.Type != tasks.TypeDraft {
				continue
			}
			if j.State == store.JobRunning {
				running++
			}
			if j.Held {
				held++
			}
		}
		return running, held
	}
	apptest.Eventually(t, 30*time.Second, "B's drafts run beside A's first two", func() (bool, error) {
		ra, ha := count(a)
		rb, _ := count(b)
		if ra > 2 || ha < 18 {
			return false, fmt.Errorf("tenant A has %d drafts running and %d held, want at most 2 and at least 18", ra, ha)
		}
		return ra == 2 && rb == 2, nil
	})

	close(gate)
	a.waitBatch(accA.BatchID, 20)
	b.waitBatch(accB.BatchID, 2)
	for _, api := range []pipelineAPI{a, b} {
		checkChargedOnce(t, api)
		for _, j := range api.jobs() {
			if j.Held || (j.Type == tasks.TypeDraft && (j.State != store.JobSucceeded || j.Attempts != 1)) {
				t.Errorf("job %s: %s after %d attempts, held %v", j.ID, j.State, j.Attempts, j.Held)
			}
		}
	}
}

// fairTenant makes a tenant with clusters and perCluster ideas for each of
// its first two clusters, and returns its API and the ideas' ids.
func fairTenant(t *testing.T, h *apptest.Harness, slug string, perCluster int) (pipelineAPI, []int64) {
	t.Helper()
	r, _ := startTenant(t, h, slug, "Fair "+slug)
	r.cluster()
	var acc apptest.Accepted
	r.api.do(http.MethodPost, "/v1/ideas/generate", map[string]any{
		"cluster_ids": []int64{r.clusters[0].ID, r.clusters[1].ID}, "count": perCluster}, &acc)
	r.api.waitBatch(acc.BatchID, 2)
	var ideas []store.Idea
	r.api.listAll(fmt.Sprintf("/v1/ideas?site_id=%d", r.site.ID), &ideas)
	ids := make([]int64, len(ideas))
	for i, idea := range ideas {
		ids[i] = idea.ID
	}
	return r.api, ids
}
