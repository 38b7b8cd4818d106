package e2e_test

import (
	"bytes"
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
