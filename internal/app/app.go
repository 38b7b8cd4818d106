// Package app wires Presswork's processes from a Config: the API, the
// worker and the scheduler. The binaries in cmd/, the demo and the
// end-to-end tests all boot through it, so what the tests run is what ships.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/hibiken/asynqmon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/httpapi"
	"github.com/presswork/presswork/internal/metrics"
	"github.com/presswork/presswork/internal/netguard"
	"github.com/presswork/presswork/internal/ratelimit"
	"github.com/presswork/presswork/internal/scheduler"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/web"
)

// App holds the resources every process shares.
type App struct {
	Config config.Config
	Log    *slog.Logger
	Store  *store.Store
	Redis  asynq.RedisConnOpt
	Box    *secret.Box
	// rdb is the process's go-redis client, for what the project keeps in
	// Redis itself: the scheduler's lease and the rate limiters.
	rdb redis.UniversalClient
	// Metrics is the process's Prometheus registry, served as GET /metrics
	// by the API and by the admin server.
	Metrics *metrics.Registry
}

// Open connects to PostgreSQL, applies pending migrations and prepares the
// Redis connection options and client. Close releases what it opened.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	redisOpt, err := RedisConnOpt(cfg)
	if err != nil {
		return nil, err
	}
	box, err := cfg.SecretBox()
	if err != nil {
		return nil, err
	}
	rdb, ok := redisOpt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, errors.New("asynq's Redis client is not a go-redis client")
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.DatabaseMaxConns)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	if err := migrateWithRetry(ctx, st, log); err != nil {
		st.Close()
		rdb.Close()
		return nil, err
	}
	st.PaceBulk(cfg.BulkInFlight)
	return &App{Config: cfg, Log: log, Store: st, Redis: redisOpt, Box: box, rdb: rdb, Metrics: metrics.New()}, nil
}

// migrateWithRetry applies migrations, waiting up to a minute for a
// PostgreSQL that is still starting.
func migrateWithRetry(ctx context.Context, st *store.Store, log *slog.Logger) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := st.Migrate(ctx)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		log.Warn("database not ready; retrying", "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// Close releases the database pool and the Redis client.
func (a *App) Close() {
	a.Store.Close()
	if err := a.rdb.Close(); err != nil {
		a.Log.Warn("closing the Redis client", "error", err)
	}
}

// RedisClient is the process's go-redis client; Close closes it.
func (a *App) RedisClient() redis.UniversalClient { return a.rdb }

// API builds the HTTP API with a client that enqueues to Redis; close the
// returned client when done. The queue dashboard (asynqmon) is mounted at
// /monitoring for operator keys (Serve closes its Redis connections); the
// API's and the sign-in's rate limits use the App's Redis client.
func (a *App) API() (*httpapi.Server, *asynq.Client) {
	client := asynq.NewClient(a.Redis)
	monitoring := asynqmon.New(asynqmon.Options{RootPath: "/monitoring", RedisConnOpt: a.Redis, ReadOnly: false})
	srv := httpapi.New(httpapi.Deps{
		Store: a.Store, Enqueuer: &tasks.Enqueuer{Client: client}, Box: a.Box, Config: a.Config, Log: a.Log,
		Ready:      func(ctx context.Context) error { return a.Ready(ctx, client) },
		Monitoring: monitoring, Metrics: a.Metrics, Limiter: a.apiLimiter(),
		// Always on, like the sign-in limits: it protects keys, not capacity.
		AuthFailures: ratelimit.NewFailures(a.rdb, "presswork:auth-failures"),
		UI:           web.New(web.Deps{Store: a.Store, Limiter: a.loginLimiter(), Log: a.Log}),
	})
	return srv, client
}

// apiLimiter is the API's request limiter on Redis, or nil when both
// rates are off.
func (a *App) apiLimiter() httpapi.RequestLimiter {
	if a.Config.APIKeyRate <= 0 && a.Config.APITenantRate <= 0 {
		return nil
	}
	return ratelimit.New(a.rdb, "presswork:api-ratelimit")
}

// loginLimiter holds the web interface's sign-in attempts to their rates
// (always on: they protect passwords, not capacity).
func (a *App) loginLimiter() web.Limiter {
	return web.NewWindowLimiter(a.rdb, "presswork:login-attempts")
}

// Ready reports whether the process can work: PostgreSQL and Redis (pinged
// through client) reachable and the migrations current. Its error is a
// short reason fit for /readyz, without internal detail.
func (a *App) Ready(ctx context.Context, client *asynq.Client) error {
	if err := a.Store.Ping(ctx); err != nil {
		return errors.New("PostgreSQL is unreachable")
	}
	if err := client.Ping(); err != nil {
		return errors.New("Redis is unreachable")
	}
	if pending, err := a.Store.MigrationsPending(ctx); err != nil || pending {
		return errors.New("database migrations are not current")
	}
	return nil
}

// WordPressClient is the HTTP client for WordPress sites: bounded by
// WORDPRESS_TIMEOUT, and refusing loopback and private addresses unless
// ALLOW_PRIVATE_URLS is set.
func (a *App) WordPressClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if !a.Config.AllowPrivateURLs {
		transport = netguard.Transport()
	}
	return &http.Client{Transport: transport, Timeout: a.Config.WordPressTimeout}
}

