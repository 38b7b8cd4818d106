package e2e_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
)

// batchKillChildEnv marks the child worker process of the test below.
const batchKillChildEnv = "PRESSWORK_BATCH_KILL_WORKER"

// batchModeDrafts is how many drafts TestBatchModeSurvivesSIGKILL writes:
// the 1,000 (about 20 s on two cores).
const batchModeDrafts = 1000

// TestBatchModeSurvivesSIGKILL queues drafts with "mode": "batch" and
// kills the worker process (SIGKILL) running the provider batch pass right
// after the provider stored its upload and before the pass created the
// batch: a proxy in front of the OpenAI fake passes the upload on and
// kills the worker before it hears the answer. Asynq's record of the pass
// is emptied (the worker's lease is gone with it) and a new worker's pass
// finds no batch at the provider, creates exactly one, and once it has
// ended completes every draft from its line, billed at the catalogue's
// batch price and charged once (checkBatchBilling).
func TestBatchModeSurvivesSIGKILL(t *testing.T) {
	if os.Getenv(batchKillChildEnv) != "" {
		runBenchWorker(t)
		return
	}
	t.Parallel()
	fake := newFakeOpenAI(t)
	var worker atomic.Pointer[exec.Cmd]
	killed := make(chan struct{})
	var once sync.Once
	target, err := url.Parse(fake.URL)
	apptest.Must(t, err, "fake URL")
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cmd := worker.Load()
		if cmd == nil || r.Method != http.MethodPost || r.URL.Path != "/v1/files" {
			proxy.ServeHTTP(w, r)
			return
		}
		proxy.ServeHTTP(httptest.NewRecorder(), r) // the provider stores the file...
		once.Do(func() {
			_ = cmd.Process.Kill() // ...and the worker dies before it hears so.
			_, _ = cmd.Process.Wait()
			close(killed)
		})
		http.Error(w, "worker is gone", http.StatusBadGateway)
	}))
	t.Cleanup(front.Close)
	env := map[string]string{
		"OPENAI_API_KEY":              "sk-fake-key",
		"OPENAI_BASE_URL":             front.URL + "/v1",
		"OPENAI_MODEL":                fakeChatModel,
		"OPENAI_EMBEDDING_MODEL":      fakeEmbeddingModel,
		"OPENAI_EMBEDDING_DIMENSIONS": fmt.Sprint(offline.NewEmbedder(0).Dimensions()),
	}

	drafts := batchModeDrafts
	h := apptest.Start(t)
	// The operator's own batch prices for the model, not half its list
	// prices: the lines are billed at the catalogue's.
	mini, err := h.App.Store.FindModel(t.Context(), "openai", fakeChatModel, store.ModelKindChat)
	apptest.Must(t, err, "catalogue model")
	_, err = h.App.Store.UpdateModel(t.Context(), mini.ID, store.ModelFields{
		BatchPriceInputPerMTok: store.Null(ptrTo(0.03)), BatchPriceOutputPerMTok: store.Null(ptrTo(0.12))})
	apptest.Must(t, err, "set the batch prices")
	tk, c := h.Tenant(t, "batchkill", int64(100*drafts))
	seed := apptest.SeedIdeas(t, h.App.Store, tk.Tenant.ID, drafts, "batchkill")
	ids := make([]int64, len(seed.Ideas))
	for i, idea := range seed.Ideas {
		ids[i] = idea.ID
	}
	acc := apptest.Post(t, c, "/v1/drafts/generate", map[string]any{"idea_ids": ids, "mode": "batch"})
	client := asynq.NewClient(h.App.Redis)
	t.Cleanup(func() { _ = client.Close() })
	trigger := &jobs.AIBatchTrigger{Client: client, Log: slog.New(slog.DiscardHandler)}

	var out bytes.Buffer
	extra := []string{"LOG_LEVEL=error"}
	for k, v := range env {
		extra = append(extra, k+"="+v)
	}
	cmd := startWorkerProcess(t, h, "TestBatchModeSurvivesSIGKILL", batchKillChildEnv, &out, extra...)
	worker.Store(cmd)
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	apptest.Must(t, trigger.Once(t.Context()), "queue a pass")
	select {
	case <-killed:
	case <-time.After(90 * time.Second):
		t.Fatalf("the worker never uploaded the batch file; its output:\n%s", out.String())
	}
	open, err := h.App.Store.OpenAIBatches(t.Context(), 10)
	apptest.Must(t, err, "open batches")
	if len(open) != 1 || open[0].State != store.AIBatchCreating || fake.BatchesCreated() != 0 {
		t.Fatalf("after the kill: provider batches %+v, %d created at the provider; want one being created, none there",
			open, fake.BatchesCreated())
	}

	// The pass's task is lost with the worker; a new worker runs the next.
	flushRedis(t, h)
	worker.Store(nil)
	opts, err := redis.ParseURL(h.Env["REDIS_URL"])
	apptest.Must(t, err, "redis URL")
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	models, err := providers.FromEnv(func(k string) string { return env[k] }, rdb, slog.New(slog.DiscardHandler))
	apptest.Must(t, err, "providers")
	h.StartWorker(t, models)
	apptest.Eventually(t, 60*time.Second, "the provider batch is created", func() (bool, error) {
		return fake.BatchesCreated() > 0, trigger.Once(t.Context())
	})
	fake.ProcessBatches()
	apptest.Eventually(t, 2*time.Minute, "every draft is written", func() (bool, error) {
		for _, j := range acc.Jobs {
			job := apptest.Job(t, h.App.Store, tk.Tenant.ID, j.ID)
			if job.State == store.JobFailed || job.State == store.JobCanceled {
				return false, fmt.Errorf("job %s ended %s: %s", j.ID, job.State, apptest.Deref(job.LastError))
			}
			if job.State != store.JobSucceeded {
				return false, trigger.Once(t.Context())
			}
		}
		return true, nil
	})
	inBatch := 0
	for _, r := range fake.Requests() {
		if r.Batch != "" {
			inBatch++
		}
	}
	if got := fake.BatchesCreated(); got != 1 || inBatch != drafts {
		t.Errorf("%d batches created at the provider answering %d lines; want 1 batch of %d", got, inBatch, drafts)
	}
	checkBatchBilling(t, h, tk.Tenant.ID, pipelineAPI{t: t, c: c}, acc, fake)
}

