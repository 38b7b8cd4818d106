// Package worker runs Presswork's stages: one small worker per task type,
// one file each, holding only what it uses; the store methods a worker
// calls are an interface declared in its file. Register builds every
// worker from Deps and puts it on an asynq mux behind the handler that
// records each job's outcome. PostgreSQL is the source of truth: a task
// only delivers a job id (package tasks holds that contract), and a worker
// checks the job row before it works. Package jobs owns the rest of a
// job's life: the queues, the task options, submitting and releasing.
package worker

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// Deps is what the workers are built from.
type Deps struct {
	Store *store.Store
	// Jobs submits the jobs an automation run plans and is told when a
	// job ended, to release the tenant's held jobs (nil: nothing is
	// released, and automation runs cannot deliver their jobs).
	Jobs Lifecycle
	// Writer and Embedder serve every tenant without providers of its own,
	// with the default prompts; each job adds its tenant's prompt overrides.
	Writer   *ai.Writer
	Embedder ai.Embedder
	// Tenants, if not nil, gives the providers of tenants that bring their
	// own credentials.
	Tenants TenantModels
	// Image makes the images of every tenant.
	Image ai.ImageModel
	// Router, if not nil, serves the stages the model catalogue routes
	// (providers.Router).
	Router Router
	// Box opens the sites' application passwords and the deployments'
	// secrets.
	Box *secret.Box
	// WordPressHTTP is the HTTP client for WordPress sites (one that
	// refuses private addresses unless the operator allows them); nil means
	// http.DefaultClient.
	WordPressHTTP *http.Client
	// CancelCheck is how often a running image job looks whether it was
	// canceled, so that it can cancel its prediction; zero means a second.
	CancelCheck time.Duration
	// CallRetryBase is the first wait before a model call (a clustering's
	// embeddings and names, an ideas or draft answer) is tried again inside
	// its job after a passing fault, doubled after each try; zero means a
	// second.
	CallRetryBase time.Duration
	// RetryDelay is the back-off of failed attempts (RetryDelay(config));
	// nil leaves a retrying job without its next attempt's time.
	RetryDelay asynq.RetryDelayFunc
	// DraftMinWords are the soft minimum lengths of drafts by content
	// type; a type not listed keeps its default.
	DraftMinWords map[string]int
	// DraftWordBand is how far, in percent either side of its word target,
	// a draft may be before it is sent back to be expanded or trimmed;
	// zero is ai.DefaultWordBand.
	DraftWordBand int
	Costs         config.Costs
	// WorkerID is the worker process's identity (jobs.NewWorkerID),
	// recorded on each job it starts so that its jobs can be rescued if it
	// dies; "" records none.
	WorkerID string
	Log      *slog.Logger
	// PanelHTTP is the HTTP client for Easypanel; OperatorPanel the
	// operator's panel, for deployments that use it. A deploy waits up to
	// DeployWait for the app to run, looking every DeployPollEvery.
	PanelHTTP       *http.Client
	OperatorPanel   config.EasypanelConfig
	DeployPollEvery time.Duration
	DeployWait      time.Duration
}

// Lifecycle is what the workers need of the job lifecycle (jobs.Client).
type Lifecycle interface {
	submitter
	finisher
}

// Register builds every stage's worker from d and adds it to mux.
func Register(mux *asynq.ServeMux, d Deps) {
	retry := callRetry{base: d.CallRetryBase}
	models := &Models{retry: retry.do, writer: d.Writer, embedder: d.Embedder, tenants: d.Tenants, image: d.Image,
		prompts: d.Store, router: d.Router}
	sites := &siteClients{passwords: d.Store, box: d.Box, http: d.WordPressHTTP}
	rec := &recorder{store: d.Store, jobs: d.Jobs, secrets: secretNamerOf(d.Tenants), usage: d.Store,
		delay: d.RetryDelay, workerID: d.WorkerID, log: d.Log}
	publisher := &Publisher{store: d.Store, sites: sites, log: d.Log,
		links: &linkHook{store: d.Store, jobs: d.Jobs, log: d.Log, now: time.Now}}
	stages := []struct {
		typ  string
		work workFunc
		note failureNote // nil: the job row alone shows a failure
	}{
		{typ: tasks.TypeCluster, work: (&Clusterer{store: d.Store, models: models, keywordsPerCredit: d.Costs.KeywordsPerCredit,
			retry: retry}).Work},
		{typ: tasks.TypeIdeas, work: (&IdeaWriter{store: d.Store, models: models, perIdea: d.Costs.Idea, retry: retry}).Work},
		{typ: tasks.TypeDraft, work: (&Drafter{store: d.Store, models: models, minWords: d.DraftMinWords,
			wordBand: d.DraftWordBand, links: NewInternalLinks(d.Store, d.CallRetryBase)}).Work},
		{typ: tasks.TypeImage, work: (&Illustrator{store: d.Store, models: models, perImage: d.Costs.Image,
			cancelCheck: d.CancelCheck, log: d.Log}).Work},
		{typ: tasks.TypePublish, work: publisher.Work, note: publisher.noteFailure},
		{typ: tasks.TypeCheck, work: (&SiteChecker{store: d.Store, sites: sites}).Work},
		{typ: tasks.TypeLinks, work: (&LinkRefresher{store: d.Store, sites: sites, models: models, retry: retry,
			now: time.Now}).Work},
		{typ: tasks.TypeBacklinks, work: (&Backlinker{store: d.Store, sites: sites, models: models,
			links: NewInternalLinks(d.Store, d.CallRetryBase)}).Work},
		{typ: tasks.TypeAutomation, work: (&RunPlanner{store: d.Store, jobs: d.Jobs, costs: d.Costs}).Work},
		{typ: tasks.TypeDeploy, work: (&Deployer{store: d.Store, box: d.Box, http: d.PanelHTTP, operator: d.OperatorPanel,
			pollEvery: d.DeployPollEvery, wait: d.DeployWait, log: d.Log}).Work},
	}
	for _, st := range stages {
		mux.HandleFunc(st.typ, rec.handler(st.work, st.note))
	}
}

// workFunc is a stage's work on one job.
type workFunc func(ctx context.Context, p tasks.Payload) error

// outcome builds a job's success record.
func outcome(p tasks.Payload, job store.Job, charged int64, usage ai.Usage, result any) store.Outcome {
	return store.Outcome{
		TenantID: p.TenantID, JobID: p.JobID, Charged: min(charged, job.CreditsReserved),
		Model: usage.Model, TokensIn: usage.PromptTokens, TokensOut: usage.CompletionTokens,
		CostUSD: usage.CostUSD, Result: result,
	}
}