// Worker builds the asynq server and its handlers; call the returned
// function after the server shut down, to close the client automation runs
// enqueue with.
func (a *App) Worker(p Providers) (*asynq.Server, *asynq.ServeMux, func(), error) {
	p = a.instrument(p)
	writer, err := ai.NewWriter(p.Text)
	if err != nil {
		return nil, nil, nil, err
	}
	client := asynq.NewClient(a.Redis)
	tenantOpenAI := p.TenantOpenAI
	tenantOpenAI.AllowPrivateURLs = a.Config.AllowPrivateURLs
	h := &tasks.Handlers{Store: a.Store, Writer: writer, Embedder: p.Embedder, Image: p.Image, Costs: a.Config.Costs, Log: a.Log,
		Tenants: NewTenantModels(a.Store, a.Box, tenantOpenAI, a.Log), Box: a.Box,
		WordPressHTTP: a.WordPressClient(), Enqueuer: &tasks.Enqueuer{Client: client},
		PanelHTTP: a.WordPressClient(), OperatorPanel: a.Config.Easypanel,
		DeployPollEvery: a.Config.DeployPollEvery, DeployWait: a.Config.DeployWait}
	mux := asynq.NewServeMux()
	mux.Use(a.Metrics.JobMiddleware(metrics.NewPlans(a.Store, time.Now)))
	h.Register(mux)
	a.Log.Info("worker providers", "text", p.Text.Name(), "embeddings", p.Embedder.Name(), "images", p.Image.Name())
	closeClient := func() {
		if err := client.Close(); err != nil {
			a.Log.Warn("closing the worker's queue client", "error", err)
		}
	}
	return asynq.NewServer(a.Redis, tasks.ServerConfig(a.Config, a.Log)), mux, closeClient, nil
}

// RunWorker processes tasks until ctx ends, then shuts down gracefully:
// in-flight tasks get ShutdownTimeout to finish and the rest go back to
// the queue without counting as failures.
func (a *App) RunWorker(ctx context.Context, p Providers) error {
	srv, mux, closeClient, err := a.Worker(p)
	if err != nil {
		return err
	}
	defer closeClient()
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	<-ctx.Done()
	srv.Shutdown()
	return nil
}

// Reconciler builds the reconciler; close the returned inspector and client
// when done.
func (a *App) Reconciler() (*tasks.Reconciler, func()) {
	inspector := asynq.NewInspector(a.Redis)
	client := asynq.NewClient(a.Redis)
	r := &tasks.Reconciler{Store: a.Store, Inspector: inspector, Enqueuer: &tasks.Enqueuer{Client: client},
		Grace: a.Config.ReconcileGrace, Log: a.Log, Now: time.Now}
	return r, func() { inspector.Close(); client.Close() }
}

