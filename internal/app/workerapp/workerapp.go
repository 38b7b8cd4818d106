// Package workerapp wires the worker process on the shared App: the stage
// workers of internal/worker on the asynq queues, with their AI providers,
// WordPress and Easypanel clients, and the small server that answers the
// checks an API request waits for.
package workerapp

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/metrics"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/worker"
)

// RunFromEnv runs the worker (see Run) with the providers the environment
// chooses, rate-limited through the App's Redis client: cmd/worker's work.
func RunFromEnv(ctx context.Context, a *app.App) error {
	models, err := providers.FromEnv(os.Getenv, a.RedisClient(), a.Log)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	return Run(ctx, a, models)
}

// Run processes tasks with the providers p until ctx ends, the jobs on the
// worker's server and the checks a request waits for on NewChecks's, then
// shuts both down gracefully: in-flight tasks get ShutdownTimeout to finish
// and the rest go back to the queue without counting as failures.
func Run(ctx context.Context, a *app.App, p providers.Set) error {
	srv, mux, closeClient, err := newServer(a, p)
	if err != nil {
		return err
	}
	defer closeClient()
	checks, checkMux := NewChecks(a)
	if err := checks.Start(checkMux); err != nil {
		return fmt.Errorf("start the worker's checks: %w", err)
	}
	if err := srv.Start(mux); err != nil {
		checks.Shutdown()
		return fmt.Errorf("start worker: %w", err)
	}
	<-ctx.Done()
	var wg sync.WaitGroup
	wg.Go(checks.Shutdown)
	srv.Shutdown()
	wg.Wait()
	return nil
}

// NewChecks builds the small asynq server that answers the checks a
// request waits for (PUT /v1/easypanel's panel checks): it serves
// jobs.QueueChecks only, so that checks never wait behind long AI jobs.
func NewChecks(a *app.App) (*asynq.Server, *asynq.ServeMux) {
	mux := asynq.NewServeMux()
	mux.Handle(tasks.TypePanelCheck, &worker.PanelChecker{Box: a.Box, AllowPrivateURLs: a.Config.AllowPrivateURLs,
		RootCAs: a.Config.RootCAs, Log: a.Log})
	return asynq.NewServer(a.Redis, worker.CheckServerConfig(a.Config, a.Log)), mux
}

// maxBatchLines bounds the lines of one provider batch (the Batch API
// takes 50,000 lines and 200 MB; a draft's line is a few kB).
const maxBatchLines = 5000

// newServer builds the asynq server and its handlers; call the returned
// function after the server shut down, to close the client automation runs
// enqueue with.
func newServer(a *app.App, p providers.Set) (*asynq.Server, *asynq.ServeMux, func(), error) {
	p = p.CountedIn(a.Metrics)
	writer, err := ai.NewWriter(p.Text)
	if err != nil {
		return nil, nil, nil, err
	}
	client := asynq.NewClient(a.Redis)
	tenantOpenAI := p.TenantOpenAI
	tenantOpenAI.AllowPrivateURLs = a.Config.AllowPrivateURLs
	deps := worker.Deps{Store: a.Store, Jobs: jobs.New(a.Store, client, a.Log), Writer: writer, Embedder: p.Embedder,
		Tenants: providers.NewTenantModels(a.Store, a.Box, tenantOpenAI, a.Log), Image: p.Image, Box: a.Box,
		WordPressHTTP: a.WordPressClient(), Costs: a.Config.Costs, Log: a.Log,
		PanelHTTP: a.WordPressClient(), OperatorPanel: a.Config.Easypanel,
		DeployPollEvery: a.Config.DeployPollEvery, DeployWait: a.Config.DeployWait,
		CallRetryBase: a.Config.AICallRetryDelay, DraftMinWords: p.DraftMinWords, DraftWordBand: p.DraftWordBand,
		RetryDelay: worker.RetryDelay(a.Config)}
	mux := asynq.NewServeMux()
	mux.Use(a.Metrics.JobMiddleware(metrics.NewPlans(a.Store, time.Now)))
	worker.Register(mux, deps)
	var batches worker.BatchAPI // nil: batched jobs run the ordinary way
	if p.Batch != nil {
		batches = p.Batch
	}
	worker.RegisterBatches(mux, worker.NewBatchPass(deps, batches, maxBatchLines))
	worker.RegisterWebhooks(mux, &worker.WebhookSender{Store: a.Store, Box: a.Box, HTTP: a.WordPressClient(),
		Now: time.Now, Log: a.Log})
	a.Log.Info("worker providers", "text", p.Text.Name(), "embeddings", p.Embedder.Name(), "images", p.Image.Name())
	closeClient := func() {
		if err := client.Close(); err != nil {
			a.Log.Warn("closing the worker's queue client", "error", err)
		}
	}
	return asynq.NewServer(a.Redis, worker.ServerConfig(a.Config, a.Log)), mux, closeClient, nil
}
