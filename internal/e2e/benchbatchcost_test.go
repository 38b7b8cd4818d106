package e2e_test

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
)

// batchCostDrafts is how many drafts each mode of the batch cost row
// writes.
const batchCostDrafts = 200

// batchCost is what one run of the batch cost row spent.
type batchCost struct {
	drafts, failed int
	tokens         int // chat tokens the provider served, in and out
	usd            float64
}

func (c batchCost) usdPerDraft() float64 { return c.usd / float64(max(c.drafts, 1)) }

func (c batchCost) String() string {
	return fmt.Sprintf("$%.6f per article (%d drafts, %d failed, %.0f tokens per draft, $%.4f in all)",
		c.usdPerDraft(), c.drafts, c.failed, float64(c.tokens)/float64(max(c.drafts, 1)), c.usd)
}

// TestBenchBatchCost runs the batch cost row of make bench's table alone.
func TestBenchBatchCost(t *testing.T) {
	if os.Getenv("PRESSWORK_BENCH") == "" {
		t.Skip("a benchmark: make bench runs it in TestBenchTable (PRESSWORK_BENCH=1)")
	}
	fmt.Println(benchBatchCost(t, batchCostDrafts))
}

// benchBatchCost: USD per article at the catalogue's prices for the same
// workload, n drafts of about 1,200 words from the same seeded ideas
// through the OpenAI fake with the same answers, written the ordinary way
// and in batch mode (the fake's Batch API), and their ratio; the
// catalogue's default batch price is half the standard one.
func benchBatchCost(t *testing.T, n int) string {
	ordinary := runBatchCost(t, n, false)
	batch := runBatchCost(t, n, true)
	t.Logf("ordinary: %v; batch: %v", ordinary, batch)
	if ordinary.failed+batch.failed > 0 || ordinary.tokens != batch.tokens {
		t.Errorf("not the same workload: ordinary %v, batch %v (want no failure, the same tokens)", ordinary, batch)
	}
	return fmt.Sprintf("| cost per article, ordinary vs batch: %d drafts of ~1200 words from the same ideas through the OpenAI fake "+
		"(same answers; batch mode through its Batch API), USD at the catalogue's prices | batch: %v | ordinary: %v | "+
		"%.3f (batch / ordinary; catalogue default 0.5) |", n, batch, ordinary, batch.usdPerDraft()/ordinary.usdPerDraft())
}

// runBatchCost writes n drafts for a new tenant against a new fake, in
// batch mode if batch, and returns what they cost as recorded, checked
// against the provider's tokens at the catalogue's price of the mode.
func runBatchCost(t *testing.T, n int, batch bool) batchCost {
	fake := newFakeOpenAI(t)
	fake.SetContent((&fakeopenai.Writer{DraftWords: 1200}).Answer)
	slug, body := "batchcost-ordinary", map[string]any{}
	if batch {
		slug, body["mode"] = "batchcost-batch", "batch"
	}
	h, tk, api := startFakeOpenAISystem(t, fake, slug, int64(100*n))
	seed := apptest.SeedIdeas(t, h.App.Store, tk.Tenant.ID, n, "batchcost")
	ids := make([]int64, len(seed.Ideas))
	for i, idea := range seed.Ideas {
		ids[i] = idea.ID
	}
	body["idea_ids"] = ids
	var acc apptest.Accepted
	api.do(http.MethodPost, "/v1/drafts/generate", body, &acc)
	cost := batchCost{}
	if batch {
		runBatches(t, h, tk.Tenant.ID, fake, acc)
		cost.usd = checkBatchBilling(t, h, tk.Tenant.ID, api, acc, fake)
	} else {
		cost.failed = api.waitFinal(acc)
		cost.usd = checkOrdinaryBilling(t, h, api, fake)
	}
	chat := fake.Spent()[fakeChatModel]
	cost.tokens = chat.PromptTokens + chat.CompletionTokens
	cost.drafts = len(acc.Jobs) - cost.failed
	return cost
}

// runBatches queues provider batch passes until the fake holds a batch,
// has it run to its end, and queues passes until every job of acc has
// ended, none failed.
func runBatches(t *testing.T, h *apptest.Harness, tenantID int64, fake *fakeopenai.Server, acc apptest.Accepted) {
	t.Helper()
	client := asynq.NewClient(h.App.Redis)
	t.Cleanup(func() { _ = client.Close() })
	trigger := &jobs.AIBatchTrigger{Client: client, Log: slog.New(slog.DiscardHandler)}
	apptest.Eventually(t, time.Minute, "the provider batch is created", func() (bool, error) {
		return fake.BatchesCreated() > 0, trigger.Once(t.Context())
	})
	fake.ProcessBatches()
	apptest.Eventually(t, 3*time.Minute, "every batched draft is written", func() (bool, error) {
		for _, j := range acc.Jobs {
			got := apptest.Job(t, h.App.Store, tenantID, j.ID)
			if got.Final() && got.State != store.JobSucceeded {
				return false, fmt.Errorf("job %s ended %s: %s", j.ID, got.State, apptest.Deref(got.LastError))
			}
			if !got.Final() {
				return false, trigger.Once(t.Context())
			}
		}
		return true, nil
	})
}

// checkOrdinaryBilling checks that the usage recorded for the chat model
// is the tokens the provider served at the catalogue's standard price,
// and returns it.
func checkOrdinaryBilling(t *testing.T, h *apptest.Harness, api pipelineAPI, fake *fakeopenai.Server) float64 {
	t.Helper()
	spent := fake.Spent()
	m, err := h.App.Store.FindModel(t.Context(), "openai", fakeChatModel, store.ModelKindChat)
	apptest.Must(t, err, "catalogue model")
	chat := spent[fakeChatModel]
	want := (float64(chat.PromptTokens)*m.PriceInputPerMTok + float64(chat.CompletionTokens)*m.PriceOutputPerMTok) / 1e6
	got := chatUSD(api.usageOnceRecorded(spent))
	if want <= 0 || math.Abs(got-want) > float64(chat.Answers)*microUSD/2 {
		t.Errorf("GET /v1/usage reports $%.9f for %s; want $%.9f at the catalogue's price", got, fakeChatModel, want)
	}
	return got
}

// chatUSD is the USD a usage report records for the chat model.
func chatUSD(report usageReport) float64 {
	var usd float64
	for _, row := range report.Days {
		if row.Model == fakeChatModel {
			usd += row.CostUSD
		}
	}
	return usd
}
