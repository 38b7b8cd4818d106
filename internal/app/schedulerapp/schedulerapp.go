// Package schedulerapp wires the scheduler process on the shared App: the
// automation scheduler with its lease in Redis, and, while it leads, the
// reconciler, the maintenance passes, the webhook dispatcher, the daily
// refresh of the sites' link inventories and the provider batch pass's
// trigger; it exports the metrics that concern the whole deployment.
package schedulerapp

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/metrics"
	"github.com/presswork/presswork/internal/scheduler"
)

// Each site's link inventory is read again from WordPress once a day (and
// after each publish); the scheduler looks for sites due every hour, up to
// linkRefreshBatch at a time.
const (
	linkRefreshEvery = 24 * time.Hour
	linkRefreshCheck = time.Hour
	linkRefreshBatch = 500
)

// aiBatchEvery is how often a pass of the provider batches is queued: it
// groups the batched jobs and polls the batches at the provider.
const aiBatchEvery = time.Minute

// NewScheduler builds the automation scheduler with its lease in Redis;
// call the returned function to close its queue client when done.
func NewScheduler(a *app.App) (*scheduler.Scheduler, func()) {
	client := asynq.NewClient(a.Redis)
	host, _ := os.Hostname()
	lease := &scheduler.Lease{Redis: a.RedisClient(), Key: "presswork:scheduler:leader", TTL: a.Config.SchedulerLeaseTTL,
		Holder: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8]), Now: time.Now}
	s := &scheduler.Scheduler{Store: a.Store, Jobs: jobs.New(a.Store, client, a.Log), Lease: lease,
		Log: a.Log, Now: time.Now, Batch: 1000}
	return s, func() { client.Close() }
}

// NewReconciler builds the reconciler, its passes counted in the App's
// metrics; call the returned function to close its inspector and client
// when done.
func NewReconciler(a *app.App) (*jobs.Reconciler, func()) {
	inspector := asynq.NewInspector(a.Redis)
	client := asynq.NewClient(a.Redis)
	r := &jobs.Reconciler{Store: a.Store, Inspector: inspector, Jobs: jobs.New(a.Store, client, a.Log),
		Grace: a.Config.ReconcileGrace, Log: a.Log, Now: time.Now,
		Report: func(rep jobs.ReconcileReport, err error) {
			a.Metrics.Reconciled(rep.Examined, rep.Reenqueued, rep.Failed, rep.Released, err)
		}}
	return r, func() { inspector.Close(); client.Close() }
}

// Run runs the scheduler until ctx ends: it takes part in the leader
// election and, while it leads, fires due rules, reconciles the queue with
// PostgreSQL and prunes what is kept only for a while.
func Run(ctx context.Context, a *app.App) error {
	s, closeScheduler := NewScheduler(a)
	defer closeScheduler()
	r, closeReconciler := NewReconciler(a)
	defer closeReconciler()
	inspector := asynq.NewInspector(a.Redis)
	defer inspector.Close()
	m := &jobs.Maintenance{Store: a.Store, Inspector: inspector, Log: a.Log, Now: time.Now,
		RetainJobs: a.Config.RetainJobs, RetainRuns: a.Config.RetainRuns, RetainArchived: a.Config.RetainArchivedTasks}
	a.Log.Info("scheduler started", "holder", s.Lease.Holder, "tick", a.Config.SchedulerTick,
		"lease_ttl", a.Config.SchedulerLeaseTTL, "reconcile_every", a.Config.ReconcileEvery, "grace", a.Config.ReconcileGrace)
	detach := attachMetrics(a, s, inspector)
	defer detach()
	var wg sync.WaitGroup
	wg.Go(func() { scheduler.WhileLeading(ctx, s.Lease, a.Config.ReconcileEvery, r.Pass) })
	wg.Go(func() { scheduler.WhileLeading(ctx, s.Lease, a.Config.MaintenanceEvery, m.Pass) })
	hooks := &jobs.Dispatcher{Store: a.Store, Client: asynq.NewClient(a.Redis), Log: a.Log, Now: time.Now}
	defer hooks.Client.Close()
	wg.Go(func() { scheduler.WhileLeading(ctx, s.Lease, a.Config.SchedulerTick, hooks.Pass) })
	linksClient := asynq.NewClient(a.Redis)
	defer linksClient.Close()
	refresh := &jobs.LinkRefresh{Store: a.Store, Jobs: jobs.New(a.Store, linksClient, a.Log), Log: a.Log, Now: time.Now,
		Every: linkRefreshEvery, Batch: linkRefreshBatch}
	wg.Go(func() { scheduler.WhileLeading(ctx, s.Lease, linkRefreshCheck, refresh.Pass) })
	batchClient := asynq.NewClient(a.Redis)
	defer batchClient.Close()
	batches := &jobs.AIBatchTrigger{Client: batchClient, Log: a.Log}
	wg.Go(func() { scheduler.WhileLeading(ctx, s.Lease, aiBatchEvery, batches.Pass) })
	s.Run(ctx, a.Config.SchedulerTick)
	wg.Wait()
	return nil
}

// attachMetrics adds to the App's metrics, until the returned function:
// the scheduler's firings, and the collectors read at scrape time that
// concern the whole deployment, asynq's queues (through inspector) and the
// credit ledger. The scheduler exports these rather than every process so
// that they are read once per scrape of a deployment.
func attachMetrics(a *app.App, s *scheduler.Scheduler, inspector *asynq.Inspector) (detach func()) {
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
