package openai_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/errs"
)

func TestGenerateJSONRequestShape(t *testing.T) {
	s := fakeopenai.New(t)
	s.SetKey(testKey)
	s.SetContent(func(*fakeopenai.Request) string { return `{"name":"Trail shoes","description":"Shoes."}` })
	m := newTextModel(t, testConfig(s))
	req := clusterNameRequest(t)

	resp, err := m.GenerateJSON(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Content) != `{"name":"Trail shoes","description":"Shoes."}` || resp.Truncated || resp.Refusal != "" {
		t.Errorf("response = %+v", resp)
	}
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d, want 1", len(reqs))
	}
	got := reqs[0]
	if got.Path != "/v1/chat/completions" || got.Model != "gpt-4o-mini" || got.MaxCompletionTokens != 500 || got.MaxTokens != 0 {
		t.Errorf("request: path %s model %s max_completion_tokens %d max_tokens %d",
			got.Path, got.Model, got.MaxCompletionTokens, got.MaxTokens)
	}
	wantMessages := []fakeopenai.Message{{Role: "system", Content: req.System}, {Role: "user", Content: req.Prompt}}
	if diff := cmp.Diff(wantMessages, got.Messages); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	wantFormat := map[string]any{
		"type": "json_schema",
		"json_schema": map[string]any{
			"name":   "cluster_name",
			"strict": true,
			"schema": jsonValue(t, req.Schema),
		},
	}
	if diff := cmp.Diff(any(wantFormat), jsonValue(t, got.ResponseFormat)); diff != "" {
		t.Errorf("response_format (-want +got):\n%s", diff)
	}
	if h := got.Header.Get("Authorization"); h != "Bearer "+testKey {
		t.Errorf("Authorization = %q", h)
	}
}

