package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/ai/anthropic/fakeanthropic"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// TestRoutedDraftsFallBackWhenTheProviderFails routes the draft stage, in
// the model catalogue, to OpenAI's gpt-4o-mini with Anthropic's Claude
// Haiku as its fallback, both configured on the worker and both real
// clients against wire-level fakes. OpenAI fails half of the draft
// requests with a 500. Every draft job succeeds; OpenAI's circuit opens, so
// that the later drafts go to Anthropic without touching OpenAI; each job
// records the model that served it, and the jobs served by Claude are
// costed at the catalogue's price for it. The other stages, not routed,
// keep the worker's own model (OpenAI, not failing for them).
func TestRoutedDraftsFallBackWhenTheProviderFails(t *testing.T) {
	t.Parallel()
	oa := fakeopenai.New(t)
	oa.SetKey("sk-route")
	oa.SetContent(answerFromPrompt)
	var draftCalls atomic.Int32
	oa.SetFallback(func(w http.ResponseWriter, req *fakeopenai.Request) {
		if bytes.Contains(req.ResponseFormat, []byte(`"draft"`)) && draftCalls.Add(1)%2 == 0 {
			fakeopenai.ServerError()(w, req)
			return
		}
		oa.Normal(w, req)
	})
	var embedCalls atomic.Int32
	oaServer := openAIWithOfflineEmbeddings(t, oa, &embedCalls, nil)
	an := fakeanthropic.New(t)
	an.SetKey("sk-ant-route")
	an.SetContent(fakeanthropic.WriterContent(&fakeopenai.Writer{}))
	env := map[string]string{
		"OPENAI_API_KEY": "sk-route", "OPENAI_BASE_URL": oaServer.URL + "/v1", "OPENAI_MODEL": "gpt-4o-mini",
		"OPENAI_EMBEDDING_DIMENSIONS": "256", "ANTHROPIC_API_KEY": "sk-ant-route", "ANTHROPIC_BASE_URL": an.URL,
		"AI_TEXT_PROVIDER": "openai",
	}
	h := apptest.Start(t)
	opts, err := redis.ParseURL(h.Env["REDIS_URL"])
	apptest.Must(t, err, "redis URL")
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	models, err := providers.FromEnv(func(k string) string { return env[k] }, rdb, slog.New(slog.DiscardHandler))
	apptest.Must(t, err, "providers")

	ctx := t.Context()
	st := h.App.Store
	mini, err := st.FindModel(ctx, "openai", "gpt-4o-mini", store.ModelKindChat)
	apptest.Must(t, err, "catalogue gpt-4o-mini")
	on := true
	_, err = st.UpdateModel(ctx, mini.ID, store.ModelFields{Enabled: &on})
	apptest.Must(t, err, "enable gpt-4o-mini")
	prov, name, kind, display := "anthropic", "claude-haiku-4-5", store.ModelKindChat, "Claude Haiku 4.5"
	in, out := 1.0, 5.0
	claude, err := st.CreateModel(ctx, store.ModelFields{Provider: &prov, Model: &name, Kind: &kind, DisplayName: &display,
		Enabled: &on, PriceInputPerMTok: &in, PriceOutputPerMTok: &out})
	apptest.Must(t, err, "add Claude Haiku")
	_, err = st.SetRoute(ctx, store.StageRoute{Stage: "draft", ModelID: mini.ID, FallbackIDs: []int64{claude.ID}})
	apptest.Must(t, err, "route drafts")

	h.StartWorker(t, models)
	r, _ := startTenant(t, h, "routed", "Routed")
	sample, err := os.ReadFile("../../testdata/sample-keywords.csv")
	apptest.Must(t, err, "sample keywords")
	r.api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", r.site.ID), sample, nil, "Content-Type", "text/csv")
	r.cluster()
	var clusterIDs []int64
	for _, c := range r.clusters {
		clusterIDs = append(clusterIDs, c.ID)
	}
	var acc apptest.Accepted
	r.api.do(http.MethodPost, "/v1/ideas/generate", map[string]any{"cluster_ids": clusterIDs, "count": 5}, &acc)
	for _, j := range acc.Jobs {
		r.api.waitJob(j.ID)
	}
	var ideas []store.Idea
	r.api.listAll("/v1/ideas", &ideas)
	if len(ideas) < 30 {
		t.Fatalf("%d ideas, want at least 30", len(ideas))
	}
	ideas = ideas[:30]
	var ids []int64
	for _, i := range ideas {
		ids = append(ids, i.ID)
	}
	acc = apptest.Accepted{}
	r.api.do(http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": ids}, &acc)
	served := map[string]int{}
	for _, j := range acc.Jobs {
		job := r.api.waitJob(j.ID)
		model := apptest.Deref(job.Model)
		served[model]++
		if strings.HasPrefix(model, "claude") && job.CostUSD <= 0 {
			t.Errorf("job %s served by %s costs %v USD, want the catalogue's price", job.ID, model, job.CostUSD)
		}
	}
	if served["gpt-4o-mini"] == 0 || served["claude-haiku-4-5"] == 0 || len(served) != 2 {
		t.Errorf("drafts served by %v, want some by gpt-4o-mini and the rest by its fallback claude-haiku-4-5", served)
	}
	if n := draftCalls.Load(); n >= int32(len(ids))*2 {
		t.Errorf("OpenAI got %d draft requests for %d drafts: its circuit never opened", n, len(ids))
	}
	t.Logf("drafts served: %v; OpenAI draft requests %d, Anthropic requests %d", served, draftCalls.Load(), len(an.Requests()))
}

// TestChosenModelCostsItsMultiplier: a tenant chooses, for its drafts and
// ideas, a model the operator priced at 2 and 1.5 times the credits. Its
// draft jobs are quoted and charged twice the draft cost, its ideas 1.5
// times per idea kept, by request and by automation alike (the quote is
// where the multiplier applies); another tenant, without a choice, pays
// the base costs.
func TestChosenModelCostsItsMultiplier(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	ctx := t.Context()
	st := h.App.Store
	costs := h.App.Config.Costs
	prov, name, kind, display, on := "offline", "offline-writer-v1", store.ModelKindChat, "Offline writer, premium", true
	two, oneHalf := 2.0, 1.5
	// Two catalogue rows cannot share provider, model and kind: the
	// premium rows are the same offline writer under other names the
	// router serves as the offline model.
	premium, err := st.CreateModel(ctx, store.ModelFields{Provider: &prov, Model: ptrTo(name + "-premium"), Kind: &kind,
		DisplayName: &display, Enabled: &on, CreditMultiplier: &two})
	apptest.Must(t, err, "premium model")
	display2 := "Offline writer, plus"
	plus, err := st.CreateModel(ctx, store.ModelFields{Provider: &prov, Model: ptrTo(name + "-plus"), Kind: &kind,
		DisplayName: &display2, Enabled: &on, CreditMultiplier: &oneHalf})
	apptest.Must(t, err, "plus model")
	h.StartWorker(t)

	r, _ := startTenant(t, h, "premium", "Premium")
	r.api.do(http.MethodPut, "/v1/stage-models", map[string]any{"draft": premium.ID, "ideas": plus.ID}, nil)
	r.cluster()
	var acc apptest.Accepted
	r.api.do(http.MethodPost, "/v1/ideas/generate", map[string]any{"cluster_ids": []int64{r.clusters[0].ID}, "count": 3}, &acc)
	if want := plus.Credits(3 * costs.Idea); acc.CreditsQuoted != want {
		t.Errorf("ideas quoted %d, want %d (3 ideas at 1.5 times)", acc.CreditsQuoted, want)
	}
	ideasJob := r.api.waitJob(acc.Jobs[0].ID)
	var kept struct {
		Ideas int `json:"ideas"`
	}
	apptest.Must(t, json.Unmarshal(ideasJob.Result, &kept), "ideas result")
	if want := min(ideasJob.CreditsReserved, (ideasJob.CreditsQuoted*int64(kept.Ideas)+2)/3); ideasJob.CreditsCharged != want {
		t.Errorf("ideas job charged %d for %d ideas kept, want %d", ideasJob.CreditsCharged, kept.Ideas, want)
	}
	d := r.draft()
	if want := premium.Credits(costs.Draft); d.CreditsQuoted != want || d.CreditsCharged != want {
		t.Errorf("draft quoted %d and charged %d, want %d (twice the draft cost)", d.CreditsQuoted, d.CreditsCharged, want)
	}
	if apptest.Deref(d.Model) != "offline-writer-v1" {
		t.Errorf("draft served by %q, want the offline writer", apptest.Deref(d.Model))
	}

	other, _ := startTenant(t, h, "standard", "Standard")
	other.cluster()
	other.ideas()
	if d := other.draft(); d.CreditsCharged != costs.Draft {
		t.Errorf("a tenant without a choice paid %d for a draft, want %d", d.CreditsCharged, costs.Draft)
	}
}

func ptrTo[T any](v T) *T { return &v }
