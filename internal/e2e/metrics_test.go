package e2e_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/app/schedulerapp"
	"github.com/presswork/presswork/internal/app/workerapp"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// TestMetricsEndToEnd runs a clustering job through the API and a worker
// (offline provider), each an app of its own as in production, with the
// scheduler beside the worker, and reads the API's /metrics and the
// worker's admin /metrics: the request counted under its route template,
// the job as succeeded under its tenant's plan, the provider calls, the
// credits reserved, the queues, the reconciler; no tenant labels.
func TestMetricsEndToEnd(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.WithEnv("RECONCILE_EVERY", "50ms"), apptest.WithEnv("SCHEDULER_TICK", "50ms"))
	worker, err := app.Open(context.Background(), h.App.Config, slog.New(slog.NewTextHandler(io.Discard, nil)))
	apptest.Must(t, err, "open the worker's app")
	t.Cleanup(worker.Close)
	admin, err := worker.StartAdmin("127.0.0.1:0")
	apptest.Must(t, err, "start admin server")
	t.Cleanup(func() { apptest.Must(t, admin.Close(), "close admin server") })
	runUntilCleanup(t, "worker", func(ctx context.Context) error { return workerapp.Run(ctx, worker, providers.Offline()) })
	runUntilCleanup(t, "scheduler", func(ctx context.Context) error { return schedulerapp.Run(ctx, worker) })

	const opening = 500
	_, c := h.Tenant(t, "metrics", opening) // plan pro
	api := pipelineAPI{t: t, c: c}
	var site store.Site
	api.do(http.MethodPost, "/v1/sites", map[string]string{"name": "Metrics Blog", "url": "https://metrics.example.com",
		"username": "editor", "application_password": "abcd efgh ijkl mnop"}, &site)
	csv, err := os.ReadFile(sampleKeywordsPath(t))
	apptest.Must(t, err, "read sample keywords")
	api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", site.ID), csv, nil, "Content-Type", "text/csv")
	var acc apptest.Accepted
	api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/clustering", site.ID), nil, &acc)
	job := api.waitJob(acc.Jobs[0].ID)
	if resp, err := http.Get(h.URL + "/v1/no/such/route"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}

	apiFams := scrape(t, h.URL+"/metrics")
	wantCounter(t, apiFams, "presswork_http_requests_total",
		map[string]string{"route": "/v1/sites/:id/clustering", "method": "POST", "status": "202"}, 1)
	wantCounter(t, apiFams, "presswork_http_requests_total",
		map[string]string{"route": "unmatched", "method": "GET", "status": "404"}, 1)
	if m := series(apiFams, "presswork_http_request_duration_seconds",
		map[string]string{"route": "/v1/sites/:id/clustering", "method": "POST"}); m.GetHistogram().GetSampleCount() != 1 {
		t.Errorf("clustering request latency: %v, want one observation", m)
	}
	if apiFams["presswork_jobs_total"] != nil {
		t.Errorf("the API's metrics count jobs; the registry is the worker's")
	}

	// The job's outcome is recorded after its handler returns, which may
	// be just after the API shows it succeeded; the reconciler needs a
	// pass or two.
	var workerFams map[string]*dto.MetricFamily
	apptest.Eventually(t, 10*time.Second, "the worker's metrics show the job and a reconciler pass", func() (bool, error) {
		workerFams = scrape(t, "http://"+admin.Addr()+"/metrics")
		return series(workerFams, "presswork_jobs_total",
			map[string]string{"type": tasks.TypeCluster, "plan": "pro", "outcome": "succeeded"}) != nil &&
			series(workerFams, "presswork_reconciler_passes_total", map[string]string{"outcome": "ok"}) != nil, nil
	})
	wantCounter(t, workerFams, "presswork_jobs_total",
		map[string]string{"type": tasks.TypeCluster, "plan": "pro", "outcome": "succeeded"}, 1)
	if m := series(workerFams, "presswork_job_duration_seconds",
		map[string]string{"type": tasks.TypeCluster, "outcome": "succeeded"}); m.GetHistogram().GetSampleCount() != 1 {
		t.Errorf("cluster job duration: %v, want one observation", m)
	}
	wantCounter(t, workerFams, "presswork_provider_calls_total",
		map[string]string{"provider": offline.NewEmbedder(0).Name(), "stage": "embed", "key": "operator", "outcome": "ok"}, 1)
	wantCounter(t, workerFams, "presswork_provider_calls_total",
		map[string]string{"provider": offline.TextModelName, "stage": "cluster_name", "key": "operator", "outcome": "ok"}, 1)
	if got := value(series(workerFams, "presswork_credits_total", map[string]string{"kind": "reserve"})); got != float64(job.CreditsReserved) {
		t.Errorf("credits reserved = %v, want the job's %d", got, job.CreditsReserved)
	}
	if got := value(series(workerFams, "presswork_credits_total", map[string]string{"kind": "grant"})); got != opening {
		t.Errorf("credits granted = %v, want %d", got, opening)
	}
	for _, name := range []string{"asynq_queue_size", "asynq_queue_latency_seconds", "presswork_scheduler_firings_total",
		"presswork_reconciler_jobs_total", "go_goroutines"} {
		if workerFams[name] == nil {
			t.Errorf("the worker's admin server does not export %s", name)
		}
	}
	for _, fams := range []map[string]*dto.MetricFamily{apiFams, workerFams} {
		for name, f := range fams {
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if strings.Contains(l.GetName(), "tenant") {
						t.Errorf("%s has a tenant label %q", name, l.GetName())
					}
				}
			}
		}
	}
}

// runUntilCleanup runs fn until the test ends, then cancels it and waits.
func runUntilCleanup(t *testing.T, what string, fn func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", what, err)
		}
	})
}

// scrape reads a /metrics page.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	apptest.Must(t, err, "GET ", url)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	apptest.Must(t, err, "parse ", url)
	return fams
}

// series returns the series of family name whose labels include labels.
func series(fams map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	for _, m := range fams[name].GetMetric() {
		match := 0
		for _, l := range m.GetLabel() {
			if v, ok := labels[l.GetName()]; ok && v == l.GetValue() {
				match++
			}
		}
		if match == len(labels) {
			return m
		}
	}
	return nil
}

func value(m *dto.Metric) float64 {
	if m.GetCounter() != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

// wantCounter checks that a counter is at least least.
func wantCounter(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string, least float64) {
	t.Helper()
	m := series(fams, name, labels)
	if m == nil {
		t.Errorf("%s%v: no such series", name, labels)
		return
	}
	if got := value(m); got < least {
		t.Errorf("%s%v = %v, want at least %v", name, labels, got, least)
	}
}
