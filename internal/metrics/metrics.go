// Package metrics is Presswork's Prometheus instrumentation: one registry
// per process (not the global default, so that tests can run many
// processes in one), the collectors of every process (HTTP requests, jobs,
// AI provider calls, the scheduler and the reconciler), the collectors read
// at scrape time (asynq's queues, the credit ledger), and the handler that
// serves them as GET /metrics.
//
// Label values are drawn from bounded sets: route templates, task types,
// plans, provider and model names, stages, outcomes. No metric carries a
// tenant id.
package metrics

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes Presswork's own metrics.
const namespace = "presswork"

// Registry is one process's metrics.
type Registry struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	jobs         *prometheus.CounterVec
	jobDuration  *prometheus.HistogramVec
	reconciled   *prometheus.CounterVec
	reconciles   *prometheus.CounterVec
	providers    providerMetrics

	circuitsOnce sync.Once
	circuits     *Circuits
}

// Circuits returns the process's counter of provider circuit changes,
// attached to r on first use (every worker of the process shares it).
func (r *Registry) Circuits() *Circuits {
	r.circuitsOnce.Do(func() {
		r.circuits = NewCircuits()
		r.reg.MustRegister(r.circuits)
	})
	return r.circuits
}

// New returns a registry holding the Go runtime's and the process's
// collectors and Presswork's own metrics, which appear once used.
func New() *Registry {
	r := &Registry{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "http_requests_total",
			Help: "HTTP requests answered, by route template, method and status."}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "http_request_duration_seconds",
			Help: "Time to answer an HTTP request, by route template and method.", Buckets: prometheus.DefBuckets},
			[]string{"route", "method"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "jobs_total",
			Help: "Job attempts a worker ran, by task type, tenant plan and outcome " +
				"(succeeded, failed, retry, throttled, revoked, interrupted)."}, []string{"type", "plan", "outcome"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "job_duration_seconds",
			Help:    "Time a worker spent on a job attempt, by task type and outcome.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}}, []string{"type", "outcome"}),
		reconciled: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "reconciler_jobs_total",
			Help: "Jobs the reconciler examined, re-enqueued, failed (and refunded) or released from hold, by action."},
			[]string{"action"}),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "reconciler_passes_total",
			Help: "Reconciler passes, by outcome (ok, error)."}, []string{"outcome"}),
		providers: newProviderMetrics(),
	}
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		r.httpRequests, r.httpDuration, r.jobs, r.jobDuration, r.reconciled, r.reconciles)
	r.reg.MustRegister(r.providers.collectors()...)
	return r
}

// Handler serves the registry in Prometheus' text format (GET /metrics).
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg})
}

// Gatherer is the registry, for tests that read it directly.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Attach registers c until the returned function detaches it, so that a
// collector holding resources (an asynq inspector, a scheduler) leaves the
// registry when they close. Attaching c twice is harmless (the second
// detach does nothing); another collector of the same metrics is an error.
func (r *Registry) Attach(c prometheus.Collector) (detach func(), err error) {
	if err := r.reg.Register(c); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok && are.ExistingCollector == c {
			return func() {}, nil
		}
		return func() {}, fmt.Errorf("register metrics: %w", err)
	}
	return func() { r.reg.Unregister(c) }, nil
}

// Reconciled records one reconciler pass: the jobs it examined,
// re-enqueued, failed and released, and whether it ended in an error.
func (r *Registry) Reconciled(examined, reenqueued, failed, released int, err error) {
	for action, n := range map[string]int{"examined": examined, "reenqueued": reenqueued, "failed": failed, "released": released} {
		r.reconciled.WithLabelValues(action).Add(float64(n))
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	r.reconciles.WithLabelValues(outcome).Inc()
}

// SchedulerFirings is a counter of the automation runs a scheduler fired,
// read from fired at scrape time; Attach it while the scheduler runs.
func SchedulerFirings(fired func() int64) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Name: "scheduler_firings_total",
		Help: "Automation runs this scheduler recorded and enqueued."}, func() float64 { return float64(fired()) })
}
