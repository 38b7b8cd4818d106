package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	dto "github.com/prometheus/client_model/go"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/metrics"
	"github.com/presswork/presswork/internal/store"
)

func TestJobOutcome(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	live := context.Background()
	throttled := &errs.ThrottledError{RetryAfter: time.Second, Err: errors.New("429")}
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want string
	}{
		{"nil", live, nil, metrics.OutcomeSucceeded},
		{"skip retry", live, fmt.Errorf("bad input: %w", asynq.SkipRetry), metrics.OutcomeFailed},
		{"revoke", live, fmt.Errorf("throttled on the last attempt: %w", asynq.RevokeTask), metrics.OutcomeRevoked},
		{"canceled at shutdown", cancelled, fmt.Errorf("draft: %w", context.Canceled), metrics.OutcomeInterrupted},
		{"canceled but ctx alive", live, fmt.Errorf("draft: %w", context.Canceled), metrics.OutcomeRetry},
		{"throttled", live, fmt.Errorf("draft: %w", throttled), metrics.OutcomeThrottled},
		{"deadline", live, context.DeadlineExceeded, metrics.OutcomeRetry},
		{"other", live, errors.New("boom"), metrics.OutcomeRetry},
	}
	for _, tt := range tests {
		if got := metrics.JobOutcome(tt.ctx, tt.err); got != tt.want {
			t.Errorf("%s: JobOutcome(%v) = %q, want %q", tt.name, tt.err, got, tt.want)
		}
	}
}

// fakePlans counts lookups; tenant 13 has no row.
type fakePlans struct{ queries atomic.Int64 }

func (f *fakePlans) TenantPlan(_ context.Context, id int64) (string, error) {
	f.queries.Add(1)
	if id == 13 {
		return "", errs.ErrNotFound
	}
	return "starter", nil
}

func TestPlansCache(t *testing.T) {
	t.Parallel()
	src := &fakePlans{}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	plans := metrics.NewPlans(src, func() time.Time { return now })
	ctx := context.Background()
	for range 3 {
		if got := plans.Plan(ctx, 7); got != "starter" {
			t.Fatalf("Plan(7) = %q, want starter", got)
		}
	}
	if n := src.queries.Load(); n != 1 {
		t.Errorf("3 lookups within the TTL made %d queries, want 1", n)
	}
	now = now.Add(metrics.PlanTTL)
	plans.Plan(ctx, 7)
	if n := src.queries.Load(); n != 2 {
		t.Errorf("a lookup after the TTL made %d queries in all, want 2", n)
	}
	if got := plans.Plan(ctx, 13); got != "unknown" {
		t.Errorf("Plan of a missing tenant = %q, want unknown", got)
	}
	if got := plans.Plan(ctx, 0); got != "none" {
		t.Errorf("Plan(0) = %q, want none", got)
	}
}

func TestJobMiddleware(t *testing.T) {
	t.Parallel()
	reg := metrics.New()
	mux := asynq.NewServeMux()
	mux.Use(reg.JobMiddleware(metrics.NewPlans(&fakePlans{}, nil)))
	mux.HandleFunc("draft:write", func(ctx context.Context, task *asynq.Task) error {
		_, err := metrics.InstrumentText(offline.NewTextModel(), metrics.KeyOperator).GenerateJSON(ctx,
			ai.JSONRequest{Stage: ai.StageDraft, Input: ai.DraftInput{Title: "A title", Outline: []ai.Heading{{Level: 2, Text: "One"}}}})
		return err
	})
	mux.HandleFunc("draft:fail", func(context.Context, *asynq.Task) error { return fmt.Errorf("no: %w", asynq.SkipRetry) })
	ctx := context.Background()
	_ = mux.ProcessTask(ctx, asynq.NewTask("draft:write", []byte(`{"tenant_id":7,"job_id":"j1"}`)))
	_ = mux.ProcessTask(ctx, asynq.NewTask("draft:write", []byte(`{"tenant_id":7,"job_id":"j2"}`)))
	_ = mux.ProcessTask(ctx, asynq.NewTask("draft:fail", []byte(`{"tenant_id":7,"job_id":"j3"}`)))

	fams := gather(t, reg)
	checkCounter(t, fams, "presswork_jobs_total", map[string]string{"type": "draft:write", "plan": "starter", "outcome": "succeeded"}, 2)
	checkCounter(t, fams, "presswork_jobs_total", map[string]string{"type": "draft:fail", "plan": "starter", "outcome": "failed"}, 1)
	checkCounter(t, fams, "presswork_provider_calls_total",
		map[string]string{"provider": offline.TextModelName, "stage": "draft", "key": "operator", "outcome": "ok"}, 2)
	if n := histogramCount(fams, "presswork_job_duration_seconds", map[string]string{"type": "draft:write", "outcome": "succeeded"}); n != 2 {
		t.Errorf("job duration observations = %d, want 2", n)
	}
}

