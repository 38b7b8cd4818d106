package worker_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/worker"
)

// batchSetup is a harness whose text model and Batch API are OpenAI's on
// a fake server that writes valid answers, and n batched draft jobs.
type batchSetup struct {
	h      *apptest.Harness
	fake   *fakeopenai.Server
	pass   *worker.BatchPass
	api    *crashingAPI
	tenant int64
	bulkID string
	jobIDs []string
	set    providers.Set
	seed   apptest.Seeded
}

const batchTestKey = "sk-test-batch-0123456789"

// newBatchSetup: batchKey is the key of the Batch API's client ("" is the
// text model's). The catalogue's OpenAI models are served by the fake
// too; before, if not nil, runs once the tenant exists, before its jobs
// are quoted.
func newBatchSetup(t *testing.T, n int, batchKey openai.Secret, before ...func(h *apptest.Harness, tenantID int64)) batchSetup {
	t.Helper()
	h := apptest.Start(t)
	fake := fakeopenai.New(t)
	fake.SetKey(batchTestKey)
	fake.SetContent((&fakeopenai.Writer{}).Answer)
	cfg := openai.Config{APIKey: batchTestKey, BaseURL: fake.BaseURL(), Model: "gpt-4o-mini",
		EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: 8, Timeout: 10 * time.Second}
	text, err := openai.NewTextModel(cfg)
	apptest.Must(t, err, "text model")
	if batchKey != "" {
		cfg.APIKey = batchKey
	}
	api, err := openai.NewBatcher(cfg)
	apptest.Must(t, err, "batcher")
	set := providers.Offline()
	set.Text = text
	routed := cfg
	set.Credentials.OpenAI = &routed
	w, err := ai.NewWriter(text)
	apptest.Must(t, err, "writer")
	client := asynq.NewClient(h.App.Redis)
	t.Cleanup(func() { _ = client.Close() })
	crashing := &crashingAPI{Batcher: api}
	pass := worker.NewBatchPass(worker.Deps{Store: h.App.Store, Jobs: jobs.New(h.App.Store, client, h.App.Log),
		Writer: w, Embedder: set.Embedder, Costs: h.App.Config.Costs, Log: h.App.Log,
		Router: providers.NewRouter(h.App.Store, set.Credentials, nil, h.App.Log)}, crashing, 100)

	tk, _ := h.Tenant(t, "batch", 1000)
	for _, f := range before {
		f(h, tk.Tenant.ID)
	}
	seed := apptest.SeedIdeas(t, h.App.Store, tk.Tenant.ID, n, "batch")
	s := batchSetup{h: h, fake: fake, pass: pass, api: crashing, tenant: tk.Tenant.ID, set: set, seed: seed}
	if n == 0 {
		return s
	}
	// Quoted as the API quotes "mode": "batch".
	quote, err := h.App.Store.BatchStageCredits(apptest.Context(t), tk.Tenant.ID, "draft", h.App.Config.Costs.Draft)
	apptest.Must(t, err, "batch quote")
	js := make([]store.NewJob, n)
	ids := make([]string, n)
	for i, idea := range seed.Ideas {
		ids[i] = uuid.NewString()
		js[i] = store.NewJob{ID: ids[i], Type: tasks.TypeDraft, Queue: jobs.QueueBulk, SiteID: idea.SiteID,
			SubjectID: idea.ID, Quote: quote, Batched: true}
	}
	bulkID := uuid.NewString()
	made, err := h.App.Store.CreateJobs(apptest.Context(t), tk.Tenant.ID, bulkID, js)
	apptest.Must(t, err, "create batched jobs")
	if len(made.Deliver) != 0 {
		t.Fatalf("batched jobs delivered: %d", len(made.Deliver))
	}
	s.bulkID, s.jobIDs = bulkID, ids
	return s
}

// chatRequests counts the requests the fake answered outside batches.
func chatRequests(s *fakeopenai.Server) (ordinary, inBatch int) {
	for _, r := range s.Requests() {
		if r.Endpoint != fakeopenai.EndpointChat {
			continue
		}
		if r.Batch != "" {
			inBatch++
		} else {
			ordinary++
		}
	}
	return ordinary, inBatch
}

