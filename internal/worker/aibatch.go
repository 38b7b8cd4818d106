package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// Bulk at half price (#23). A job created batched (drafts, ideas, and
// images, whose prompt call alone is batched) waits in the state batched.
// BatchPass, run periodically, moves such jobs through a provider's Batch
// API:
//
//  1. It captures, per job, the request its stage's first model call
//     would send (checkpoint stepBatchRequest, with the stage's input),
//     groups the jobs by model and records each group as a provider batch
//     (store.StartAIBatch): the intent, before anything is uploaded.
//  2. A batch being created is first looked for at the provider by its id
//     (metadata MetadataGroup), so that a pass resumed after a crash
//     between the upload and the create, or after a create whose answer
//     was lost, makes no second batch; if none is found, the file is
//     uploaded (once: its id is recorded) and the batch created.
//  3. A submitted batch is polled; its status and counts are recorded (the
//     progress shown), and it is cancelled at the provider when asked, or
//     when none of its jobs is left.
//  4. Once it has ended, each job's line answer is checkpointed
//     (stepBatchAnswer) and the job goes back to the queue, where its
//     ordinary worker completes it through the usual parsing, validation
//     and repair (ai.Writer.WithAnswer); a line that did not run (it
//     failed, expired or was cancelled) sends its job back without an
//     answer, to run the ordinary way.
//  5. The files of an ended batch (input, output, error) are deleted at
//     the provider, each recorded as it goes (cleanFiles); a failure is
//     logged and tried again on a later pass, and never holds a job.
//
// A job is batched when its stage is served by the worker's own text
// model, or by a chat model of the model catalogue on the Batch API's own
// provider and account (an OpenAI model when the server's key is
// OpenAI's, an Azure one when it is Azure's): the lines then name that
// model, and the batch is priced at its catalogue batch prices. A stage
// routed to another provider runs the ordinary way: the job goes back to
// the ordinary queue at once.
//
// A tenant that brings its own OpenAI key has its jobs batched under that
// key (TenantBatchers): its provider batches are its own (store.AIBatch's
// TenantID; grouped per tenant and model, never mixed with another's
// lines), and every call for them (upload, create, find, poll, results,
// cancel, file deletion) goes with its key, to its base URL, with the
// model its key serves the stage with, as its ordinary calls do.

// MetadataGroup is the batch metadata key that names a provider batch's
// row (store.AIBatch.ID).
const MetadataGroup = "presswork_group"

// Checkpoint steps of a batched job.
const (
	stepBatchRequest = "batch/request"
	stepBatchAnswer  = "batch/answer"
)

// batchFindSlack widens the window FindBatch looks in, for the provider's
// clock being behind ours.
const batchFindSlack = 10 * time.Minute

// BatchAPI is a provider's Batch API (openai.Batcher).
type BatchAPI interface {
	Name() string
	Model(stage ai.Stage) string
	Upload(ctx context.Context, name string, lines []openai.BatchLine) (openai.Upload, error)
	Create(ctx context.Context, up openai.Upload, metadata map[string]string) (openai.Batch, error)
	FindBatch(ctx context.Context, key, value string, since time.Time) (openai.Batch, error)
	Retrieve(ctx context.Context, id string) (openai.Batch, error)
	Cancel(ctx context.Context, id string) (openai.Batch, error)
	Results(ctx context.Context, bt openai.Batch, customIDs []string) (map[string]openai.BatchResult, error)
	DeleteFile(ctx context.Context, id string) error
}

// TenantBatchers gives the Batch API of a tenant that brings its own
// OpenAI key (providers.TenantModels); ok is false for the others.
type TenantBatchers interface {
	Batcher(ctx context.Context, tenantID int64) (b *openai.Batcher, ok bool, err error)
}

