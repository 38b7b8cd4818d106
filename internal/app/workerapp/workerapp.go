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
	"github.com/presswork/presswork/internal/ai/modeltest"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/billing"
	"github.com/presswork/presswork/internal/breaker"
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
//
// While it runs, the process beats (jobs.Rescuer): its jobs are delivered
// again within seconds if it dies, and it delivers again those of other
// worker processes that died. It says it stopped only after its server
// shut down.
func Run(ctx context.Context, a *app.App, p providers.Set) error {
	srv, mux, rescuer, closeClient, err := newServer(a, p)
	if err != nil {
		return err
	}
	defer closeClient()
	beating, stopBeating := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBeating()
	beatDone := make(chan error, 1)
	go func() { beatDone <- rescuer.Run(beating) }()
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		if !a.Config.Stripe.Enabled() {
			return
		}
		sweeper := asynq.NewClient(a.Redis)
		defer sweeper.Close()
		worker.SweepBilling(beating, a.Store, sweeper, a.Config.Stripe.SweepEvery, time.Now, a.Log)
	}()
	defer func() { stopBeating(); <-sweepDone }()
	checks, checkMux := NewChecks(a, p.Credentials)
	if err := checks.Start(checkMux); err != nil {
		return fmt.Errorf("start the worker's checks: %w", err)
	}
	if err := srv.Start(mux); err != nil {
		checks.Shutdown()
		return fmt.Errorf("start worker: %w", err)
	}
	select {
	case <-ctx.Done():
	case err := <-beatDone:
		// Without its row the process's jobs could not be rescued.
		srv.Shutdown()
		checks.Shutdown()
		return err
	}
	var wg sync.WaitGroup
	wg.Go(checks.Shutdown)
	srv.Shutdown()
	wg.Wait()
	stopBeating()
	<-beatDone
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := rescuer.Stop(stopCtx); err != nil {
		a.Log.Warn("recording the worker's graceful stop", "error", err)
	}
	return nil
}

// NewChecks builds the small asynq server that answers the checks a
// request waits for (PUT /v1/easypanel's panel checks, and the model tests
// of POST /v1/admin/models/:id/test, run with creds): it serves
// jobs.QueueChecks only, so that checks never wait behind long AI jobs.
func NewChecks(a *app.App, creds providers.Credentials) (*asynq.Server, *asynq.ServeMux) {
	mux := asynq.NewServeMux()
	mux.Handle(tasks.TypePanelCheck, &worker.PanelChecker{Box: a.Box, AllowPrivateURLs: a.Config.AllowPrivateURLs,
		RootCAs: a.Config.RootCAs, Log: a.Log})
	mux.Handle(tasks.TypeModelTest, &worker.ModelTester{Models: a.Store, Tester: modeltest.Tester{Credentials: creds}, Log: a.Log})
	return asynq.NewServer(a.Redis, worker.CheckServerConfig(a.Config, a.Log)), mux
}

// maxBatchLines bounds the lines of one provider batch (the Batch API
// takes 50,000 lines and 200 MB; a draft's line is a few kB).
const maxBatchLines = 5000

// newRouter builds the router of the model catalogue's routes (#23), its
// fallback chains' circuits shared through Redis and counted in the
// metrics.
func newRouter(a *app.App, p providers.Set) (*providers.Router, error) {
	circuits := a.Metrics.Circuits()
	b, err := breaker.New(a.RedisClient(), "presswork:breaker", breaker.Config{
		OnTransition: func(key string, from, to breaker.State) { circuits.Changed(key, from.String(), to.String()) },
	})
	if err != nil {
		return nil, err
	}
	return providers.NewRouter(a.Store, p.Credentials, b, a.Log), nil
}

// newServer builds the asynq server, its handlers and the process's
// rescuer; call the returned function after the server shut down, to close
// the client automation runs and rescues enqueue with.
func newServer(a *app.App, p providers.Set) (*asynq.Server, *asynq.ServeMux, *jobs.Rescuer, func(), error) {
	p = p.CountedIn(a.Metrics)
	writer, err := ai.NewWriter(p.Text)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	router, err := newRouter(a, p)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	client := asynq.NewClient(a.Redis)
	lifecycle := jobs.New(a.Store, client, a.Log)
	rescuer := &jobs.Rescuer{Store: a.Store, Jobs: lifecycle, ID: jobs.NewWorkerID(), Beat: a.Config.WorkerHeartbeat,
		LostAfter: a.Config.WorkerLostAfter, Log: a.Log}
	tenantOpenAI := p.TenantOpenAI
	tenantOpenAI.AllowPrivateURLs = a.Config.AllowPrivateURLs
	deps := worker.Deps{Store: a.Store, Jobs: lifecycle, WorkerID: rescuer.ID, Writer: writer, Embedder: p.Embedder,
		Tenants: providers.NewTenantModels(a.Store, a.Box, tenantOpenAI, a.Log), Image: p.Image, Router: router, Box: a.Box,
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
	billingEvents := &worker.BillingEvents{Store: a.Store, Jobs: lifecycle, Queue: client,
		Grace: a.Config.Stripe.GracePeriod, Now: time.Now, Log: a.Log}
	if svc := billing.New(a.Config.Stripe, a.Store, client, nil); svc != nil {
		billingEvents.Payments = svc
	}
	worker.RegisterBilling(mux, billingEvents)
	a.Log.Info("worker providers", "text", p.Text.Name(), "embeddings", p.Embedder.Name(), "images", p.Image.Name())
	closeClient := func() {
		if err := client.Close(); err != nil {
			a.Log.Warn("closing the worker's queue client", "error", err)
		}
	}
	return asynq.NewServer(a.Redis, worker.ServerConfig(a.Config, a.Log)), mux, rescuer, closeClient, nil
}