// checkBatchBilling checks what the batched draft jobs of acc cost, once
// they all succeeded: the provider answered each from a batch line and
// served no ordinary chat request; each job's cost_usd is its tokens at
// the catalogue's batch price of the chat model (to the micro-dollar its
// column keeps), the jobs' tokens are the provider's, and GET /v1/usage
// agrees; and each job's ledger is one reserve (charged once, never
// twice). It returns the USD GET /v1/usage records.
func checkBatchBilling(t *testing.T, h *apptest.Harness, tenantID int64, api pipelineAPI, acc apptest.Accepted,
	fake *fakeopenai.Server) float64 {
	t.Helper()
	ordinary := 0
	for _, r := range fake.Requests() {
		if r.Endpoint == fakeopenai.EndpointChat && r.Batch == "" {
			ordinary++
		}
	}
	if ordinary != 0 {
		t.Errorf("%d ordinary chat requests besides the batch; want every draft answered from its line", ordinary)
	}
	spent := fake.Spent()
	m, err := h.App.Store.FindModel(t.Context(), "openai", fakeChatModel, store.ModelKindChat)
	apptest.Must(t, err, "catalogue model")
	in, out := m.BatchInputPrice(), m.BatchOutputPrice()
	var jobsUSD float64
	var tokensIn, tokensOut int
	wrong := 0
	for _, j := range acc.Jobs {
		job := apptest.Job(t, h.App.Store, tenantID, j.ID)
		jobsUSD += job.CostUSD
		tokensIn, tokensOut = tokensIn+job.TokensIn, tokensOut+job.TokensOut
		want := (float64(job.TokensIn)*in + float64(job.TokensOut)*out) / 1e6
		if math.Abs(job.CostUSD-want) > microUSD/2 {
			if wrong++; wrong <= 3 {
				t.Errorf("job %s: cost $%.6f for %d in / %d out tokens; want $%.9f at the batch price %g / %g per million",
					j.ID, job.CostUSD, job.TokensIn, job.TokensOut, want, in, out)
			}
		}
	}
	chat := spent[fakeChatModel]
	if tokensIn != chat.PromptTokens || tokensOut != chat.CompletionTokens {
		t.Errorf("the jobs record %d in / %d out tokens, the provider served %d / %d", tokensIn, tokensOut,
			chat.PromptTokens, chat.CompletionTokens)
	}
	usageUSD := chatUSD(api.usageOnceRecorded(spent))
	if want := (float64(chat.PromptTokens)*in + float64(chat.CompletionTokens)*out) / 1e6; want <= 0 ||
		math.Abs(usageUSD-want) > float64(chat.Answers)*microUSD/2 || math.Abs(usageUSD-jobsUSD) > 1e-9 {
		t.Errorf("GET /v1/usage records $%.6f, the jobs $%.6f; want $%.6f, the provider's tokens at the batch price",
			usageUSD, jobsUSD, want)
	}
	entries := apptest.Ledger(t, h.App.Store, tenantID)
	charged := map[string]string{}
	for _, e := range entries {
		if e.JobID != nil {
			charged[*e.JobID] += fmt.Sprintf(" %s:%d", e.Kind, e.Delta)
		}
	}
	once := regexp.MustCompile(`^ reserve:-[1-9][0-9]*$`)
	for _, j := range acc.Jobs {
		if !once.MatchString(charged[j.ID]) {
			t.Errorf("job %s: ledger %q, want one reserve", j.ID, charged[j.ID])
		}
	}
	return usageUSD
}

// microUSD is the precision of a recorded cost (numeric(14, 6) USD): a
// recorded row is within half of it of its exact price.
const microUSD = 1e-6