// batchPassStore is what BatchPass reads and writes.
type batchPassStore interface {
	checkpointStore
	LockAIBatches(ctx context.Context) (*store.AdvisoryLock, error)
	BatchedJobs(ctx context.Context, limit int) ([]store.Job, error)
	UnbatchWaiting(ctx context.Context, jobIDs []string) ([]store.Job, error)
	StartAIBatch(ctx context.Context, nb store.NewAIBatch, jobIDs []string) (store.AIBatch, []store.Job, error)
	OpenAIBatches(ctx context.Context, limit int) ([]store.AIBatch, error)
	RecordAIBatchUpload(ctx context.Context, id, fileID string) error
	SubmitAIBatch(ctx context.Context, id, providerBatchID string) error
	RecordAIBatchStatus(ctx context.Context, id string, st store.AIBatchStatus) error
	AIBatchJobs(ctx context.Context, id string) ([]store.Job, error)
	UnbatchJobs(ctx context.Context, id string, jobIDs []string, answered bool) ([]store.Job, error)
	EndAIBatch(ctx context.Context, id, errMsg string) error
	RecordAIBatchFiles(ctx context.Context, id, input, output, errorFile string) error
	AIBatchesToClean(ctx context.Context, provider string, limit int) ([]store.AIBatch, error)
	RecordAIBatchFileDeleted(ctx context.Context, id, fileID string) error
	AIBatchFilesCleaned(ctx context.Context, id string) error
	AIBatchFilesFailed(ctx context.Context, id, why string, base time.Duration, maxAttempts int) (bool, error)
	FindModel(ctx context.Context, provider, model, kind string) (store.AIModel, error)
	RoutedModel(ctx context.Context, tenantID int64, stage string) (*store.AIModel, error)
}

// BatchPass moves batched jobs through a provider's Batch API.
type BatchPass struct {
	store batchPassStore
	api   BatchAPI // nil: no Batch API; batched jobs run the ordinary way
	// tenants, if not nil, gives the Batch APIs of tenants' own keys.
	tenants TenantBatchers
	jobs    submitter
	drafter *Drafter
	ideas   *IdeaWriter
	images  *Illustrator
	// maxLines bounds the jobs grouped per pass and per provider batch.
	maxLines int
	// fileRetryBase is the wait after a first failure to delete a batch's
	// files; it doubles with each failure.
	fileRetryBase time.Duration
	log           *slog.Logger
}

// NewBatchPass returns the pass of the workers d builds, with api (nil
// sends the batched jobs of tenants without a key of their own to the
// ordinary queue) and at most maxLines lines per provider batch. When
// d.Tenants is also TenantBatchers (providers.TenantModels is), the jobs
// of tenants with their own key are batched under it; otherwise they run
// the ordinary way.
func NewBatchPass(d Deps, api BatchAPI, maxLines int) *BatchPass {
	models := &Models{writer: d.Writer, embedder: d.Embedder, tenants: d.Tenants, prompts: d.Store, router: d.Router}
	tenants, _ := d.Tenants.(TenantBatchers)
	return &BatchPass{store: d.Store, api: api, tenants: tenants, jobs: d.Jobs, maxLines: max(maxLines, 1), log: d.Log,
		fileRetryBase: time.Minute,
		drafter: &Drafter{store: d.Store, models: models, minWords: d.DraftMinWords, wordBand: d.DraftWordBand,
			links: NewInternalLinks(d.Store, d.CallRetryBase)},
		ideas:  &IdeaWriter{store: d.Store, models: models, perIdea: d.Costs.Idea, retry: callRetry{base: d.CallRetryBase}},
		images: &Illustrator{store: d.Store, models: models, perImage: d.Costs.Image, log: d.Log}}
}

// batchRequest is a batched job's captured request, checkpointed, with
// the input it was written from: a draft's, or an ideas job's (an images
// job's prompt input is read again when it runs).
type batchRequest struct {
	Key     string         `json:"key"`
	Model   string         `json:"model"`
	Input   ai.DraftInput  `json:"input,omitzero"`
	Ideas   *ai.IdeasInput `json:"ideas,omitempty"`
	Request ai.JSONRequest `json:"request"`
}

