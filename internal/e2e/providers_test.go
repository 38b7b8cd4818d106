package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// TestPipelineWithOpenAIProvider runs clustering, ideas and a draft through
// the real API and worker with the providers chosen by OPENAI_API_KEY and
// OPENAI_BASE_URL, against a server speaking OpenAI's wire format: the
// same code path a real key takes. The chat answers are written by the
// test from the prompts; the embeddings are the offline embedder's vectors
// served as OpenAI embeddings, so that clustering has real structure.
func TestPipelineWithOpenAIProvider(t *testing.T) {
	t.Parallel()
	fake := fakeopenai.New(t)
	fake.SetKey("sk-fake-key")
	fake.SetContent(answerFromPrompt)
	var embedCalls atomic.Int32
	server := openAIWithOfflineEmbeddings(t, fake, &embedCalls, nil)
	env := map[string]string{
		"OPENAI_API_KEY":              "sk-fake-key",
		"OPENAI_BASE_URL":             server.URL + "/v1",
		"OPENAI_MODEL":                "gpt-4o-mini",
		"OPENAI_EMBEDDING_DIMENSIONS": "256",
		"AI_LIMITS":                   "openai-compatible/gpt-4o-mini=600rpm/1000000tpm",
	}
	h := apptest.Start(t)
	opts, err := redis.ParseURL(h.Env["REDIS_URL"])
	apptest.Must(t, err, "redis URL")
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	models, err := providers.FromEnv(func(k string) string { return env[k] }, rdb, slog.New(slog.DiscardHandler))
	apptest.Must(t, err, "providers")
	// The first chat call is throttled: the shared limiter pauses and retries
	// it, and the job does not fail.
	fake.Push(fakeopenai.RateLimited(http.Header{"Retry-After-Ms": {"30"}}))

	h.StartWorker(t, models)
	_, c := h.Tenant(t, "openai", 500)
	api := pipelineAPI{t: t, c: c}

	var site store.Site
	api.do(http.MethodPost, "/v1/sites", map[string]string{"name": "Trail Kitchen",
		"url": "https://trail.example.com", "username": "editor", "application_password": "abcd efgh ijkl mnop"}, &site)
	api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", site.ID), []byte(providerTestKeywords), nil,
		"Content-Type", "text/csv")

	var acc apptest.Accepted
	api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/clustering", site.ID), nil, &acc)
	clusterJob := api.waitJob(acc.Jobs[0].ID)
	if embedCalls.Load() == 0 {
		t.Fatal("clustering did not call the embeddings endpoint")
	}
	checkUsage(t, clusterJob)
	var clusters []store.Cluster
	api.listAll(fmt.Sprintf("/v1/sites/%d/clusters", site.ID), &clusters)
	if len(clusters) < 2 {
		t.Fatalf("got %d clusters, want at least 2", len(clusters))
	}

	acc = apptest.Accepted{}
	api.do(http.MethodPost, "/v1/ideas/generate", map[string]any{"cluster_ids": []int64{clusters[0].ID}, "count": 2}, &acc)
	checkUsage(t, api.waitJob(acc.Jobs[0].ID))
	var ideas []store.Idea
	api.listAll(fmt.Sprintf("/v1/ideas?cluster_id=%d", clusters[0].ID), &ideas)
	if len(ideas) != 2 {
		t.Fatalf("got %d ideas, want 2", len(ideas))
	}

	acc = apptest.Accepted{}
	api.do(http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": []int64{ideas[0].ID}}, &acc)
	checkUsage(t, api.waitJob(acc.Jobs[0].ID))
	var drafts []store.Draft
	api.listAll("/v1/drafts", &drafts)
	if n := len(fake.Requests()); n < 4 {
		t.Errorf("the provider got %d requests, want the throttled one and its retry among them", n)
	}
	if len(drafts) != 1 {
		t.Fatalf("got %d drafts, want 1", len(drafts))
	}
	var draft store.Draft
	api.do(http.MethodGet, fmt.Sprintf("/v1/drafts/%d", drafts[0].ID), nil, &draft)
	checkDraft(t, draft, ideas[0])

	for _, r := range fake.Requests() {
		if r.Endpoint != fakeopenai.EndpointChat {
			continue
		}
		var format struct {
			Type       string `json:"type"`
			JSONSchema struct {
				Strict bool `json:"strict"`
			} `json:"json_schema"`
		}
		if err := json.Unmarshal(r.ResponseFormat, &format); err != nil || format.Type != "json_schema" || !format.JSONSchema.Strict {
			t.Errorf("chat request without a strict JSON schema: %s", r.ResponseFormat)
		}
	}
}

// checkUsage checks that a job recorded the model that answered, its
// tokens and a cost from the price table.
func checkUsage(t *testing.T, j store.Job) {
	t.Helper()
	if j.Model == nil || !strings.HasPrefix(*j.Model, "gpt-4o-mini") || j.TokensIn == 0 || j.CostUSD <= 0 {
		t.Errorf("job %s (%s) recorded model %v, %d tokens in, %d out, %v USD; want gpt-4o-mini, tokens and a cost",
			j.ID, j.Type, apptest.Deref(j.Model), j.TokensIn, j.TokensOut, j.CostUSD)
	}
}

const providerTestKeywords = `phrase,volume
trail running shoes,1200
best trail running shoes,900
trail running shoes for women,700
waterproof trail running shoes,400
cheap trail running shoes,300
trail running shoes for beginners,250
sourdough bread recipe,5000
easy sourdough bread recipe,2000
sourdough bread starter,1800
whole wheat sourdough bread,600
sourdough bread without starter,500
sourdough bread recipe for beginners,450
`

// openAIWithOfflineEmbeddings serves OpenAI's embeddings endpoint from the
// offline embedder (so that clustering has structure) and passes every other
// request to fake. With key, the embeddings answer only that key (the value
// it holds at the time), as the real API does.
func openAIWithOfflineEmbeddings(t *testing.T, fake *fakeopenai.Server, calls *atomic.Int32, key *atomic.Value) *httptest.Server {
	t.Helper()
	target, err := url.Parse(fake.URL)
	apptest.Must(t, err, "fake URL")
	proxy := httputil.NewSingleHostReverseProxy(target)
	mux := http.NewServeMux()
	mux.Handle("/", proxy)
	mux.HandleFunc("POST /v1/embeddings", func(w http.ResponseWriter, r *http.Request) {
		if key != nil && r.Header.Get("Authorization") != "Bearer "+key.Load().(string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)
			return
		}
		calls.Add(1)
		var req struct {
			Input      []string `json:"input"`
			Model      string   `json:"model"`
			Dimensions int      `json:"dimensions"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// The dimensions asked for, as the real API answers.
		vectors, _, err := offline.NewEmbedder(req.Dimensions).Embed(r.Context(), req.Input)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		data := make([]map[string]any, len(vectors))
		for i, v := range vectors {
			data[i] = map[string]any{"object": "embedding", "index": i, "embedding": v}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "model": req.Model, "data": data,
			"usage": map[string]int{"prompt_tokens": 10 * len(vectors), "total_tokens": 10 * len(vectors)}})
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// answerFromPrompt writes a valid answer for each stage from what its
// prompt says, the way a model would.
var answerFromPrompt = (&fakeopenai.Writer{}).Answer