// throttledText answers 429 once, then succeeds.
type throttledText struct{ calls atomic.Int64 }

func (m *throttledText) Name() string { return "fake/text" }

func (m *throttledText) GenerateJSON(context.Context, ai.JSONRequest) (ai.JSONResponse, error) {
	if m.calls.Add(1) == 1 {
		return ai.JSONResponse{}, &errs.ThrottledError{RetryAfter: time.Millisecond, Err: errors.New("429")}
	}
	return ai.JSONResponse{Content: []byte(`{}`), Usage: ai.Usage{Model: "fake-1", PromptTokens: 10, CompletionTokens: 4, CostUSD: 0.5}}, nil
}

// retrying retries a throttled call once, as the rate limiter does.
type retrying struct{ ai.TextModel }

func (r retrying) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	resp, err := r.TextModel.GenerateJSON(ctx, req)
	if metrics.CallOutcome(err) == metrics.CallThrottled {
		return r.TextModel.GenerateJSON(ctx, req)
	}
	return resp, err
}

// TestProviderCallsCountOnce checks that a model instrumented beneath a
// retrying wrapper counts each request (the 429 too) and that the worker's
// wrapper above does not count them again, while a model not instrumented
// is counted by the worker's wrapper.
func TestProviderCallsCountOnce(t *testing.T) {
	t.Parallel()
	reg := metrics.New()
	ctx := context.Background()
	inner := reg.Text(retrying{metrics.InstrumentText(&throttledText{}, metrics.KeyTenant)}, metrics.KeyOperator)
	if _, err := inner.GenerateJSON(ctx, ai.JSONRequest{Stage: ai.StageIdeas}); err != nil {
		t.Fatal(err)
	}
	plain := reg.Text(retrying{&throttledText{}}, metrics.KeyOperator)
	if _, err := plain.GenerateJSON(ctx, ai.JSONRequest{Stage: ai.StageDraft}); err != nil {
		t.Fatal(err)
	}
	fams := gather(t, reg)
	calls := map[string]string{"provider": "fake/text", "stage": "ideas", "key": "tenant"}
	checkCounter(t, fams, "presswork_provider_calls_total", with(calls, "outcome", "throttled"), 1)
	checkCounter(t, fams, "presswork_provider_calls_total", with(calls, "outcome", "ok"), 1)
	checkCounter(t, fams, "presswork_provider_calls_total",
		map[string]string{"provider": "fake/text", "stage": "draft", "key": "operator", "outcome": "ok"}, 1)
	checkCounter(t, fams, "presswork_provider_tokens_total",
		map[string]string{"provider": "fake/text", "model": "fake-1", "stage": "ideas", "key": "tenant", "direction": "in"}, 10)
	checkCounter(t, fams, "presswork_provider_tokens_total",
		map[string]string{"provider": "fake/text", "model": "fake-1", "stage": "ideas", "key": "tenant", "direction": "out"}, 4)
	checkCounter(t, fams, "presswork_provider_cost_usd_total",
		map[string]string{"provider": "fake/text", "model": "fake-1", "stage": "draft", "key": "operator"}, 0.5)
	if got := total(fams, "presswork_provider_calls_total"); got != 3 {
		t.Errorf("%v provider calls counted, want 3 (both requests beneath the retry, the plain call once)", got)
	}
}

func TestHTTPMiddleware(t *testing.T) {
	t.Parallel()
	reg := metrics.New()
	e := echo.New()
	e.Use(reg.HTTPMiddleware())
	e.GET("/v1/sites/:id", func(c echo.Context) error {
		if c.Param("id") == "404" {
			return echo.NewHTTPError(http.StatusNotFound)
		}
		return c.NoContent(http.StatusOK)
	})
	for _, r := range []struct{ method, path string }{
		{"GET", "/v1/sites/1"}, {"GET", "/v1/sites/2"}, {"GET", "/v1/sites/404"},
		{"GET", "/v1/nothing/here"}, {"GET", "/v2"}, {"PURGE", "/v1/sites/1"},
	} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(r.method, r.path, nil))
	}
	fams := gather(t, reg)
	checkCounter(t, fams, "presswork_http_requests_total", map[string]string{"route": "/v1/sites/:id", "method": "GET", "status": "200"}, 2)
	checkCounter(t, fams, "presswork_http_requests_total", map[string]string{"route": "/v1/sites/:id", "method": "GET", "status": "404"}, 1)
	checkCounter(t, fams, "presswork_http_requests_total", map[string]string{"route": "unmatched", "method": "GET", "status": "404"}, 2)
	checkCounter(t, fams, "presswork_http_requests_total", map[string]string{"route": "/v1/sites/:id", "method": "OTHER", "status": "405"}, 1)
	if n := histogramCount(fams, "presswork_http_request_duration_seconds", map[string]string{"route": "/v1/sites/:id", "method": "GET"}); n != 3 {
		t.Errorf("request duration observations = %d, want 3", n)
	}
}