// batchAnswer is a batched job's line answer, checkpointed.
type batchAnswer struct {
	Response ai.JSONResponse `json:"response"`
}

// Once makes one pass: it groups the waiting jobs into provider batches
// and moves each open batch on. Errors of single batches are joined. It
// does nothing while another pass runs (store.LockAIBatches).
func (p *BatchPass) Once(ctx context.Context) error {
	lock, err := p.store.LockAIBatches(ctx)
	if errors.Is(err, store.ErrLocked) {
		return nil
	}
	if err != nil {
		return err
	}
	defer lock.Unlock()
	err = p.group(ctx)
	open, oerr := p.store.OpenAIBatches(ctx, 100)
	if oerr != nil {
		return errors.Join(err, oerr)
	}
	for _, b := range open {
		aerr := p.advanceWith(ctx, b)
		if errs.IsPermanent(aerr) {
			aerr = p.giveUp(ctx, b, aerr)
		}
		if aerr != nil {
			err = errors.Join(err, fmt.Errorf("provider batch %s: %w", b.ID, aerr))
		}
	}
	p.cleanFiles(ctx)
	return err
}

// giveUp sends the jobs of a provider batch that failed for good (the
// provider rejected the file, the batch or the key) to the ordinary queue,
// without answers, and ends it with why.
func (p *BatchPass) giveUp(ctx context.Context, b store.AIBatch, why error) error {
	p.log.Warn("provider batch given up; its jobs run the ordinary way", "batch", b.ID, "error", why)
	jobs, err := p.store.AIBatchJobs(ctx, b.ID)
	if err != nil {
		return err
	}
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	if err := p.requeue(ctx, func(ctx context.Context) ([]store.Job, error) {
		return p.store.UnbatchJobs(ctx, b.ID, ids, false)
	}); err != nil {
		return err
	}
	return p.store.EndAIBatch(ctx, b.ID, why.Error())
}

// batchGroup is what a provider batch's lines share: the key they run
// under (a tenant's own, or 0 for the server's), the API and the model.
type batchGroup struct {
	tenantID int64
	provider string
	model    string
}

// group captures the requests of waiting jobs and records them as provider
// batches, one per key and model; jobs that cannot be batched go to the
// queue.
func (p *BatchPass) group(ctx context.Context) error {
	waiting, err := p.store.BatchedJobs(ctx, p.maxLines)
	if err != nil || len(waiting) == 0 {
		return err
	}
	groups := map[batchGroup][]string{}
	var ordinary []string
	for _, job := range waiting {
		g, err := p.capture(ctx, job)
		if err != nil {
			p.log.Info("batched job runs the ordinary way", "job", job.ID, "reason", err)
			ordinary = append(ordinary, job.ID)
			continue
		}
		groups[g] = append(groups[g], job.ID)
	}
	if err := p.requeue(ctx, func(ctx context.Context) ([]store.Job, error) {
		return p.store.UnbatchWaiting(ctx, ordinary)
	}); err != nil {
		return err
	}
	for g, ids := range groups {
		nb := store.NewAIBatch{ID: uuid.NewString(), TenantID: g.tenantID, Provider: g.provider, Model: g.model}
		if _, _, err := p.store.StartAIBatch(ctx, nb, ids); err != nil && !errs.IsConflict(err) {
			return err
		}
	}
	return nil
}

// batchedStages are the stages whose first model call a job of each type
// sends through a provider batch: an images job's is its prompt call (the
// images themselves are made the ordinary way; Replicate has no Batch API).
var batchedStages = map[string]ai.Stage{tasks.TypeDraft: ai.StageDraft, tasks.TypeIdeas: ai.StageIdeas,
	tasks.TypeImage: ai.StageImagePrompt}