// Batched drafts are written by one provider batch, created once although
// the answer of its create was lost, and completed by the ordinary worker
// from their lines; a line that failed runs the ordinary way.
func TestDraftsThroughBatchAPI(t *testing.T) {
	t.Parallel()
	s := newBatchSetup(t, 4, "")
	ctx := apptest.Context(t)
	st := s.h.App.Store
	failing := s.jobIDs[3]
	s.fake.SetBatchLine(func(id string) fakeopenai.Behavior {
		if id == failing {
			return fakeopenai.ServerError()
		}
		return nil
	})
	s.fake.LoseCreateAnswers(1)

	// Pass 1 groups the jobs and records the intent; the create's answer
	// is lost. Pass 2 finds the batch the provider made.
	if err := s.pass.Once(ctx); err == nil {
		t.Fatal("pass with a lost create answer: no error")
	}
	apptest.Must(t, s.pass.Once(ctx), "pass 2")
	if got := s.fake.BatchesCreated(); got != 1 {
		t.Fatalf("batches created = %d, want 1", got)
	}
	j := apptest.Job(t, st, s.tenant, s.jobIDs[0])
	if j.State != store.JobBatched || j.Phase != "batch_waiting" {
		t.Errorf("job while the batch runs: %s/%s", j.State, j.Phase)
	}

	s.fake.ProcessBatches()
	apptest.Must(t, s.pass.Once(ctx), "pass 3")
	open, err := st.OpenAIBatches(ctx, 10)
	apptest.Must(t, err, "open batches")
	if len(open) != 0 {
		t.Errorf("open provider batches after the end: %+v", open)
	}
	// The bulk's progress shows the provider's counts.
	sum, err := st.GetBatch(ctx, s.tenant, s.bulkID)
	apptest.Must(t, err, "bulk summary")
	if pb := sum.ProviderBatches; len(pb) != 1 || apptest.Deref(pb[0].ProviderStatus) != "completed" ||
		pb[0].Total != 4 || pb[0].Completed != 3 || pb[0].Failed != 1 || pb[0].State != store.AIBatchEnded {
		t.Errorf("provider batches of the bulk: %+v", pb)
	}
	s.h.StartWorker(t, s.set)
	for _, id := range s.jobIDs {
		apptest.WaitJobState(t, st, s.tenant, id, store.JobSucceeded)
	}
	ordinary, inBatch := chatRequests(s.fake)
	if inBatch != 4 || ordinary != 1 {
		t.Errorf("chat requests: %d in the batch, %d ordinary; want 4 and 1 (the failed line's)", inBatch, ordinary)
	}
	// A batched job's usage is at the batch price, the other's at the
	// ordinary one.
	for _, tt := range []struct {
		id       string
		discount float64
	}{{s.jobIDs[0], openai.BatchDiscount}, {failing, 1}} {
		j = apptest.Job(t, st, s.tenant, tt.id)
		want := openai.DefaultPrices().Cost("gpt-4o-mini", j.TokensIn, j.TokensOut) * tt.discount
		if j.CostUSD <= 0 || math.Abs(j.CostUSD-want) > 1e-6 {
			t.Errorf("job %s: cost %v, want %v (tokens %d/%d)", tt.id, j.CostUSD, want, j.TokensIn, j.TokensOut)
		}
	}
}

