package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// TestRedeliveryAfterSuccess enqueues a finished job's payload again under
// another asynq task id (as a client retry or an operator's re-run would):
// the worker must accept it and do nothing.
func TestRedeliveryAfterSuccess(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	const opening = 100
	tk, c := h.Tenant(t, "redeliver", opening)
	tenant := tk.Tenant.ID
	seed := apptest.SeedIdeas(t, st, tenant, 1, "redeliver")
	h.StartWorker(t)

	draftJob := apptest.WaitJobState(t, st, tenant, apptest.DraftJobs(t, c, seed.Ideas[0])[0], store.JobSucceeded)
	ideasAcc := apptest.Post(t, c, "/v1/ideas/generate", map[string]any{"cluster_ids": []int64{seed.Cluster.ID}, "count": 2})
	ideasJob := apptest.WaitJobState(t, st, tenant, ideasAcc.Jobs[0].ID, store.JobSucceeded)

	ideasBefore, err := st.ListIdeas(apptest.Context(t), tenant, store.IdeaFilter{SiteID: seed.Site.ID}, store.Page{Limit: 100})
	apptest.Must(t, err, "list ideas")
	draftsBefore, err := st.ListDrafts(apptest.Context(t), tenant, seed.Site.ID, store.Page{Limit: 100})
	apptest.Must(t, err, "list drafts")
	if len(ideasBefore) != 3 || len(draftsBefore) != 1 {
		t.Fatalf("before the redelivery: %d ideas and %d drafts, want 3 and 1", len(ideasBefore), len(draftsBefore))
	}
	entriesBefore := apptest.Ledger(t, st, tenant)
	balanceBefore := opening - draftJob.CreditsCharged - ideasJob.CreditsCharged

	cl := asynq.NewClient(h.App.Redis)
	t.Cleanup(func() { cl.Close() })
	in := h.Inspector(t)
	for _, j := range []store.Job{draftJob, ideasJob} {
		payload, err := json.Marshal(tasks.Payload{TenantID: tenant, JobID: j.ID, SubjectID: j.SubjectID})
		apptest.Must(t, err, "payload")
		dupID := "redelivered-" + j.ID
		_, err = cl.Enqueue(asynq.NewTask(j.Type, payload), asynq.TaskID(dupID), asynq.Queue(jobs.QueueDefault),
			asynq.Retention(time.Hour))
		apptest.Must(t, err, "enqueue the duplicate")
		info := waitTask(t, in, jobs.QueueDefault, dupID, asynq.TaskStateCompleted)
		if info.Retried != 0 || info.LastErr != "" {
			t.Errorf("duplicate of %s: retried %d, last error %q", j.Type, info.Retried, info.LastErr)
		}
		after := apptest.Job(t, st, tenant, j.ID)
		if after.State != store.JobSucceeded || after.Attempts != j.Attempts || after.CreditsCharged != j.CreditsCharged ||
			!after.UpdatedAt.Equal(j.UpdatedAt) {
			t.Errorf("%s job changed by the duplicate: before %+v, after %+v", j.Type, j, after)
		}
	}

	ideasAfter, err := st.ListIdeas(apptest.Context(t), tenant, store.IdeaFilter{SiteID: seed.Site.ID}, store.Page{Limit: 100})
	apptest.Must(t, err, "list ideas")
	if len(ideasAfter) != len(ideasBefore) {
		t.Errorf("%d ideas after the redelivery, want %d", len(ideasAfter), len(ideasBefore))
	}
	draftsAfter, err := st.ListDrafts(apptest.Context(t), tenant, seed.Site.ID, store.Page{Limit: 100})
	apptest.Must(t, err, "list drafts")
	if len(draftsAfter) != 1 || !draftsAfter[0].UpdatedAt.Equal(draftsBefore[0].UpdatedAt) {
		t.Errorf("drafts after the redelivery %+v, want the one draft untouched %+v", draftsAfter, draftsBefore)
	}
	entriesAfter := apptest.CheckCredits(t, st, tenant, balanceBefore)
	if len(entriesAfter) != len(entriesBefore) {
		t.Errorf("the redelivery added %d ledger entries", len(entriesAfter)-len(entriesBefore))
	}
}