// capture checkpoints the request of a batched job's first model call and
// returns the group of its provider batch.
func (p *BatchPass) capture(ctx context.Context, job store.Job) (batchGroup, error) {
	stage := batchedStages[job.Type]
	if stage == "" {
		return batchGroup{}, fmt.Errorf("%s jobs are not batched", job.Type)
	}
	g, err := p.batchRoute(ctx, job.TenantID, stage)
	if err != nil {
		return batchGroup{}, err
	}
	var br batchRequest
	switch stage {
	case ai.StageIdeas:
		in, req, err := p.ideas.firstRequest(ctx, job)
		if err != nil {
			return batchGroup{}, err
		}
		br = batchRequest{Ideas: &in, Request: req}
	case ai.StageImagePrompt:
		req, err := p.images.firstRequest(ctx, job)
		if err != nil {
			return batchGroup{}, err
		}
		br = batchRequest{Request: req}
	default:
		in, req, err := p.drafter.firstRequest(ctx, job)
		if err != nil {
			return batchGroup{}, err
		}
		br = batchRequest{Input: in, Request: req}
	}
	br.Key, br.Model = ai.RequestKey(br.Request), g.model
	br.Request.Input = nil
	return g, p.store.SaveCheckpoint(ctx, job.TenantID, job.ID, stepBatchRequest, br)
}

// batchRoute returns the group of the Batch API that serves a tenant's
// stage. A tenant with its own key: its key's Batch API and the model its
// key serves the stage with (the catalogue does not route such tenants'
// stages). Another: the server's Batch API, with its own model for the
// stage or the catalogue model the stage is routed to when the API's
// provider serves it. An error says why the stage cannot be batched.
func (p *BatchPass) batchRoute(ctx context.Context, tenantID int64, stage ai.Stage) (batchGroup, error) {
	if p.tenants != nil { // one read of the tenant's settings tells whether it has a key and gives its API
		api, own, err := p.tenants.Batcher(ctx, tenantID)
		if err != nil {
			return batchGroup{}, err
		}
		if own && api != nil {
			return batchGroup{tenantID: tenantID, provider: api.Name(), model: api.Model(stage)}, nil
		}
		if own {
			return batchGroup{}, errs.Permanent(errors.New("the tenant has no OpenAI key of its own any more"))
		}
	} else if t := p.drafter.models.tenants; t != nil {
		_, own, err := t.ForTenant(ctx, tenantID)
		if err != nil {
			return batchGroup{}, err
		}
		if own {
			return batchGroup{}, errs.Permanent(errors.New("this worker builds no Batch API from tenants' own keys"))
		}
	}
	if p.api == nil {
		return batchGroup{}, errors.New("no Batch API is configured")
	}
	g := batchGroup{provider: p.api.Name(), model: p.api.Model(stage)}
	m, err := p.store.RoutedModel(ctx, tenantID, string(stage))
	switch {
	case err != nil:
		return batchGroup{}, err
	case m == nil:
		return g, nil
	case !m.Batchable() || m.Provider != catalogueProvider(p.api.Name()):
		return batchGroup{}, fmt.Errorf("the catalogue routes the %s stage to %s, which this worker's Batch API (%s) does not serve",
			stage, m.Name(), p.api.Name())
	}
	g.model = m.Model
	return g, nil
}

// tenantAPI returns the Batch API of a tenant's own key.
func (p *BatchPass) tenantAPI(ctx context.Context, tenantID int64) (BatchAPI, error) {
	if p.tenants == nil {
		return nil, errs.Permanent(errors.New("this worker builds no Batch API from tenants' own keys"))
	}
	api, ok, err := p.tenants.Batcher(ctx, tenantID)
	switch {
	case err != nil:
		return nil, err
	case !ok || api == nil:
		return nil, errs.Permanent(errors.New("the tenant has no OpenAI key of its own any more"))
	}
	return api, nil
}