// TestNoTenantLabels uses every metric of a registry and checks that no
// label names a tenant, and that histograms carry only bounded labels.
func TestNoTenantLabels(t *testing.T) {
	t.Parallel()
	reg := metrics.New()
	e := echo.New()
	e.Use(reg.HTTPMiddleware())
	e.GET("/x", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	mux := asynq.NewServeMux()
	mux.Use(reg.JobMiddleware(metrics.NewPlans(&fakePlans{}, nil)))
	mux.HandleFunc("t", func(ctx context.Context, _ *asynq.Task) error {
		_, _, err := metrics.InstrumentEmbedder(offline.NewEmbedder(0), metrics.KeyOperator).Embed(ctx, []string{"a b"})
		return err
	})
	_ = mux.ProcessTask(context.Background(), asynq.NewTask("t", []byte(`{"tenant_id":1}`)))
	reg.Reconciled(3, 1, 1, 0, nil)
	_, err := reg.Attach(metrics.SchedulerFirings(func() int64 { return 2 }))
	if err != nil {
		t.Fatal(err)
	}
	_, err = reg.Attach(metrics.NewCredits(fakeLedger{}, nil))
	if err != nil {
		t.Fatal(err)
	}

	allowed := map[string][]string{
		"presswork_http_request_duration_seconds":  {"method", "route"},
		"presswork_job_duration_seconds":           {"outcome", "type"},
		"presswork_provider_call_duration_seconds": {"provider", "stage"},
	}
	fams := gather(t, reg)
	for _, name := range []string{"presswork_http_requests_total", "presswork_jobs_total", "presswork_provider_calls_total",
		"presswork_reconciler_jobs_total", "presswork_scheduler_firings_total", "presswork_credits_total"} {
		if fams[name] == nil {
			t.Errorf("%s not exported", name)
		}
	}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				if strings.Contains(strings.ToLower(l.GetName()), "tenant") {
					t.Errorf("%s has a tenant label %q", name, l.GetName())
				}
				labels = append(labels, l.GetName())
			}
			if f.GetType() != dto.MetricType_HISTOGRAM {
				continue
			}
			if diff := cmp.Diff(allowed[name], labels); diff != "" {
				t.Errorf("histogram %s labels (-want +got):\n%s", name, diff)
			}
		}
	}
}

// fakeLedger is a ledger with one grant.
type fakeLedger struct{}

func (fakeLedger) LedgerTail(_ context.Context, after, foldTo int64) (store.LedgerTail, error) {
	t := store.LedgerTail{Total: map[string]int64{}, Folded: map[string]int64{}, XMin: 5, XMax: 5}
	if after < 1 {
		t.Total["grant"], t.MaxID = 100, 1
		if foldTo >= 1 {
			t.Folded["grant"] = 100
		}
	}
	return t, nil
}

// gather reads the registry's metric families by name.
func gather(t *testing.T, reg *metrics.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	list, err := reg.Gatherer().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	fams := map[string]*dto.MetricFamily{}
	for _, f := range list {
		fams[f.GetName()] = f
	}
	return fams
}

// find returns the series of family name with exactly labels.
func find(fams map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	for _, m := range fams[name].GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if cmp.Equal(got, labels) {
			return m
		}
	}
	return nil
}

func checkCounter(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string, want float64) {
	t.Helper()
	m := find(fams, name, labels)
	if m == nil {
		t.Errorf("%s%v: no such series", name, labels)
		return
	}
	if got := m.GetCounter().GetValue(); got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

func histogramCount(fams map[string]*dto.MetricFamily, name string, labels map[string]string) uint64 {
	return find(fams, name, labels).GetHistogram().GetSampleCount()
}

// total sums a counter family's series.
func total(fams map[string]*dto.MetricFamily, name string) float64 {
	sum := 0.0
	for _, m := range fams[name].GetMetric() {
		sum += m.GetCounter().GetValue()
	}
	return sum
}

func with(labels map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for lk, lv := range labels {
		out[lk] = lv
	}
	return out
}