func TestGenerateJSONModelPerStage(t *testing.T) {
	s := fakeopenai.New(t)
	cfg := testConfig(s)
	cfg.StageModels = map[ai.Stage]string{ai.StageDraft: "gpt-4.1-mini", ai.StageIdeas: "gpt-4o"}
	m := newTextModel(t, cfg)
	for _, stage := range []ai.Stage{ai.StageClusterName, ai.StageIdeas, ai.StageDraft} {
		req := clusterNameRequest(t)
		req.Stage = stage
		if _, err := m.GenerateJSON(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, r := range s.Requests() {
		got = append(got, r.Model)
	}
	if diff := cmp.Diff([]string{"gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"}, got); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
}

func TestGenerateJSONUsageAndCost(t *testing.T) {
	tests := []struct {
		name   string
		prices openai.Prices
		answer fakeopenai.Completion
		want   ai.Usage
	}{{
		name:   "dated snapshot priced as its model",
		answer: fakeopenai.Completion{Model: "gpt-4o-mini-2024-07-18", Content: "{}", PromptTokens: 1000, CompletionTokens: 500},
		want: ai.Usage{Model: "gpt-4o-mini-2024-07-18", PromptTokens: 1000, CompletionTokens: 500,
			CostUSD: 1000*0.15/1e6 + 500*0.60/1e6},
	}, {
		name:   "custom price table",
		prices: openai.Prices{"gpt-4o-mini": {PromptPerMillion: 1, CompletionPerMillion: 2}},
		answer: fakeopenai.Completion{Content: "{}", PromptTokens: 2_000_000, CompletionTokens: 1_000_000},
		want:   ai.Usage{Model: "gpt-4o-mini", PromptTokens: 2_000_000, CompletionTokens: 1_000_000, CostUSD: 4},
	}, {
		name:   "unpriced answering model priced as the model asked for",
		answer: fakeopenai.Completion{Model: "llama-3-70b", Content: "{}", PromptTokens: 1_000_000, CompletionTokens: 1_000_000},
		want:   ai.Usage{Model: "llama-3-70b", PromptTokens: 1_000_000, CompletionTokens: 1_000_000, CostUSD: 0.75},
	}, {
		name:   "no price at all costs nothing",
		prices: openai.Prices{},
		answer: fakeopenai.Completion{Content: "{}", PromptTokens: 10, CompletionTokens: 10},
		want:   ai.Usage{Model: "gpt-4o-mini", PromptTokens: 10, CompletionTokens: 10},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeopenai.New(t)
			s.Push(fakeopenai.Complete(tt.answer))
			cfg := testConfig(s)
			cfg.Prices = tt.prices
			resp, err := newTextModel(t, cfg).GenerateJSON(context.Background(), clusterNameRequest(t))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, resp.Usage, approx); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGenerateJSONIncompleteAnswers(t *testing.T) {
	tests := []struct {
		name     string
		behavior fakeopenai.Behavior
		want     ai.JSONResponse
	}{{
		name:     "refusal",
		behavior: fakeopenai.Refusal("I can't help with that."),
		want:     ai.JSONResponse{Content: []byte{}, Refusal: "I can't help with that."},
	}, {
		name:     "finish_reason length",
		behavior: fakeopenai.Truncated(`{"name":"Trail`),
		want:     ai.JSONResponse{Content: []byte(`{"name":"Trail`), Truncated: true},
	}, {
		name:     "invalid JSON is returned for the caller to check",
		behavior: fakeopenai.InvalidJSON(),
		want:     ai.JSONResponse{Content: []byte("Sure! Here is the JSON you asked for:")},
	}, {
		name:     "content filter",
		behavior: fakeopenai.Complete(fakeopenai.Completion{FinishReason: "content_filter"}),
		want:     ai.JSONResponse{Content: []byte{}, Refusal: "the answer was withheld by the content filter"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeopenai.New(t)
			s.Push(tt.behavior)
			resp, err := newTextModel(t, testConfig(s)).GenerateJSON(context.Background(), clusterNameRequest(t))
			if err != nil {
				t.Fatal(err)
			}
			resp.Usage = ai.Usage{}
			if diff := cmp.Diff(tt.want, resp); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGenerateJSONMissingSchemaIsPermanent(t *testing.T) {
	s := fakeopenai.New(t)
	req := clusterNameRequest(t)
	req.Schema = nil
	_, err := newTextModel(t, testConfig(s)).GenerateJSON(context.Background(), req)
	if errorKind(err) != "permanent" {
		t.Fatalf("err = %v, want permanent", err)
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("requests = %d, want none", n)
	}
}

// errorCase is one way a call can fail and how it must be classified.
type errorCase struct {
	name           string
	behavior       fakeopenai.Behavior
	wantKind       string
	wantRetryAfter time.Duration
	wantStatus     int
	wantContains   []string
}

// clock is the fixed time of the classification tests.
var clock = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func errorCases() []errorCase {
	h := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	return []errorCase{{
		name:     "429 Retry-After seconds",
		behavior: fakeopenai.RateLimited(h("Retry-After", "7")),
		wantKind: "throttled", wantRetryAfter: 7 * time.Second, wantStatus: 429,
		wantContains: []string{"rate_limit_exceeded", "rate limited", "req_fake_1"},
	}, {
		name:     "429 Retry-After HTTP date",
		behavior: fakeopenai.RateLimited(h("Retry-After", clock.Add(90*time.Second).Format(http.TimeFormat))),
		wantKind: "throttled", wantRetryAfter: 90 * time.Second, wantStatus: 429,
	}, {
		name:     "429 Retry-After date in the past",
		behavior: fakeopenai.RateLimited(h("Retry-After", clock.Add(-time.Hour).Format(http.TimeFormat))),
		wantKind: "throttled", wantRetryAfter: 0, wantStatus: 429,
	}, {
		name:     "429 retry-after-ms",
		behavior: fakeopenai.RateLimited(h("retry-after-ms", "1500", "Retry-After", "2")),
		wantKind: "throttled", wantRetryAfter: 1500 * time.Millisecond, wantStatus: 429,
	}, {
		name: "429 requests limit exhausted",
		behavior: fakeopenai.RateLimited(h(
			"x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "6m0s",
			"x-ratelimit-remaining-tokens", "150000", "x-ratelimit-reset-tokens", "20ms")),
		wantKind: "throttled", wantRetryAfter: 6 * time.Minute, wantStatus: 429,
	}, {
		name: "429 tokens limit exhausted",
		behavior: fakeopenai.RateLimited(h(
			"x-ratelimit-remaining-requests", "499", "x-ratelimit-reset-requests", "6m0s",
			"x-ratelimit-remaining-tokens", "0", "x-ratelimit-reset-tokens", "20ms")),
		wantKind: "throttled", wantRetryAfter: 20 * time.Millisecond, wantStatus: 429,
	}, {
		name:     "429 reset without remaining counts",
		behavior: fakeopenai.RateLimited(h("x-ratelimit-reset-requests", "1s", "x-ratelimit-reset-tokens", "1m30.5s")),
		wantKind: "throttled", wantRetryAfter: 90*time.Second + 500*time.Millisecond, wantStatus: 429,
	}, {
		name:     "429 Retry-After beyond the cap",
		behavior: fakeopenai.RateLimited(h("Retry-After", "1e30")),
		wantKind: "throttled", wantRetryAfter: 24 * time.Hour, wantStatus: 429,
	}, {
		name:     "429 without headers",
		behavior: fakeopenai.RateLimited(nil),
		wantKind: "throttled", wantRetryAfter: 5 * time.Second, wantStatus: 429,
	}, {
		name:     "429 insufficient_quota",
		behavior: fakeopenai.InsufficientQuota(),
		wantKind: "permanent", wantStatus: 429,
		wantContains: []string{"insufficient_quota", "no quota left", "billing"},
	}, {
		name:         "500",
		behavior:     fakeopenai.ServerError(),
		wantKind:     "retryable",
		wantStatus:   500,
		wantContains: []string{"HTTP 500", "server error"},
	}, {
		name:       "502 from a proxy, not JSON",
		behavior:   fakeopenai.Raw(http.StatusBadGateway, "<html><body>Bad gateway</body></html>"),
		wantKind:   "retryable",
		wantStatus: 502,
	}, {
		name:       "503",
		behavior:   fakeopenai.Error(http.StatusServiceUnavailable, "server_error", "", "Overloaded"),
		wantKind:   "retryable",
		wantStatus: 503,
	}, {
		name:       "408",
		behavior:   fakeopenai.Error(http.StatusRequestTimeout, "timeout", "", "Request timed out."),
		wantKind:   "retryable",
		wantStatus: 408,
	}, {
		name: "400",
		behavior: fakeopenai.Error(http.StatusBadRequest, "invalid_request_error", "invalid_value",
			"Invalid schema for response_format 'cluster_name'."),
		wantKind: "permanent", wantStatus: 400,
		wantContains: []string{"HTTP 400 invalid_value", "Invalid schema for response_format"},
	}, {
		name: "400 quoting the key",
		behavior: fakeopenai.Error(http.StatusBadRequest, "invalid_request_error", "",
			"The key "+testKey+" may not be used here."),
		wantKind: "permanent", wantStatus: 400,
		wantContains: []string{"The key [redacted] may not be used here."},
	}, {
		name:     "403",
		behavior: fakeopenai.Error(http.StatusForbidden, "invalid_request_error", "unsupported_country_region_territory", "Country not supported."),
		wantKind: "permanent", wantStatus: 403,
	}, {
		name: "404",
		behavior: fakeopenai.Error(http.StatusNotFound, "invalid_request_error", "model_not_found",
			"The model `gpt-9` does not exist or you do not have access to it."),
		wantKind: "permanent", wantStatus: 404,
		wantContains: []string{"model_not_found", "OPENAI_MODEL"},
	}}
}

// checkErrorCase checks err against tc and that it never carries the key.
func checkErrorCase(t *testing.T, tc errorCase, err error) {
	t.Helper()
	if got := errorKind(err); got != tc.wantKind {
		t.Fatalf("err = %v: kind %s, want %s", err, got, tc.wantKind)
	}
	var te *errs.ThrottledError
	if errors.As(err, &te) && te.RetryAfter != tc.wantRetryAfter {
		t.Errorf("RetryAfter = %s, want %s", te.RetryAfter, tc.wantRetryAfter)
	}
	var oe *openai.Error
	if !errors.As(err, &oe) {
		t.Fatalf("err = %v, not an *openai.Error", err)
	}
	if oe.StatusCode != tc.wantStatus {
		t.Errorf("status = %d, want %d", oe.StatusCode, tc.wantStatus)
	}
	for _, s := range tc.wantContains {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("err = %q, want it to contain %q", err, s)
		}
	}
	if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "TESTkey") {
		t.Errorf("err = %q contains the key", err)
	}
}

func TestGenerateJSONErrors(t *testing.T) {
	for _, tc := range errorCases() {
		t.Run(tc.name, func(t *testing.T) {
			s := fakeopenai.New(t)
			s.Push(tc.behavior)
			m := newTextModel(t, testConfig(s), openai.WithClock(func() time.Time { return clock }))
			resp, err := m.GenerateJSON(context.Background(), clusterNameRequest(t))
			checkErrorCase(t, tc, err)
			if resp.Content != nil {
				t.Errorf("content = %q with an error", resp.Content)
			}
		})
	}
}

func TestGenerateJSONWrongKey(t *testing.T) {
	s := fakeopenai.New(t)
	s.SetKey("sk-the-right-one")
	_, err := newTextModel(t, testConfig(s)).GenerateJSON(context.Background(), clusterNameRequest(t))
	checkErrorCase(t, errorCase{
		wantKind: "permanent", wantStatus: 401,
		wantContains: []string{"invalid_api_key", "the API key was rejected; check OPENAI_API_KEY"},
	}, err)

	// A key from elsewhere is named as its KeySource says.
	cfg := testConfig(s)
	cfg.KeySource = "the tenant's OpenAI key"
	_, err = newTextModel(t, cfg).GenerateJSON(context.Background(), clusterNameRequest(t))
	checkErrorCase(t, errorCase{
		wantKind: "permanent", wantStatus: 401,
		wantContains: []string{"the API key was rejected; check the tenant's OpenAI key"},
	}, err)
}

func TestGenerateJSONTimeout(t *testing.T) {
	s := fakeopenai.New(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	s.Push(fakeopenai.Stall(release))
	cfg := testConfig(s)
	cfg.Timeout = 50 * time.Millisecond
	_, err := newTextModel(t, cfg).GenerateJSON(context.Background(), clusterNameRequest(t))
	if got := errorKind(err); got != "retryable" {
		t.Fatalf("err = %v: kind %s, want retryable", err, got)
	}
	if !strings.Contains(err.Error(), "no answer within 50ms (OPENAI_TIMEOUT)") {
		t.Errorf("err = %q", err)
	}
}

func TestGenerateJSONConnectionRefused(t *testing.T) {
	s := fakeopenai.New(t)
	cfg := testConfig(s)
	s.Close()
	_, err := newTextModel(t, cfg).GenerateJSON(context.Background(), clusterNameRequest(t))
	if got := errorKind(err); got != "retryable" {
		t.Fatalf("err = %v: kind %s, want retryable", err, got)
	}
	if !strings.Contains(err.Error(), "connection failed") {
		t.Errorf("err = %q", err)
	}
}

func TestGenerateJSONContextCancelled(t *testing.T) {
	t.Run("before the call", func(t *testing.T) {
		s := fakeopenai.New(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := newTextModel(t, testConfig(s)).GenerateJSON(ctx, clusterNameRequest(t))
		if !errors.Is(err, context.Canceled) || errorKind(err) != "retryable" {
			t.Fatalf("err = %v, want context.Canceled, unclassified", err)
		}
	})
	t.Run("while waiting", func(t *testing.T) {
		s := fakeopenai.New(t)
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stall := fakeopenai.Stall(release)
		s.Push(func(w http.ResponseWriter, req *fakeopenai.Request) {
			cancel()
			stall(w, req)
		})
		_, err := newTextModel(t, testConfig(s)).GenerateJSON(ctx, clusterNameRequest(t))
		if !errors.Is(err, context.Canceled) || errorKind(err) != "retryable" {
			t.Fatalf("err = %v, want context.Canceled, unclassified", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		s := fakeopenai.New(t)
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		s.Push(fakeopenai.Stall(release))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := newTextModel(t, testConfig(s)).GenerateJSON(ctx, clusterNameRequest(t))
		if !errors.Is(err, context.DeadlineExceeded) || errorKind(err) != "retryable" {
			t.Fatalf("err = %v, want context.DeadlineExceeded, unclassified", err)
		}
		if strings.Contains(err.Error(), "OPENAI_TIMEOUT") {
			t.Errorf("err = %q blames OPENAI_TIMEOUT for the caller's deadline", err)
		}
	})
}

func TestAzure(t *testing.T) {
	s := fakeopenai.New(t)
	s.SetKey(testKey)
	cfg := openai.Config{
		APIKey:              testKey,
		APIType:             openai.APITypeAzure,
		AzureEndpoint:       s.URL,
		APIVersion:          "2024-10-21",
		AzureDeployments:    map[string]string{"gpt-4o-mini": "mini-prod", "text-embedding-3-small": "emb"},
		Model:               "gpt-4o-mini",
		StageModels:         map[ai.Stage]string{ai.StageDraft: "gpt-4o:latest"},
		EmbeddingModel:      "text-embedding-3-small",
		EmbeddingDimensions: testDims,
		Timeout:             10 * time.Second,
	}
	m := newTextModel(t, cfg)
	if got := m.Name(); got != "azure-openai/gpt-4o-mini" {
		t.Errorf("Name = %q", got)
	}
	for _, stage := range []ai.Stage{ai.StageClusterName, ai.StageDraft} {
		req := clusterNameRequest(t)
		req.Stage = stage
		if _, err := m.GenerateJSON(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := newEmbedder(t, cfg).Embed(context.Background(), []string{"trail shoes"}); err != nil {
		t.Fatal(err)
	}
	type call struct{ Path, Deployment, APIVersion, APIKey, Authorization string }
	var got []call
	for _, r := range s.Requests() {
		got = append(got, call{r.Path, r.Deployment, r.APIVersion, r.Header.Get("api-key"), r.Header.Get("Authorization")})
	}
	want := []call{
		{"/openai/deployments/mini-prod/chat/completions", "mini-prod", "2024-10-21", testKey, ""},
		// Unmapped models use go-openai's default mapping (":" removed).
		{"/openai/deployments/gpt-4olatest/chat/completions", "gpt-4olatest", "2024-10-21", testKey, ""},
		{"/openai/deployments/emb/embeddings", "emb", "2024-10-21", testKey, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Azure calls (-want +got):\n%s", diff)
	}
}

func TestNames(t *testing.T) {
	s := fakeopenai.New(t)
	cfg := testConfig(s)
	if got := newTextModel(t, cfg).Name(); got != "openai-compatible/gpt-4o-mini" {
		t.Errorf("TextModel.Name = %q", got)
	}
	e := newEmbedder(t, cfg)
	if e.Name() != "openai-compatible/text-embedding-3-small" || e.Dimensions() != testDims {
		t.Errorf("Embedder: Name %q, Dimensions %d", e.Name(), e.Dimensions())
	}
	cfg.BaseURL = openai.DefaultBaseURL
	if got := newTextModel(t, cfg).Name(); got != "openai/gpt-4o-mini" {
		t.Errorf("TextModel.Name = %q", got)
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	if _, err := openai.NewTextModel(openai.Config{}); err == nil {
		t.Error("NewTextModel(Config{}) succeeded")
	}
	if _, err := openai.NewEmbedder(openai.Config{}); err == nil {
		t.Error("NewEmbedder(Config{}) succeeded")
	}
}