// apiOf returns the Batch API that provider batch b runs under: the
// server's, or its tenant's own key's.
func (p *BatchPass) apiOf(ctx context.Context, b store.AIBatch) (BatchAPI, error) {
	if b.TenantID != nil {
		return p.tenantAPI(ctx, *b.TenantID)
	}
	if p.api == nil {
		return nil, errs.Permanent(errors.New("this worker has no Batch API"))
	}
	return p.api, nil
}

// advanceWith moves a provider batch on with the API it runs under.
func (p *BatchPass) advanceWith(ctx context.Context, b store.AIBatch) error {
	api, err := p.apiOf(ctx, b)
	if err != nil {
		return err
	}
	return p.advance(ctx, api, b)
}

// advance moves a provider batch on from its state.
func (p *BatchPass) advance(ctx context.Context, api BatchAPI, b store.AIBatch) error {
	if b.State == store.AIBatchCreating {
		return p.create(ctx, api, b)
	}
	if b.ProviderBatchID == nil {
		return errs.Permanent(errors.New("submitted without the provider's batch id"))
	}
	bt, err := api.Retrieve(ctx, *b.ProviderBatchID)
	if err != nil {
		return err
	}
	err = p.store.RecordAIBatchStatus(ctx, b.ID, store.AIBatchStatus{Status: bt.Status, Total: bt.Counts.Total,
		Completed: bt.Counts.Completed, Failed: bt.Counts.Failed})
	if err != nil {
		return err
	}
	jobs, err := p.store.AIBatchJobs(ctx, b.ID)
	if err != nil {
		return err
	}
	if !bt.Ended() {
		if (b.CancelRequested || len(jobs) == 0) && bt.Status != openai.BatchCancelling {
			_, err = api.Cancel(ctx, bt.ID)
		}
		return err
	}
	return p.finish(ctx, api, b, bt, jobs)
}

// create finds the provider's batch of b, or uploads its file (once) and
// creates it, and records it.
func (p *BatchPass) create(ctx context.Context, api BatchAPI, b store.AIBatch) error {
	found, err := api.FindBatch(ctx, MetadataGroup, b.ID, b.IntentAt.Add(-batchFindSlack))
	if err == nil {
		return p.store.SubmitAIBatch(ctx, b.ID, found.ID)
	}
	if !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	up := openai.Upload{Model: b.Model}
	if b.InputFileID != nil {
		up.FileID = *b.InputFileID
	} else if up, err = p.upload(ctx, api, b); err != nil || up.FileID == "" {
		return err
	}
	bt, err := api.Create(ctx, up, map[string]string{MetadataGroup: b.ID})
	if err != nil {
		return err
	}
	return p.store.SubmitAIBatch(ctx, b.ID, bt.ID)
}

// upload writes the lines of b's jobs from their checkpointed requests and
// uploads them; a job without one goes to the queue. With no line left,
// the batch ends and up is empty.
func (p *BatchPass) upload(ctx context.Context, api BatchAPI, b store.AIBatch) (openai.Upload, error) {
	jobs, err := p.store.AIBatchJobs(ctx, b.ID)
	if err != nil {
		return openai.Upload{}, err
	}
	var lines []openai.BatchLine
	var lost []string
	for _, job := range jobs {
		br, ok, err := loadCheckpoint[batchRequest](ctx, p.store, job, stepBatchRequest)
		if err != nil {
			return openai.Upload{}, err
		}
		if !ok {
			lost = append(lost, job.ID)
			continue
		}
		lines = append(lines, openai.BatchLine{CustomID: job.ID, Request: br.Request, Model: b.Model})
	}
	if err := p.requeue(ctx, func(ctx context.Context) ([]store.Job, error) {
		return p.store.UnbatchJobs(ctx, b.ID, lost, false)
	}); err != nil {
		return openai.Upload{}, err
	}
	if len(lines) == 0 {
		return openai.Upload{}, p.store.EndAIBatch(ctx, b.ID, "no job left to batch")
	}
	up, err := api.Upload(ctx, "presswork-"+b.ID, lines)
	if err != nil {
		return openai.Upload{}, err
	}
	return up, p.store.RecordAIBatchUpload(ctx, b.ID, up.FileID)
}