// Scheduler builds the automation scheduler with its lease in Redis;
// close the returned function's resources when done.
func (a *App) Scheduler() (*scheduler.Scheduler, func()) {
	client := asynq.NewClient(a.Redis)
	host, _ := os.Hostname()
	lease := &scheduler.Lease{Redis: a.rdb, Key: "presswork:scheduler:leader", TTL: a.Config.SchedulerLeaseTTL,
		Holder: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8]), Now: time.Now}
	s := &scheduler.Scheduler{Store: a.Store, Enqueuer: &tasks.Enqueuer{Client: client}, Lease: lease,
		Log: a.Log, Now: time.Now, Batch: 1000}
	return s, func() { client.Close() }
}

// RunScheduler runs the scheduler until ctx ends: it takes part in the
// leader election and, while it leads, fires due rules, reconciles the
// queue with PostgreSQL and prunes what is kept only for a while.
func (a *App) RunScheduler(ctx context.Context) error {
	s, closeScheduler := a.Scheduler()
	defer closeScheduler()
	r, closeReconciler := a.Reconciler()
	defer closeReconciler()
	inspector := asynq.NewInspector(a.Redis)
	defer inspector.Close()
	m := &tasks.Maintenance{Store: a.Store, Inspector: inspector, Log: a.Log, Now: time.Now,
		RetainJobs: a.Config.RetainJobs, RetainRuns: a.Config.RetainRuns, RetainArchived: a.Config.RetainArchivedTasks}
	a.Log.Info("scheduler started", "holder", s.Lease.Holder, "tick", a.Config.SchedulerTick,
		"lease_ttl", a.Config.SchedulerLeaseTTL, "reconcile_every", a.Config.ReconcileEvery, "grace", a.Config.ReconcileGrace)
	detach := a.attachSchedulerMetrics(s, inspector)
	defer detach()
	var wg sync.WaitGroup
	wg.Go(func() { scheduler.WhileLeading(ctx, s.Lease, a.Config.ReconcileEvery, a.reconcilePass(r)) })
	wg.Go(func() { scheduler.WhileLeading(ctx, s.Lease, a.Config.MaintenanceEvery, m.Pass) })
	s.Run(ctx, a.Config.SchedulerTick)
	wg.Wait()
	return nil
}

// attachSchedulerMetrics adds to the process's metrics, until the returned
// function: the scheduler's firings, and the collectors read at scrape time
// that concern the whole deployment, asynq's queues (through inspector) and
// the credit ledger. The scheduler exports these rather than every process
// so that they are read once per scrape of a deployment.
func (a *App) attachSchedulerMetrics(s *scheduler.Scheduler, inspector *asynq.Inspector) (detach func()) {
	var detachers []func()
	for _, c := range []prometheus.Collector{metrics.SchedulerFirings(s.Fired),
		asynqmetrics.NewQueueMetricsCollector(inspector), metrics.NewCredits(a.Store, a.Log)} {
		d, err := a.Metrics.Attach(c)
		if err != nil {
			a.Log.Warn("metrics not exported", "error", err)
		}
		detachers = append(detachers, d)
	}
	return func() {
		for _, d := range detachers {
			d()
		}
	}
}

// reconcilePass is r.Pass with its report counted in the metrics.
func (a *App) reconcilePass(r *tasks.Reconciler) func(context.Context) {
	return func(ctx context.Context) {
		rep, err := r.Once(ctx)
		a.Metrics.Reconciled(rep.Examined, rep.Reenqueued, rep.Failed, rep.Released, err)
		if err != nil {
			a.Log.Warn("reconcile pass failed", "error", err)
		} else if rep.Reenqueued+rep.Failed+rep.Released > 0 {
			a.Log.Info("reconciled jobs", "examined", rep.Examined, "reenqueued", rep.Reenqueued, "failed", rep.Failed,
				"released", rep.Released)
		}
	}
}
