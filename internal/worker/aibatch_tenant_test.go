package worker_test

import (
	"math"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/worker"
)

const tenantBatchKey = "sk-tenant-own-batch-0123456789"

// A tenant that brings its own OpenAI key has its batch-mode drafts sent
// through its key's Batch API (its base URL, its key on every files and
// batches call), in a provider batch of its own, never with the server's
// key; another tenant's batched draft of the same pass goes through the
// server's Batch API. The drafts are completed from their lines, charged
// the batch quote and valued at the batch price, and the tenant's batch
// files are deleted with its key.
func TestBatchUnderTenantsOwnKey(t *testing.T) {
	t.Parallel()
	own := fakeopenai.New(t)
	own.SetKey(tenantBatchKey)
	own.SetContent((&fakeopenai.Writer{}).Answer)
	s := newBatchSetup(t, 3, "", func(h *apptest.Harness, tenantID int64) {
		enc, err := h.App.Box.Seal([]byte(tenantBatchKey), secret.OpenAIKeyAD(tenantID))
		apptest.Must(t, err, "seal the tenant's key")
		base := own.BaseURL()
		_, err = h.App.Store.SetTenantOpenAIKey(apptest.Context(t), tenantID, enc, "sk-…6789", &base)
		apptest.Must(t, err, "the tenant's own key")
	})
	ctx := apptest.Context(t)
	st := s.h.App.Store

	// Another tenant, served by the server's key, with one batched draft.
	other, _ := s.h.Tenant(t, "batch-server-key", 100)
	otherIdea := apptest.SeedIdeas(t, st, other.Tenant.ID, 1, "server").Ideas[0]
	otherJob := uuid.NewString()
	quote, err := st.BatchStageCredits(ctx, other.Tenant.ID, "draft", s.h.App.Config.Costs.Draft)
	apptest.Must(t, err, "batch quote")
	_, err = st.CreateJobs(ctx, other.Tenant.ID, "", []store.NewJob{{ID: otherJob, Type: tasks.TypeDraft,
		Queue: jobs.QueueBulk, SiteID: otherIdea.SiteID, SubjectID: otherIdea.ID, Quote: quote, Batched: true}})
	apptest.Must(t, err, "create the other tenant's batched job")

	// The pass as the worker builds it: tenants' models and Batch APIs
	// from their sealed keys.
	s.set.TenantOpenAI.AllowPrivateURLs = true
	tenants := providers.NewTenantModels(st, s.h.App.Box, s.set.TenantOpenAI, s.h.App.Log)
	w, err := ai.NewWriter(s.set.Text)
	apptest.Must(t, err, "writer")
	client := asynq.NewClient(s.h.App.Redis)
	t.Cleanup(func() { _ = client.Close() })
	pass := worker.NewBatchPass(worker.Deps{Store: st, Jobs: jobs.New(st, client, s.h.App.Log), Writer: w,
		Embedder: s.set.Embedder, Tenants: tenants, Costs: s.h.App.Config.Costs, Log: s.h.App.Log,
		Router: providers.NewRouter(st, s.set.Credentials, nil, s.h.App.Log)}, s.api, 100)

	apptest.Must(t, pass.Once(ctx), "pass 1")
	open, err := st.OpenAIBatches(ctx, 10)
	apptest.Must(t, err, "open batches")
	if len(open) != 2 {
		t.Fatalf("open provider batches: %+v, want the tenant's and the server's", open)
	}
	var mine store.AIBatch
	for _, b := range open {
		if b.TenantID != nil {
			mine = b
		}
	}
	if mine.TenantID == nil || *mine.TenantID != s.tenant || mine.Total != 3 || mine.State != store.AIBatchSubmitted {
		t.Fatalf("the tenant's provider batch: %+v", mine)
	}
	if got, want := own.BatchesCreated(), 1; got != want {
		t.Errorf("batches created under the tenant's key: %d, want %d", got, want)
	}
	if got := s.fake.BatchesCreated(); got != 1 {
		t.Errorf("batches created under the server's key: %d, want 1 (the other tenant's)", got)
	}
	own.ProcessBatches()
	s.fake.ProcessBatches()
	apptest.Must(t, pass.Once(ctx), "pass 2")
	apptest.Must(t, pass.Once(ctx), "pass 3")

	s.h.StartWorker(t, s.set)
	want := (s.h.App.Config.Costs.Draft + 1) / 2
	for _, id := range s.jobIDs {
		j := apptest.WaitJobState(t, st, s.tenant, id, store.JobSucceeded)
		cost := openai.DefaultPrices().Cost("gpt-4o-mini", j.TokensIn, j.TokensOut) * openai.BatchDiscount
		if j.CreditsCharged != want || j.CostUSD <= 0 || math.Abs(j.CostUSD-cost) > 1e-6 {
			t.Errorf("job %s: charged %d, cost %v; want %d and %v", id, j.CreditsCharged, j.CostUSD, want, cost)
		}
	}
	apptest.WaitJobState(t, st, other.Tenant.ID, otherJob, store.JobSucceeded)

	// The tenant's lines were answered by its key's batch, none the
	// ordinary way; the server's key answered only the other tenant's.
	if ordinary, inBatch := chatRequests(own); ordinary != 0 || inBatch != 3 {
		t.Errorf("the tenant's key: %d ordinary chat requests, %d in batches; want 0 and 3", ordinary, inBatch)
	}
	for _, r := range s.fake.Requests() {
		if r.Endpoint == fakeopenai.EndpointChat && r.CustomID != otherJob {
			t.Errorf("the server's key answered %q (batch %q), want only the other tenant's job", r.CustomID, r.Batch)
		}
	}
	keys := own.BatchAPIKeys()
	if len(keys) == 0 || slices.ContainsFunc(keys, func(k string) bool { return k != tenantBatchKey }) {
		t.Errorf("keys of the files and batches calls at the tenant's base URL: %q, want the tenant's only", keys)
	}
	if slices.Contains(s.fake.BatchAPIKeys(), tenantBatchKey) {
		t.Error("the tenant's key was sent to the server's Batch API")
	}
	// Its files are deleted at its provider, with its key.
	b, err := st.GetAIBatch(ctx, mine.ID)
	apptest.Must(t, err, "the tenant's provider batch")
	if b.State != store.AIBatchEnded || b.FilesCleanedAt == nil || len(b.FilesDeleted) == 0 ||
		!slices.Equal(b.FilesDeleted, own.FilesDeleted()) {
		t.Errorf("the tenant's batch at the end: %+v; files deleted at its provider %q", b, own.FilesDeleted())
	}
}