// finish checkpoints the answers of an ended provider batch, puts its jobs
// back on the queue (answered or not) and ends it.
func (p *BatchPass) finish(ctx context.Context, api BatchAPI, b store.AIBatch, bt openai.Batch, jobs []store.Job) error {
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	results, err := api.Results(ctx, bt, ids)
	if err != nil {
		return err
	}
	if err := p.store.RecordAIBatchFiles(ctx, b.ID, bt.InputFileID, bt.OutputFileID, bt.ErrorFileID); err != nil {
		return err
	}
	if err := p.priceFromCatalogue(ctx, b, results); err != nil {
		return err
	}
	var answered, notRun []string
	for _, job := range jobs {
		r := results[job.ID]
		if r.Err != nil {
			notRun = append(notRun, job.ID)
			continue
		}
		if err := p.store.SaveCheckpoint(ctx, job.TenantID, job.ID, stepBatchAnswer, batchAnswer{Response: r.Response}); err != nil {
			return err
		}
		answered = append(answered, job.ID)
	}
	err = p.requeue(ctx, func(ctx context.Context) ([]store.Job, error) {
		a, err := p.store.UnbatchJobs(ctx, b.ID, answered, true)
		if err != nil {
			return nil, err
		}
		n, err := p.store.UnbatchJobs(ctx, b.ID, notRun, false)
		return append(a, n...), err
	})
	if err != nil {
		return err
	}
	msg := ""
	if bt.Status == openai.BatchFailed {
		msg = fmt.Sprintf("the provider failed the batch: %v", bt.Errors)
	}
	return p.store.EndAIBatch(ctx, b.ID, msg)
}

// maxFileDeleteAttempts bounds the passes that try to delete the files of
// one provider batch.
const maxFileDeleteAttempts = 10

// cleanFiles deletes at the provider the files of the ended provider
// batches whose next attempt is due: the server's Batch API's, and those
// run under tenants' own keys, each with its key. A failure is logged and
// recorded (the batch is tried again later, and given up after
// maxFileDeleteAttempts): the files cost storage, not a job's completion.
func (p *BatchPass) cleanFiles(ctx context.Context) {
	provider := "" // only tenants' batches
	if p.api != nil {
		provider = p.api.Name()
	}
	ended, err := p.store.AIBatchesToClean(ctx, provider, 100)
	if err != nil {
		p.log.Warn("provider batch files: cannot list the batches to clean", "error", err)
		return
	}
	for _, b := range ended {
		api, derr := p.apiOf(ctx, b)
		if derr == nil {
			derr = p.deleteFiles(ctx, api, b)
		}
		if derr == nil || ctx.Err() != nil {
			continue
		}
		gaveUp, err := p.store.AIBatchFilesFailed(ctx, b.ID, derr.Error(), p.fileRetryBase, maxFileDeleteAttempts)
		switch {
		case err != nil:
			p.log.Warn("provider batch files: cannot record a failed deletion", "batch", b.ID, "error", err)
		case gaveUp:
			p.log.Error("provider batch files: given up; delete them at the provider by hand", "batch", b.ID,
				"files", b.Files(), "error", derr)
		default:
			p.log.Warn("provider batch files: deletion failed; tried again later", "batch", b.ID, "error", derr)
		}
	}
}