// A batch that expires with part of its lines answered sends the others
// to the ordinary queue; a job canceled during the batch stays canceled.
func TestBatchExpiredAndCanceled(t *testing.T) {
	t.Parallel()
	s := newBatchSetup(t, 3, "")
	ctx := apptest.Context(t)
	st := s.h.App.Store
	// The pass as the worker runs it, from the scheduler's task.
	mux := asynq.NewServeMux()
	worker.RegisterBatches(mux, s.pass)
	apptest.Must(t, mux.ProcessTask(ctx, jobs.NewAIBatchTask()), "pass 1")
	open, err := st.OpenAIBatches(ctx, 10)
	apptest.Must(t, err, "open batches")
	if len(open) != 1 || open[0].ProviderBatchID == nil {
		t.Fatalf("open batches = %+v", open)
	}
	id := *open[0].ProviderBatchID
	if _, err := s.fake.AdvanceBatch(id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.fake.AnswerBatchLines(id, 1); err != nil {
		t.Fatal(err)
	}
	// Of the lines not answered, one job is canceled, one will run the
	// ordinary way.
	var answered, canceled, expired string
	for _, r := range s.fake.Requests() {
		if r.Batch != "" {
			answered = r.CustomID
		}
	}
	for _, id := range s.jobIDs {
		switch {
		case id == answered:
		case canceled == "":
			canceled = id
		default:
			expired = id
		}
	}
	_, err = st.CancelJob(ctx, s.tenant, canceled)
	apptest.Must(t, err, "cancel")
	apptest.Must(t, s.fake.ExpireBatch(id), "expire")
	apptest.Must(t, s.pass.Once(ctx), "pass 2")

	s.h.StartWorker(t, s.set)
	apptest.WaitJobState(t, st, s.tenant, answered, store.JobSucceeded)
	apptest.WaitJobState(t, st, s.tenant, expired, store.JobSucceeded)
	if j := apptest.Job(t, st, s.tenant, canceled); j.State != store.JobCanceled {
		t.Errorf("canceled job is %s", j.State)
	}
	ordinary, inBatch := chatRequests(s.fake)
	if inBatch != 1 || ordinary != 1 {
		t.Errorf("chat requests: %d in the batch, %d ordinary; want 1 and 1", inBatch, ordinary)
	}
}

// A provider batch the provider refuses for good (here the key) is given
// up: its jobs run the ordinary way.
func TestBatchGivenUp(t *testing.T) {
	t.Parallel()
	s := newBatchSetup(t, 2, "sk-wrong-key-0123456789")
	ctx := apptest.Context(t)
	st := s.h.App.Store
	if err := s.pass.Once(ctx); err != nil {
		t.Fatalf("pass: %v", err)
	}
	open, err := st.OpenAIBatches(ctx, 10)
	apptest.Must(t, err, "open batches")
	if len(open) != 0 || s.fake.BatchesCreated() != 0 {
		t.Fatalf("open batches %+v, created %d", open, s.fake.BatchesCreated())
	}
	s.h.StartWorker(t, s.set)
	for _, id := range s.jobIDs {
		apptest.WaitJobState(t, st, s.tenant, id, store.JobSucceeded)
	}
	if ordinary, inBatch := chatRequests(s.fake); ordinary != 2 || inBatch != 0 {
		t.Errorf("chat requests: %d ordinary, %d in batches; want 2 and 0", ordinary, inBatch)
	}
}

// crashingAPI is the Batch API of a worker that may die between the upload
// and the create (the create is never sent), and counts uploads.
type crashingAPI struct {
	*openai.Batcher
	mu           sync.Mutex
	crashCreates int
	uploads      int
}

func (a *crashingAPI) Upload(ctx context.Context, name string, lines []openai.BatchLine) (openai.Upload, error) {
	a.mu.Lock()
	a.uploads++
	a.mu.Unlock()
	return a.Batcher.Upload(ctx, name, lines)
}

func (a *crashingAPI) Create(ctx context.Context, up openai.Upload, md map[string]string) (openai.Batch, error) {
	a.mu.Lock()
	crash := a.crashCreates > 0
	a.crashCreates--
	a.mu.Unlock()
	if crash {
		return openai.Batch{}, errors.New("killed between the upload and the create")
	}
	return a.Batcher.Create(ctx, up, md)
}

// A pass that dies between the upload and the create leaves the intent
// and the file recorded: the next pass finds no batch at the provider and
// creates one from the same file, without uploading again.
func TestBatchCrashBetweenUploadAndCreate(t *testing.T) {
	t.Parallel()
	s := newBatchSetup(t, 2, "")
	ctx := apptest.Context(t)
	st := s.h.App.Store
	s.api.crashCreates = 1
	if err := s.pass.Once(ctx); err == nil {
		t.Fatal("pass that died: no error")
	}
	open, err := st.OpenAIBatches(ctx, 10)
	apptest.Must(t, err, "open batches")
	if len(open) != 1 || open[0].State != store.AIBatchCreating || open[0].InputFileID == nil {
		t.Fatalf("after the crash: %+v", open)
	}
	apptest.Must(t, s.pass.Once(ctx), "pass 2")
	apptest.Must(t, s.pass.Once(ctx), "pass 3")
	if created, uploads := s.fake.BatchesCreated(), s.api.uploads; created != 1 || uploads != 1 {
		t.Errorf("batches created %d, files uploaded %d; want 1 and 1", created, uploads)
	}
	s.fake.ProcessBatches()
	apptest.Must(t, s.pass.Once(ctx), "pass 4")
	s.h.StartWorker(t, s.set)
	for _, id := range s.jobIDs {
		apptest.WaitJobState(t, st, s.tenant, id, store.JobSucceeded)
	}
	if ordinary, inBatch := chatRequests(s.fake); ordinary != 0 || inBatch != 2 {
		t.Errorf("chat requests: %d ordinary, %d in the batch; want 0 and 2", ordinary, inBatch)
	}
}

// TestBatchModeChargesLess: a draft sent in batch mode is charged its
// batch quote, less than an ordinary draft of the same tenant, and the
// ledger balances.
func TestBatchModeChargesLess(t *testing.T) {
	t.Parallel()
	s := newBatchSetup(t, 1, "")
	ctx := apptest.Context(t)
	st := s.h.App.Store
	cost := s.h.App.Config.Costs.Draft
	other := apptest.SeedIdeas(t, st, s.tenant, 1, "ordinary").Ideas[0]
	ordinary := uuid.NewString()
	client := asynq.NewClient(s.h.App.Redis)
	t.Cleanup(func() { _ = client.Close() })
	_, err := jobs.New(st, client, s.h.App.Log).Create(ctx, s.tenant, "", []store.NewJob{{ID: ordinary, Type: tasks.TypeDraft,
		Queue: jobs.QueueDefault, SiteID: other.SiteID, SubjectID: other.ID, Quote: cost}})
	apptest.Must(t, err, "create the ordinary job")

	apptest.Must(t, s.pass.Once(ctx), "pass 1")
	s.fake.ProcessBatches()
	apptest.Must(t, s.pass.Once(ctx), "pass 2")
	s.h.StartWorker(t, s.set)
	batched := apptest.WaitJobState(t, st, s.tenant, s.jobIDs[0], store.JobSucceeded)
	plain := apptest.WaitJobState(t, st, s.tenant, ordinary, store.JobSucceeded)
	if want := (cost + 1) / 2; batched.CreditsCharged != want || batched.CreditsQuoted != want {
		t.Errorf("batch-mode draft quoted %d and charged %d, want %d (half of %d, rounded up)",
			batched.CreditsQuoted, batched.CreditsCharged, want, cost)
	}
	if plain.CreditsCharged != cost || batched.CreditsCharged >= plain.CreditsCharged {
		t.Errorf("ordinary draft charged %d, batch-mode %d; want %d and less", plain.CreditsCharged, batched.CreditsCharged, cost)
	}
	apptest.CheckCredits(t, st, s.tenant, 1000-batched.CreditsCharged-plain.CreditsCharged)
}

// The files of an ended provider batch (input, output, error) are deleted
// at the provider and recorded; a failed deletion does not hold the jobs,
// is tried again on a later pass, and a batch cleaned is not tried again.
func TestBatchFilesDeleted(t *testing.T) {
	t.Parallel()
	s := newBatchSetup(t, 2, "")
	worker.SetFileRetryBase(s.pass, 0)
	ctx := apptest.Context(t)
	st := s.h.App.Store
	failing := s.jobIDs[1]
	s.fake.SetBatchLine(func(id string) fakeopenai.Behavior {
		if id == failing {
			return fakeopenai.ServerError()
		}
		return nil
	})
	apptest.Must(t, s.pass.Once(ctx), "pass 1")
	open, err := st.OpenAIBatches(ctx, 10)
	apptest.Must(t, err, "open batches")
	if len(open) != 1 || open[0].ProviderBatchID == nil {
		t.Fatalf("open batches = %+v", open)
	}
	row := open[0].ID
	s.fake.ProcessBatches()
	in, out, errFile := s.fake.BatchFiles(*open[0].ProviderBatchID)
	if in == "" || out == "" || errFile == "" {
		t.Fatalf("batch files: %q %q %q", in, out, errFile)
	}

	// The first deletion fails: the jobs go on all the same.
	s.fake.FailFileDeletes(1)
	apptest.Must(t, s.pass.Once(ctx), "pass 2")
	b, err := st.GetAIBatch(ctx, row)
	apptest.Must(t, err, "provider batch")
	if b.State != store.AIBatchEnded || b.FilesCleanedAt != nil || b.FileDeleteAttempts != 1 || b.FileDeleteError == nil ||
		apptest.Deref(b.OutputFileID) != out || apptest.Deref(b.ErrorFileID) != errFile {
		t.Errorf("after a failed deletion: %+v", b)
	}
	s.h.StartWorker(t, s.set)
	for _, id := range s.jobIDs {
		apptest.WaitJobState(t, st, s.tenant, id, store.JobSucceeded)
	}

	apptest.Must(t, s.pass.Once(ctx), "pass 3")
	want := []string{in, out, errFile}
	if diff := cmp.Diff(want, s.fake.FilesDeleted()); diff != "" {
		t.Errorf("files deleted (-want +got):\n%s", diff)
	}
	b, err = st.GetAIBatch(ctx, row)
	apptest.Must(t, err, "provider batch")
	if b.FilesCleanedAt == nil || b.FileDeleteError != nil || !cmp.Equal(b.FilesDeleted, want) {
		t.Errorf("after the deletion: %+v", b)
	}
	sent := s.fake.FileDeleteRequests()
	apptest.Must(t, s.pass.Once(ctx), "pass 4")
	if got := s.fake.FileDeleteRequests(); got != sent {
		t.Errorf("a pass after the files were deleted sent %d deletions", got-sent)
	}
}

// Deleting the files of a provider batch is given up after a bounded
// number of failed passes: later passes do not try again.
func TestBatchFilesGivenUp(t *testing.T) {
	t.Parallel()
	s := newBatchSetup(t, 1, "")
	worker.SetFileRetryBase(s.pass, 0)
	ctx := apptest.Context(t)
	st := s.h.App.Store
	apptest.Must(t, s.pass.Once(ctx), "pass 1")
	open, err := st.OpenAIBatches(ctx, 10)
	apptest.Must(t, err, "open batches")
	if len(open) != 1 {
		t.Fatalf("open batches = %+v", open)
	}
	s.fake.ProcessBatches()
	s.fake.FailFileDeletes(1000)
	for range 12 {
		apptest.Must(t, s.pass.Once(ctx), "pass")
	}
	if got := s.fake.FileDeleteRequests(); got != 10 {
		t.Errorf("deletions tried %d times, want 10", got)
	}
	b, err := st.GetAIBatch(ctx, open[0].ID)
	apptest.Must(t, err, "provider batch")
	if b.FilesCleanedAt == nil || b.FileDeleteAttempts != 10 || b.FileDeleteError == nil || len(b.FilesDeleted) != 0 {
		t.Errorf("given up: %+v", b)
	}
}

// A draft stage the tenant routed to an OpenAI model of the catalogue is
// batched: its lines name that model, the usage is valued at the model's
// batch prices, and the job is charged the model's batch quote.
func TestBatchRoutedCatalogueModel(t *testing.T) {
	t.Parallel()
	var gpt store.AIModel
	s := newBatchSetup(t, 2, "", func(h *apptest.Harness, tenantID int64) {
		gpt = chooseBatchModel(t, h, tenantID, "draft")
	})
	ctx := apptest.Context(t)
	st := s.h.App.Store
	apptest.Must(t, s.pass.Once(ctx), "pass 1")
	open, err := st.OpenAIBatches(ctx, 10)
	apptest.Must(t, err, "open batches")
	if len(open) != 1 || open[0].Model != "gpt-4o" {
		t.Fatalf("open batches = %+v, want one of gpt-4o", open)
	}
	s.fake.ProcessBatches()
	apptest.Must(t, s.pass.Once(ctx), "pass 2")
	s.h.StartWorker(t, s.set)
	want := gpt.BatchCredits(s.h.App.Config.Costs.Draft)
	for _, id := range s.jobIDs {
		j := apptest.WaitJobState(t, st, s.tenant, id, store.JobSucceeded)
		cost := gpt.CostUSD(store.ModelUsage{InputTokens: int64(j.TokensIn), OutputTokens: int64(j.TokensOut), Batch: true})
		if j.CreditsCharged != want || apptest.Deref(j.Model) != "gpt-4o" || j.CostUSD <= 0 || math.Abs(j.CostUSD-cost) > 1e-9 {
			t.Errorf("job %s: charged %d, model %s, cost %v; want %d, gpt-4o, %v", id, j.CreditsCharged,
				apptest.Deref(j.Model), j.CostUSD, want, cost)
		}
	}
	for _, r := range s.fake.Requests() {
		if r.Endpoint == fakeopenai.EndpointChat && (r.Batch == "" || r.Model != "gpt-4o") {
			t.Errorf("chat request %s in batch %q, want gpt-4o in a batch", r.Model, r.Batch)
		}
	}
}

// chooseBatchModel enables gpt-4o in the catalogue with batch prices of
// its own (1 + 4 over 2.5 + 10) and a credit multiplier of 3, and makes it
// tenantID's choice for stage.
func chooseBatchModel(t *testing.T, h *apptest.Harness, tenantID int64, stage string) store.AIModel {
	t.Helper()
	ctx := apptest.Context(t)
	gpt, err := h.App.Store.FindModel(ctx, "openai", "gpt-4o", store.ModelKindChat)
	apptest.Must(t, err, "gpt-4o")
	in, out, mult, on := 1.0, 4.0, 3.0, true
	gpt, err = h.App.Store.UpdateModel(ctx, gpt.ID, store.ModelFields{Enabled: &on, CreditMultiplier: &mult,
		BatchPriceInputPerMTok: store.Null(&in), BatchPriceOutputPerMTok: store.Null(&out)})
	apptest.Must(t, err, "price gpt-4o")
	_, err = h.App.Store.SetTenantChoices(ctx, tenantID, []store.TenantChoice{{Stage: stage, ModelID: gpt.ID}})
	apptest.Must(t, err, "choose gpt-4o")
	return gpt
}

// An ideas job in batch mode is answered by a provider batch line and
// completed by the ordinary ideas worker through its validation: its
// ideas are saved, with no ordinary chat request, and it is charged its
// batch quote.
func TestIdeasThroughBatchAPI(t *testing.T) {
	t.Parallel()
	s := newBatchSetup(t, 0, "")
	ctx := apptest.Context(t)
	st := s.h.App.Store
	const count = 3
	quote, err := st.BatchStageCredits(ctx, s.tenant, "ideas", count*s.h.App.Config.Costs.Idea)
	apptest.Must(t, err, "batch quote")
	if quote >= count*s.h.App.Config.Costs.Idea {
		t.Fatalf("batch quote %d is not below the ordinary %d", quote, count*s.h.App.Config.Costs.Idea)
	}
	id := uuid.NewString()
	_, err = st.CreateJobs(ctx, s.tenant, "", []store.NewJob{{ID: id, Type: tasks.TypeIdeas, Queue: jobs.QueueBulk,
		SiteID: s.seed.Site.ID, SubjectID: s.seed.Cluster.ID, Params: []byte(`{"count":3}`), Quote: quote, Batched: true}})
	apptest.Must(t, err, "create the batched ideas job")

	apptest.Must(t, s.pass.Once(ctx), "pass 1")
	if j := apptest.Job(t, st, s.tenant, id); j.State != store.JobBatched || j.Phase != "batch_waiting" {
		t.Fatalf("ideas job while the batch runs: %s/%s", j.State, j.Phase)
	}
	s.fake.ProcessBatches()
	apptest.Must(t, s.pass.Once(ctx), "pass 2")
	s.h.StartWorker(t, s.set)
	j := apptest.WaitJobState(t, st, s.tenant, id, store.JobSucceeded)
	if j.CreditsCharged != quote {
		t.Errorf("charged %d, want the batch quote %d", j.CreditsCharged, quote)
	}
	ideas, err := st.ListIdeas(ctx, s.tenant, store.IdeaFilter{SiteID: s.seed.Site.ID}, store.Page{Limit: 100})
	apptest.Must(t, err, "list ideas")
	if len(ideas) != count {
		t.Errorf("%d ideas saved, want %d", len(ideas), count)
	}
	ordinary, inBatch := chatRequests(s.fake)
	if inBatch != 1 || ordinary != 0 {
		t.Errorf("chat requests: %d in the batch, %d ordinary; want 1 and 0", inBatch, ordinary)
	}
	for _, r := range s.fake.Requests() {
		if r.Batch != "" && r.CustomID != id {
			t.Errorf("a batch line of %q, want the ideas job's", r.CustomID)
		}
	}
}

// A batched draft whose stage the catalogue routes to a model of another
// provider than the Batch API's (here the offline writer, as Anthropic's
// would be) is not batched: it goes back to the ordinary queue at once.
func TestBatchRoutedElsewhereRunsOrdinary(t *testing.T) {
	t.Parallel()
	s := newBatchSetup(t, 1, "", func(h *apptest.Harness, tenantID int64) {
		m, err := h.App.Store.FindModel(apptest.Context(t), "offline", "offline-writer-v1", store.ModelKindChat)
		apptest.Must(t, err, "offline writer")
		_, err = h.App.Store.SetTenantChoices(apptest.Context(t), tenantID, []store.TenantChoice{{Stage: "draft", ModelID: m.ID}})
		apptest.Must(t, err, "choose the offline writer")
	})
	ctx := apptest.Context(t)
	apptest.Must(t, s.pass.Once(ctx), "pass")
	if j := apptest.Job(t, s.h.App.Store, s.tenant, s.jobIDs[0]); j.State != store.JobQueued {
		t.Errorf("job is %s, want queued (the ordinary way)", j.State)
	}
	if n := s.fake.BatchesCreated(); n != 0 {
		t.Errorf("%d provider batches created, want none", n)
	}
}
