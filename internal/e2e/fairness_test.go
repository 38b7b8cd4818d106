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

// TestBulkOfOneTenantDoesNotHoldUpAnother: tenant A asks for a dozen or
// more drafts in bulk, then tenant B for 2, on a worker with room for 10
// at once and a plan that lets a tenant have 2 bulk jobs on the queue. B's
// drafts run beside A's first two instead of waiting behind A's bulk; A's
// others wait in PostgreSQL, held, and run in turn; all are charged once.
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
	if len(accA.Jobs) != len(aIdeas) || len(accB.Jobs) != len(bIdeas) {
		t.Fatalf("asked for %d and %d drafts, got %d and %d jobs", len(aIdeas), len(bIdeas), len(accA.Jobs), len(accB.Jobs))
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
		if ra > 2 || ha < len(aIdeas)-2 {
			return false, fmt.Errorf("tenant A has %d drafts running and %d held, want at most 2 and at least %d", ra, ha, len(aIdeas)-2)
		}
		return ra == 2 && rb == len(bIdeas), nil
	})

	close(gate)
	a.waitBatch(accA.BatchID, len(aIdeas))
	b.waitBatch(accB.BatchID, len(bIdeas))
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
	// Ideas of up to four clusters; an ideas job keeps fewer than it is
	// asked for when its cluster has fewer free primary keywords, so A may
	// have fewer than 20 (but far more than BULK_INFLIGHT).
	var acc apptest.Accepted
	clusterIDs := make([]int64, 0, 4)
	for _, cl := range r.clusters[:min(4, len(r.clusters))] {
		clusterIDs = append(clusterIDs, cl.ID)
	}
	r.api.do(http.MethodPost, "/v1/ideas/generate", map[string]any{"cluster_ids": clusterIDs, "count": perCluster}, &acc)
	r.api.waitBatch(acc.BatchID, len(clusterIDs))
	var ideas []store.Idea
	r.api.listAll(fmt.Sprintf("/v1/ideas?site_id=%d", r.site.ID), &ideas)
	if len(ideas) < len(clusterIDs)*min(perCluster, 5) {
		t.Fatalf("%d ideas for %d clusters, want at least %d", len(ideas), len(clusterIDs), len(clusterIDs)*min(perCluster, 5))
	}
	ids := make([]int64, len(ideas))
	for i, idea := range ideas {
		ids[i] = idea.ID
	}
	return r.api, ids
}