// deleteFiles deletes the files of ended provider batch b that are not
// deleted yet, recording each, then records that none is left. A batch
// whose output and error files were never recorded (it ended before they
// were) is asked of the provider first.
func (p *BatchPass) deleteFiles(ctx context.Context, api BatchAPI, b store.AIBatch) error {
	files := b.Files()
	if b.ProviderBatchID != nil && b.OutputFileID == nil && b.ErrorFileID == nil {
		bt, err := api.Retrieve(ctx, *b.ProviderBatchID)
		var e *openai.Error
		switch {
		case errors.As(err, &e) && e.StatusCode == http.StatusNotFound:
		case err != nil:
			return err
		case !bt.Ended():
			return fmt.Errorf("the provider batch %s is %s, not ended", bt.ID, bt.Status)
		default:
			for _, id := range bt.Files() {
				if !slices.Contains(files, id) && !slices.Contains(b.FilesDeleted, id) {
					files = append(files, id)
				}
			}
		}
	}
	for _, id := range files {
		if err := api.DeleteFile(ctx, id); err != nil {
			return fmt.Errorf("delete file %s: %w", id, err)
		}
		if err := p.store.RecordAIBatchFileDeleted(ctx, b.ID, id); err != nil {
			return err
		}
	}
	return p.store.AIBatchFilesCleaned(ctx, b.ID)
}

// priceFromCatalogue values the answered lines of batch b at the model
// catalogue's batch prices of its model (half its list prices unless the
// operator set others), when the catalogue lists the model; the client's
// own prices (half of OPENAI_PRICES) stay otherwise.
func (p *BatchPass) priceFromCatalogue(ctx context.Context, b store.AIBatch, results map[string]openai.BatchResult) error {
	m, err := p.store.FindModel(ctx, catalogueProvider(b.Provider), b.Model, store.ModelKindChat)
	if errors.Is(err, errs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for id, r := range results {
		if r.Err != nil {
			continue
		}
		u := r.Response.Usage
		r.Response.Usage.CostUSD = m.CostUSD(store.ModelUsage{InputTokens: int64(u.PromptTokens),
			OutputTokens: int64(u.CompletionTokens), Batch: true})
		results[id] = r
	}
	return nil
}

// catalogueProvider is the model catalogue's name of an OpenAI client's
// provider ("azure-openai" is the catalogue's "azure"; an OpenAI-compatible
// server is priced as OpenAI).
func catalogueProvider(client string) string {
	switch client {
	case "azure-openai":
		return "azure"
	case "openai-compatible":
		return "openai"
	}
	return client
}

// requeue commits jobs back to the queue and enqueues them.
func (p *BatchPass) requeue(ctx context.Context, commit func(context.Context) ([]store.Job, error)) error {
	if p.jobs == nil {
		_, err := commit(ctx)
		return err
	}
	return p.jobs.Submit(ctx, commit)
}

// batchAnswerOf returns the request a batched job's first model call was
// captured as and its line's answer; ok is false unless a provider batch
// answered it (both checkpointed; a job without checkpoints reads none).
func batchAnswerOf(ctx context.Context, cs checkpointStore, job store.Job) (req batchRequest, answer batchAnswer, ok bool, err error) {
	if !job.Checkpointed {
		return req, answer, false, nil
	}
	if answer, ok, err = loadCheckpoint[batchAnswer](ctx, cs, job, stepBatchAnswer); err != nil || !ok {
		return req, answer, false, err
	}
	req, ok, err = loadCheckpoint[batchRequest](ctx, cs, job, stepBatchRequest)
	return req, answer, ok && err == nil, err
}

// loadCheckpoint reads a job's checkpoint step into a T; ok is false when
// it has none (or one that does not decode).
func loadCheckpoint[T any](ctx context.Context, cs checkpointStore, job store.Job, step string) (v T, ok bool, err error) {
	saved, err := cs.Checkpoints(ctx, job.TenantID, job.ID, step)
	if err != nil {
		return v, false, err
	}
	raw, found := saved[step]
	if !found || json.Unmarshal(raw, &v) != nil {
		return v, false, nil
	}
	return v, true, nil
}

// RegisterBatches adds the provider batch pass to mux (tasks.TypeAIBatch).
func RegisterBatches(mux *asynq.ServeMux, p *BatchPass) {
	mux.HandleFunc(tasks.TypeAIBatch, func(ctx context.Context, _ *asynq.Task) error { return p.Once(ctx) })
}