// stageEmbed stands for the embedding call in the meeting points.
const stageEmbed ai.Stage = "embed"

// sumCharged adds up what the tenant's jobs were charged.
func sumCharged(t testing.TB, st *store.Store, tenantID int64) int64 {
	t.Helper()
	listed, err := st.ListJobs(apptest.Context(t), tenantID, store.JobFilter{}, "", 500)
	apptest.Must(t, err, "list jobs")
	var sum int64
	for _, j := range listed {
		sum += j.CreditsCharged
	}
	return sum
}

// TestConcurrentDeliveries runs the handler twice at once for the same job,
// both deliveries inside the provider call together: one result, one
// reservation, one charge.
func TestConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	const opening = 100
	tk, c := h.Tenant(t, "concurrent", opening)
	tenant := tk.Tenant.ID
	seed := apptest.SeedIdeas(t, st, tenant, 1, "concurrent")

	// Both deliveries must be inside the provider at the same time, which
	// proves each passed StartJob before either saved.
	var mu sync.Mutex
	arrived := map[ai.Stage]int{}
	together := map[ai.Stage]chan struct{}{ai.StageDraft: make(chan struct{}), ai.StageIdeas: make(chan struct{}),
		stageEmbed: make(chan struct{})}
	meet := func(ctx context.Context, stage ai.Stage) error {
		ch, ok := together[stage]
		if !ok {
			return nil
		}
		mu.Lock()
		arrived[stage]++
		if arrived[stage] == 2 {
			close(ch)
		}
		mu.Unlock()
		select {
		case <-ch:
			return nil
		case <-time.After(20 * time.Second): // a deadline, so a failing test cannot hang
			return errors.New("the second delivery never reached the provider")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p := offlineWith(hooked(func(ctx context.Context, req ai.JSONRequest) error { return meet(ctx, req.Stage) }))
	p.Embedder = hookEmbedder{Embedder: p.Embedder, hook: func(ctx context.Context, _ []string) error { return meet(ctx, stageEmbed) }}
	mux := workers(t, h, p)

	run := func(t *testing.T, j store.Job) {
		t.Helper()
		payload, err := json.Marshal(tasks.Payload{TenantID: tenant, JobID: j.ID, SubjectID: j.SubjectID})
		apptest.Must(t, err, "payload")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() { errs[i] = mux.ProcessTask(apptest.Context(t), asynq.NewTask(j.Type, payload)) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("delivery %d: %v", i, err)
			}
		}
	}

	t.Run("draft", func(t *testing.T) {
		id := apptest.DraftJobs(t, c, seed.Ideas[0])[0]
		run(t, apptest.Job(t, st, tenant, id))
		j := apptest.Job(t, st, tenant, id)
		if j.State != store.JobSucceeded || j.CreditsCharged != 3 || j.Attempts != 2 {
			t.Errorf("job after two deliveries: state %s, charged %d, attempts %d; want succeeded, 3, 2",
				j.State, j.CreditsCharged, j.Attempts)
		}
		drafts, err := st.ListDrafts(apptest.Context(t), tenant, seed.Site.ID, store.Page{Limit: 100})
		apptest.Must(t, err, "list drafts")
		if len(drafts) != 1 || drafts[0].JobID != id {
			t.Errorf("drafts %+v, want one by job %s", drafts, id)
		}
		if got, want := apptest.JobLedger(apptest.Ledger(t, st, tenant), id), "reserve:-3"; got != want {
			t.Errorf("job ledger %q, want %q", got, want)
		}
	})
	t.Run("ideas", func(t *testing.T) {
		acc := apptest.Post(t, c, "/v1/ideas/generate", map[string]any{"cluster_ids": []int64{seed.Cluster.ID}, "count": 2})
		id := acc.Jobs[0].ID
		run(t, apptest.Job(t, st, tenant, id))
		j := apptest.Job(t, st, tenant, id)
		if j.State != store.JobSucceeded || j.CreditsCharged != 2 || j.Attempts != 2 {
			t.Errorf("job after two deliveries: state %s, charged %d, attempts %d; want succeeded, 2, 2",
				j.State, j.CreditsCharged, j.Attempts)
		}
		ideas, err := st.ListIdeas(apptest.Context(t), tenant, store.IdeaFilter{ClusterID: seed.Cluster.ID}, store.Page{Limit: 100})
		apptest.Must(t, err, "list ideas")
		made := 0
		for _, idea := range ideas {
			if idea.JobID == id {
				made++
			}
		}
		if made != 2 {
			t.Errorf("the job saved %d ideas, want 2", made)
		}
		if got, want := apptest.JobLedger(apptest.Ledger(t, st, tenant), id), "reserve:-2"; got != want {
			t.Errorf("job ledger %q, want %q", got, want)
		}
	})
	t.Run("cluster", func(t *testing.T) {
		var site store.Site
		apptest.Must(t, c.Do(apptest.Context(t), http.MethodPost, "/v1/sites", map[string]string{"name": "Second site",
			"url": "https://second.example.com", "username": "editor", "application_password": "abcd efgh ijkl mnop"}, &site),
			"create site")
		apptest.Must(t, c.Do(apptest.Context(t), http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", site.ID), sampleKeywords(t, 90), nil,
			"Content-Type", "text/csv"), "import keywords")
		acc := apptest.Post(t, c, fmt.Sprintf("/v1/sites/%d/clustering", site.ID), nil)
		id := acc.Jobs[0].ID
		run(t, apptest.Job(t, st, tenant, id))
		j := apptest.Job(t, st, tenant, id)
		clusters, err := st.ListClusters(apptest.Context(t), tenant, site.ID, store.Page{Limit: 1000})
		apptest.Must(t, err, "list clusters")
		var result struct {
			Clusters          int   `json:"clusters"`
			KeywordsClustered int64 `json:"keywords_clustered"`
		}
		apptest.Must(t, json.Unmarshal(j.Result, &result), "job result")
		clustered := 0
		for _, cl := range clusters {
			kws, err := st.ClusterKeywords(apptest.Context(t), tenant, cl.ID)
			apptest.Must(t, err, "cluster keywords")
			if len(kws) != cl.KeywordCount {
				t.Errorf("cluster %d counts %d keywords and has %d", cl.ID, cl.KeywordCount, len(kws))
			}
			clustered += len(kws)
		}
		if j.State != store.JobSucceeded || len(clusters) == 0 || len(clusters) != result.Clusters ||
			int64(clustered) != result.KeywordsClustered {
			t.Errorf("job %s with result %s; %d clusters holding %d keywords, want what the result says",
				j.State, j.Result, len(clusters), clustered)
		}
		want := fmt.Sprintf("reserve:-%d", acc.CreditsQuoted)
		if unused := acc.CreditsQuoted - j.CreditsCharged; unused > 0 {
			want += fmt.Sprintf(" settle:%d", unused)
		}
		if got := apptest.JobLedger(apptest.Ledger(t, st, tenant), id); got != want || j.CreditsCharged != tasks.ClusterCost(int64(clustered), h.App.Config.Costs.KeywordsPerCredit) {
			t.Errorf("job charged %d with ledger %q, want %d and %q", j.CreditsCharged, got,
				tasks.ClusterCost(int64(clustered), h.App.Config.Costs.KeywordsPerCredit), want)
		}
	})
	mu.Lock()
	defer mu.Unlock()
	// Embeddings: each clustering delivery embeds the keywords (they meet
	// there); the ideas deliveries compare their titles one after the
	// other under the site's ideas lock, and the second may find them in
	// the embedding cache the first filled.
	if arrived[ai.StageDraft] != 2 || arrived[ai.StageIdeas] != 2 || arrived[stageEmbed] < 3 || arrived[stageEmbed] > 4 {
		t.Errorf("provider calls %v, want both deliveries of each job to reach the provider", arrived)
	}
	apptest.CheckCredits(t, st, tenant, opening-sumCharged(t, st, tenant))
}
