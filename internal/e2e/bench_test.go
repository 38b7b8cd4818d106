package e2e_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// benchChildEnv marks the child processes of the benchmark below.
const benchChildEnv = "PRESSWORK_BENCH_WORKER"

// TestBenchTwoWorkersUnderProviderLimit is the benchmark of issue #3 (make
// bench; skipped by make test): two real worker processes (workerapp.Run
// with the providers chosen from the environment, as cmd/worker runs it)
// drain draft jobs against an OpenAI-compatible server that allows R
// requests per rolling minute and answers 429 beyond it. The workers share
// the limit through AI_LIMITS and Redis. It reports the requests served per
// minute against R (want >= 0.9) and the share answered 429 (want < 2%).
func TestBenchTwoWorkersUnderProviderLimit(t *testing.T) {
	if os.Getenv(benchChildEnv) != "" {
		runBenchWorker(t)
		return
	}
	if os.Getenv("PRESSWORK_BENCH") == "" {
		t.Skip("a benchmark: make bench runs it (PRESSWORK_BENCH=1)")
	}
	const rpm = 240
	duration := 30 * time.Second

	h := apptest.Start(t)
	_, c := h.Tenant(t, "bench", 100000)
	ideaIDs := benchIdeas(t, h, pipelineAPI{t: t, c: c})
	if len(ideaIDs) < rpm*int(duration.Seconds())/60+20 {
		t.Fatalf("only %d ideas: not enough draft jobs to keep the workers busy", len(ideaIDs))
	}

	provider := newLimitedProvider(t, rpm)
	var acc apptest.Accepted
	pipelineAPI{t: t, c: c}.do(http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": ideaIDs}, &acc)

	start := time.Now()
	workers := make([]*exec.Cmd, 2)
	for i := range workers {
		workers[i] = startWorkerProcess(t, h, "TestBenchTwoWorkersUnderProviderLimit", benchChildEnv, os.Stderr,
			"OPENAI_API_KEY=sk-bench", "OPENAI_BASE_URL="+provider.URL+"/v1", "OPENAI_MODEL=gpt-4o-mini",
			"AI_LIMITS=openai-compatible/gpt-4o-mini="+strconv.Itoa(rpm)+"rpm", "WORKER_CONCURRENCY=16", "LOG_LEVEL=error")
	}
	time.Sleep(duration) // the benchmark's measuring window, not a wait for a condition
	served, throttled := provider.counts(start, start.Add(duration))
	for _, w := range workers {
		_ = w.Process.Signal(syscall.SIGTERM)
	}
	for _, w := range workers {
		_ = w.Wait()
	}

	perMinute := float64(served) / duration.Minutes()
	share := 0.0
	if served+throttled > 0 {
		share = float64(throttled) / float64(served+throttled)
	}
	t.Logf("R = %d requests/minute, %s: %d served, %d answered 429", rpm, duration, served, throttled)
	t.Logf("served per minute / R = %.1f / %d = %.3f (want >= 0.9)", perMinute, rpm, perMinute/rpm)
	t.Logf("429 share = %d / %d = %.2f%% (want < 2%%)", throttled, served+throttled, 100*share)
	if perMinute/rpm < 0.9 {
		t.Errorf("served per minute / R = %.3f, want >= 0.9", perMinute/rpm)
	}
	if share >= 0.02 {
		t.Errorf("429 share %.2f%%, want < 2%%", 100*share)
	}
}

// benchIdeas makes ideas with an in-process offline worker and returns
// their ids.
func benchIdeas(t *testing.T, h *apptest.Harness, api pipelineAPI) []int64 {
	stop := h.StartWorker(t)
	defer stop()
	var site store.Site
	api.do(http.MethodPost, "/v1/sites", map[string]string{"name": "Bench", "url": "https://bench.example.com",
		"username": "editor", "application_password": "abcd efgh"}, &site)
	csv, err := os.ReadFile(sampleKeywordsPath(t))
	apptest.Must(t, err, "read sample keywords")
	api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", site.ID), csv, nil, "Content-Type", "text/csv")
	var acc apptest.Accepted
	api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/clustering", site.ID), nil, &acc)
	api.waitJob(acc.Jobs[0].ID)
	var clusters []store.Cluster
	api.listAll(fmt.Sprintf("/v1/sites/%d/clusters", site.ID), &clusters)
	ids := make([]int64, len(clusters))
	for i, cl := range clusters {
		ids[i] = cl.ID
	}
	acc = apptest.Accepted{}
	api.do(http.MethodPost, "/v1/ideas/generate", map[string]any{"cluster_ids": ids, "count": 10}, &acc)
	api.waitBatch(acc.BatchID, len(ids))
	var ideas []store.Idea
	api.listAll("/v1/ideas", &ideas)
	ideaIDs := make([]int64, len(ideas))
	for i, idea := range ideas {
		ideaIDs[i] = idea.ID
	}
	return ideaIDs
}

// runBenchWorker is a child process: the providers chosen from the
// environment, limited through Redis, as cmd/worker chooses them.
func runBenchWorker(t *testing.T) {
	runWorkerProcess(t, func(log *slog.Logger) providers.Set {
		opts, err := redis.ParseURL(os.Getenv("REDIS_URL"))
		apptest.Must(t, err, "redis URL")
		rdb := redis.NewClient(opts)
		t.Cleanup(func() { rdb.Close() })
		models, err := providers.FromEnv(os.Getenv, rdb, log)
		apptest.Must(t, err, "providers")
		return models
	})
}

// limitedProvider is an OpenAI-compatible server that serves at most rpm
// chat requests in any rolling minute and answers 429 with Retry-After
// beyond that.
type limitedProvider struct {
	*httptest.Server
	rpm int

	mu        sync.Mutex
	served    []time.Time
	throttled []time.Time
}

func newLimitedProvider(t *testing.T, rpm int) *limitedProvider {
	fake := fakeopenai.New(t)
	fake.SetContent(answerFromPrompt)
	target, err := url.Parse(fake.URL)
	apptest.Must(t, err, "fake URL")
	proxy := httputil.NewSingleHostReverseProxy(target)
	p := &limitedProvider{rpm: rpm}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait, ok := p.admit(time.Now()); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// admit records a request and says whether it fits the limit, or how long
// until it would.
func (p *limitedProvider) admit(now time.Time) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	inWindow := 0
	for i := len(p.served) - 1; i >= 0 && now.Sub(p.served[i]) < time.Minute; i-- {
		inWindow++
	}
	if inWindow >= p.rpm {
		p.throttled = append(p.throttled, now)
		oldest := p.served[len(p.served)-inWindow]
		return time.Minute - now.Sub(oldest), false
	}
	p.served = append(p.served, now)
	return 0, true
}

// counts returns the requests served and throttled in [from, to).
func (p *limitedProvider) counts(from, to time.Time) (served, throttled int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	in := func(ts []time.Time) (n int) {
		for _, t := range ts {
			if !t.Before(from) && t.Before(to) {
				n++
			}
		}
		return n
	}
	return in(p.served), in(p.throttled)
}
