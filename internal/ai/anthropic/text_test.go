package anthropic_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/anthropic"
	"github.com/presswork/presswork/internal/ai/anthropic/fakeanthropic"
	"github.com/presswork/presswork/internal/errs"
)

const goodClusterName = `{"name":"Trail shoes","description":"Shoes for trails."}`

// TestGenerateJSONForcedTool checks the request the SDK sends: one tool
// named after the schema with the schema as its input_schema, tool_choice
// naming it, the system prompt as a cached block, max_tokens and the key;
// and that the tool call's input is the answer.
func TestGenerateJSONForcedTool(t *testing.T) {
	s := fakeanthropic.New(t)
	s.SetKey(testKey)
	s.SetContent(func(*fakeanthropic.Request) string { return goodClusterName })
	req := clusterNameRequest()

	resp, err := newTextModel(t, testConfig(s)).GenerateJSON(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(jsonValue(t, []byte(goodClusterName)), jsonValue(t, resp.Content)); diff != "" || resp.Truncated || resp.Refusal != "" {
		t.Errorf("response %+v; content (-want +got):\n%s", resp, diff)
	}
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d, want 1", len(reqs))
	}
	got := reqs[0]
	if got.Path != "/v1/messages" || got.Model != "claude-haiku-4-5" || got.MaxTokens != 500 {
		t.Errorf("request: path %s model %s max_tokens %d", got.Path, got.Model, got.MaxTokens)
	}
	if got.System != req.System || !got.SystemCached {
		t.Errorf("system = %q, cached %v; want the system prompt with cache_control", got.System, got.SystemCached)
	}
	if diff := cmp.Diff([]fakeanthropic.Message{{Role: "user", Content: req.Prompt}}, got.Messages); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	if len(got.Tools) != 1 || got.Tools[0].Name != "cluster_name" || got.Tools[0].Strict {
		t.Fatalf("tools = %+v, want one non-strict tool named cluster_name", got.Tools)
	}
	if diff := cmp.Diff(jsonValue(t, req.Schema), jsonValue(t, got.Tools[0].InputSchema)); diff != "" {
		t.Errorf("input_schema (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"type": "tool", "name": "cluster_name"}, jsonValue(t, got.ToolChoice)); diff != "" {
		t.Errorf("tool_choice (-want +got):\n%s", diff)
	}
	if got.Header.Get("Authorization") != "Bearer "+testKey || got.Header.Get("anthropic-version") == "" {
		t.Errorf("headers: Authorization carries the key %v, anthropic-version %q",
			got.Header.Get("Authorization") == "Bearer "+testKey, got.Header.Get("anthropic-version"))
	}
}

func TestGenerateJSONRequestOptions(t *testing.T) {
	s := fakeanthropic.New(t)
	cfg := testConfig(s)
	cfg.StageModels = map[ai.Stage]string{ai.StageDraft: "claude-sonnet-4-6"}
	cfg.StrictTools = true
	m := newTextModel(t, cfg)
	for _, stage := range []ai.Stage{ai.StageClusterName, ai.StageDraft} {
		req := clusterNameRequest()
		req.Stage, req.MaxTokens, req.SchemaName = stage, 0, "a schema/name"
		if _, err := m.GenerateJSON(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	type call struct {
		Model     string
		MaxTokens int
		Tool      string
		Strict    bool
	}
	var got []call
	for _, r := range s.Requests() {
		got = append(got, call{r.Model, r.MaxTokens, r.ForcedTool(), r.Tools[0].Strict})
	}
	want := []call{
		{"claude-haiku-4-5", anthropic.DefaultMaxTokens, "a_schema_name", true},
		{"claude-sonnet-4-6", anthropic.DefaultMaxTokens, "a_schema_name", true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// TestGenerateJSONCacheTokens checks that the tokens written to and read
// from the prompt cache count as prompt tokens, each priced at its rate,
// and that the model is the one that answered.
func TestGenerateJSONCacheTokens(t *testing.T) {
	tests := []struct {
		name   string
		prices anthropic.Prices
		reply  fakeanthropic.Reply
		want   ai.Usage
	}{{
		name: "cache write, snapshot priced as its model",
		reply: fakeanthropic.Reply{Model: "claude-haiku-4-5-20251001", Input: "{}",
			InputTokens: 100, CacheCreation: 2000, OutputTokens: 50},
		want: ai.Usage{Model: "claude-haiku-4-5-20251001", PromptTokens: 2100, CompletionTokens: 50,
			CostUSD: (100*1 + 2000*1.25 + 50*5) / 1e6},
	}, {
		name:  "cache read",
		reply: fakeanthropic.Reply{Input: "{}", InputTokens: 100, CacheRead: 2000, OutputTokens: 50},
		want: ai.Usage{Model: "claude-haiku-4-5", PromptTokens: 2100, CompletionTokens: 50,
			CostUSD: (100*1 + 2000*0.10 + 50*5) / 1e6},
	}, {
		name:   "custom prices",
		prices: anthropic.Prices{"claude-haiku-4-5": {InputPerMillion: 1, OutputPerMillion: 2, CacheWritePerMillion: 3, CacheReadPerMillion: 4}},
		reply: fakeanthropic.Reply{Input: "{}", InputTokens: 1_000_000, CacheCreation: 1_000_000,
			CacheRead: 1_000_000, OutputTokens: 1_000_000},
		want: ai.Usage{Model: "claude-haiku-4-5", PromptTokens: 3_000_000, CompletionTokens: 1_000_000, CostUSD: 10},
	}, {
		name:   "unpriced answering model priced as the model asked for",
		reply:  fakeanthropic.Reply{Model: "claude-proxy-x", Input: "{}", InputTokens: 1_000_000, OutputTokens: 1_000_000},
		want:   ai.Usage{Model: "claude-proxy-x", PromptTokens: 1_000_000, CompletionTokens: 1_000_000, CostUSD: 6},
		prices: nil,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeanthropic.New(t)
			s.Push(fakeanthropic.Complete(tt.reply))
			cfg := testConfig(s)
			cfg.Prices = tt.prices
			resp, err := newTextModel(t, cfg).GenerateJSON(context.Background(), clusterNameRequest())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, resp.Usage, approx); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGenerateJSONPromptCache runs the same stage twice on the fake's
// simulated cache: the first call writes the system prompt and tool to the
// cache, the second reads them.
func TestGenerateJSONPromptCache(t *testing.T) {
	s := fakeanthropic.New(t)
	m := newTextModel(t, testConfig(s))
	var usages []ai.Usage
	for range 2 {
		resp, err := m.GenerateJSON(context.Background(), clusterNameRequest())
		if err != nil {
			t.Fatal(err)
		}
		usages = append(usages, resp.Usage)
	}
	if usages[0].PromptTokens != usages[1].PromptTokens || usages[0].PromptTokens == 0 {
		t.Errorf("prompt tokens %d then %d, want the same, cached or not", usages[0].PromptTokens, usages[1].PromptTokens)
	}
	if usages[1].CostUSD >= usages[0].CostUSD {
		t.Errorf("cost %g then %g, want the cache read cheaper than the cache write", usages[0].CostUSD, usages[1].CostUSD)
	}
}

func TestGenerateJSONIncompleteAnswers(t *testing.T) {
	tests := []struct {
		name     string
		behavior fakeanthropic.Behavior
		want     ai.JSONResponse
	}{{
		name:     "refusal with an explanation",
		behavior: fakeanthropic.Refusal("This request asks for harmful content."),
		want:     ai.JSONResponse{Refusal: "This request asks for harmful content."},
	}, {
		name:     "refusal with text only",
		behavior: fakeanthropic.Complete(fakeanthropic.Reply{StopReason: "refusal", Text: "I can't help with that."}),
		want:     ai.JSONResponse{Refusal: "I can't help with that."},
	}, {
		name:     "refusal without words",
		behavior: fakeanthropic.Refusal(""),
		want:     ai.JSONResponse{Refusal: "the model declined to answer"},
	}, {
		name:     "max_tokens",
		behavior: fakeanthropic.Truncated(`{"name":"Trail"}`),
		want:     ai.JSONResponse{Content: []byte(`{"name":"Trail"}`), Truncated: true},
	}, {
		name:     "context window exceeded",
		behavior: fakeanthropic.Complete(fakeanthropic.Reply{Input: `{"name":"Tr"}`, StopReason: "model_context_window_exceeded"}),
		want:     ai.JSONResponse{Content: []byte(`{"name":"Tr"}`), Truncated: true},
	}, {
		name:     "max_tokens before the tool call",
		behavior: fakeanthropic.Complete(fakeanthropic.Reply{Text: "Let me think", StopReason: "max_tokens"}),
		want:     ai.JSONResponse{Truncated: true},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeanthropic.New(t)
			s.Push(tt.behavior)
			resp, err := newTextModel(t, testConfig(s)).GenerateJSON(context.Background(), clusterNameRequest())
			if err != nil {
				t.Fatal(err)
			}
			if resp.Usage.PromptTokens == 0 {
				t.Errorf("usage = %+v, want the call's tokens", resp.Usage)
			}
			resp.Usage = ai.Usage{}
			if diff := cmp.Diff(tt.want, resp); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGenerateJSONNoToolUseIsRetryable(t *testing.T) {
	s := fakeanthropic.New(t)
	s.Push(fakeanthropic.NoToolUse("Sure! The cluster is about trail shoes."))
	resp, err := newTextModel(t, testConfig(s)).GenerateJSON(context.Background(), clusterNameRequest())
	if errorKind(err) != "retryable" || !strings.Contains(err.Error(), `no call of the tool "cluster_name"`) {
		t.Fatalf("err = %v, want a retryable error naming the tool", err)
	}
	if resp.Usage.PromptTokens == 0 {
		t.Errorf("usage = %+v, want the call's tokens", resp.Usage)
	}
}

func TestGenerateJSONBadSchemaIsPermanent(t *testing.T) {
	for name, schema := range map[string]string{"missing": "", "invalid": "{", "not an object": `{"type":"array"}`} {
		t.Run(name, func(t *testing.T) {
			s := fakeanthropic.New(t)
			req := clusterNameRequest()
			req.Schema = []byte(schema)
			_, err := newTextModel(t, testConfig(s)).GenerateJSON(context.Background(), req)
			if errorKind(err) != "permanent" {
				t.Fatalf("err = %v, want permanent", err)
			}
			if n := len(s.Requests()); n != 0 {
				t.Errorf("requests = %d, want none", n)
			}
		})
	}
}

// errorCase is one way a call can fail and how it must be classified.
type errorCase struct {
	name           string
	behavior       fakeanthropic.Behavior
	wantKind       string
	wantRetryAfter time.Duration
	wantStatus     int
	wantCode       string
	wantContains   []string
}

// clock is the fixed time of the classification tests.
var clock = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func errorCases() []errorCase {
	h := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	reset := func(d time.Duration) string { return clock.Add(d).Format(time.RFC3339) }
	return []errorCase{{
		name:     "429 retry-after seconds",
		behavior: fakeanthropic.RateLimited(h("retry-after", "7")),
		wantKind: "throttled", wantRetryAfter: 7 * time.Second, wantStatus: 429, wantCode: errs.CodeRateLimited,
		wantContains: []string{"rate_limit_error", "rate limited", "req_fake_1"},
	}, {
		name: "429 retry-after wins over the reset headers",
		behavior: fakeanthropic.RateLimited(h("retry-after", "3",
			"anthropic-ratelimit-requests-remaining", "0", "anthropic-ratelimit-requests-reset", reset(time.Minute))),
		wantKind: "throttled", wantRetryAfter: 3 * time.Second, wantStatus: 429,
	}, {
		name: "429 requests limit exhausted",
		behavior: fakeanthropic.RateLimited(h(
			"anthropic-ratelimit-requests-remaining", "0", "anthropic-ratelimit-requests-reset", reset(40*time.Second),
			"anthropic-ratelimit-tokens-remaining", "90000", "anthropic-ratelimit-tokens-reset", reset(2*time.Second))),
		wantKind: "throttled", wantRetryAfter: 40 * time.Second, wantStatus: 429,
	}, {
		name: "429 output tokens limit exhausted",
		behavior: fakeanthropic.RateLimited(h(
			"anthropic-ratelimit-requests-remaining", "49", "anthropic-ratelimit-requests-reset", reset(40*time.Second),
			"anthropic-ratelimit-output-tokens-remaining", "0", "anthropic-ratelimit-output-tokens-reset", reset(12*time.Second))),
		wantKind: "throttled", wantRetryAfter: 12 * time.Second, wantStatus: 429,
	}, {
		name: "429 resets without remaining counts",
		behavior: fakeanthropic.RateLimited(h(
			"anthropic-ratelimit-input-tokens-reset", reset(9*time.Second), "anthropic-ratelimit-tokens-reset", reset(20*time.Second))),
		wantKind: "throttled", wantRetryAfter: 20 * time.Second, wantStatus: 429,
	}, {
		name:     "429 reset in the past",
		behavior: fakeanthropic.RateLimited(h("anthropic-ratelimit-requests-reset", reset(-time.Hour))),
		wantKind: "throttled", wantRetryAfter: 0, wantStatus: 429,
	}, {
		name:     "429 without headers",
		behavior: fakeanthropic.RateLimited(nil),
		wantKind: "throttled", wantRetryAfter: 5 * time.Second, wantStatus: 429,
	}, {
		name:     "429 retry-after beyond the cap",
		behavior: fakeanthropic.RateLimited(h("retry-after", "1e30")),
		wantKind: "throttled", wantRetryAfter: 24 * time.Hour, wantStatus: 429,
	}, {
		name: "429 spend limit",
		behavior: fakeanthropic.ErrorWithCode(http.StatusTooManyRequests, "rate_limit_error", "enforced_spend_limit_reached",
			"You have reached your monthly usage threshold."),
		wantKind: "permanent", wantStatus: 429, wantCode: errs.CodeProviderRejected,
		wantContains: []string{"enforced_spend_limit_reached", "spend limit"},
	}, {
		name:     "529 overloaded",
		behavior: fakeanthropic.Overloaded(nil),
		wantKind: "throttled", wantRetryAfter: 5 * time.Second, wantStatus: 529, wantCode: errs.CodeRateLimited,
		wantContains: []string{"HTTP 529 overloaded_error", "overloaded"},
	}, {
		name:     "529 overloaded with retry-after",
		behavior: fakeanthropic.Overloaded(h("retry-after", "30")),
		wantKind: "throttled", wantRetryAfter: 30 * time.Second, wantStatus: 529,
	}, {
		name:     "500",
		behavior: fakeanthropic.ServerError(),
		wantKind: "retryable", wantStatus: 500, wantCode: errs.CodeProviderError,
		wantContains: []string{"HTTP 500 api_error", "server error"},
	}, {
		name:     "502 from a proxy, not JSON",
		behavior: fakeanthropic.Raw(http.StatusBadGateway, "<html><body>Bad gateway</body></html>"),
		wantKind: "retryable", wantStatus: 502,
	}, {
		name:     "408",
		behavior: fakeanthropic.Error(http.StatusRequestTimeout, "timeout_error", "Request timed out"),
		wantKind: "retryable", wantStatus: 408,
	}, {
		name:     "400",
		behavior: fakeanthropic.Error(http.StatusBadRequest, "invalid_request_error", "tools.0.input_schema: JSON schema is invalid"),
		wantKind: "permanent", wantStatus: 400, wantCode: errs.CodeProviderRejected,
		wantContains: []string{"HTTP 400 invalid_request_error", "input_schema: JSON schema is invalid"},
	}, {
		name:     "400 quoting the key",
		behavior: fakeanthropic.Error(http.StatusBadRequest, "invalid_request_error", "The key "+testKey+" may not be used here."),
		wantKind: "permanent", wantStatus: 400,
		wantContains: []string{"The key [redacted] may not be used here."},
	}, {
		name:     "400 credit balance",
		behavior: fakeanthropic.Error(http.StatusBadRequest, "invalid_request_error", "Your credit balance is too low to access the Anthropic API."),
		wantKind: "permanent", wantStatus: 400,
		wantContains: []string{"credit balance is too low"},
	}, {
		name:     "403",
		behavior: fakeanthropic.Error(http.StatusForbidden, "permission_error", "Your API key does not have permission to use the specified resource."),
		wantKind: "permanent", wantStatus: 403,
		wantContains: []string{"access denied"},
	}, {
		name:     "404 unknown model",
		behavior: fakeanthropic.Error(http.StatusNotFound, "not_found_error", "model: claude-9"),
		wantKind: "permanent", wantStatus: 404, wantCode: errs.CodeProviderRejected,
		wantContains: []string{"not_found_error", "check the model names (ANTHROPIC_MODEL*)", "model: claude-9"},
	}, {
		name:     "413",
		behavior: fakeanthropic.Error(http.StatusRequestEntityTooLarge, "request_too_large", "Request exceeds the maximum allowed number of bytes."),
		wantKind: "permanent", wantStatus: 413,
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
	var ae *anthropic.Error
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, not an *anthropic.Error", err)
	}
	if ae.StatusCode != tc.wantStatus {
		t.Errorf("status = %d, want %d", ae.StatusCode, tc.wantStatus)
	}
	if tc.wantCode != "" && errs.CodeOf(err) != tc.wantCode {
		t.Errorf("code = %s, want %s", errs.CodeOf(err), tc.wantCode)
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
			s := fakeanthropic.New(t)
			s.Push(tc.behavior)
			m := newTextModel(t, testConfig(s), anthropic.WithClock(func() time.Time { return clock }))
			resp, err := m.GenerateJSON(context.Background(), clusterNameRequest())
			checkErrorCase(t, tc, err)
			if resp.Content != nil {
				t.Errorf("content = %q with an error", resp.Content)
			}
			if n := len(s.Requests()); n != 1 {
				t.Errorf("requests = %d, want 1: the SDK must not retry", n)
			}
		})
	}
}

func TestGenerateJSONWrongKey(t *testing.T) {
	s := fakeanthropic.New(t)
	s.SetKey("sk-ant-the-right-one")
	_, err := newTextModel(t, testConfig(s)).GenerateJSON(context.Background(), clusterNameRequest())
	checkErrorCase(t, errorCase{
		wantKind: "permanent", wantStatus: 401, wantCode: errs.CodeProviderRejected,
		wantContains: []string{"authentication_error", "the API key was rejected; check ANTHROPIC_API_KEY"},
	}, err)
	var ae *anthropic.Error
	if errors.As(err, &ae) && (ae.Message != "" || !strings.Contains(ae.UserMessage(), "check ANTHROPIC_API_KEY")) {
		t.Errorf("message %q, user message %q: want no server text, and what to check", ae.Message, ae.UserMessage())
	}
}

func TestGenerateJSONTimeout(t *testing.T) {
	s := fakeanthropic.New(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	s.Push(fakeanthropic.Stall(release))
	cfg := testConfig(s)
	cfg.Timeout = 50 * time.Millisecond
	_, err := newTextModel(t, cfg).GenerateJSON(context.Background(), clusterNameRequest())
	if got := errorKind(err); got != "retryable" {
		t.Fatalf("err = %v: kind %s, want retryable", err, got)
	}
	if !strings.Contains(err.Error(), "no answer within 50ms (ANTHROPIC_TIMEOUT)") || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %q, want it to name ANTHROPIC_TIMEOUT and not be the job's own deadline", err)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("requests = %d, want 1: the SDK must not retry", n)
	}
}

func TestGenerateJSONConnectionRefused(t *testing.T) {
	s := fakeanthropic.New(t)
	cfg := testConfig(s)
	s.Close()
	_, err := newTextModel(t, cfg).GenerateJSON(context.Background(), clusterNameRequest())
	if got := errorKind(err); got != "retryable" {
		t.Fatalf("err = %v: kind %s, want retryable", err, got)
	}
	if !strings.Contains(err.Error(), "connection failed") {
		t.Errorf("err = %q", err)
	}
}

func TestGenerateJSONContextCancelled(t *testing.T) {
	t.Run("before the call", func(t *testing.T) {
		s := fakeanthropic.New(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := newTextModel(t, testConfig(s)).GenerateJSON(ctx, clusterNameRequest())
		if !errors.Is(err, context.Canceled) || errorKind(err) != "retryable" {
			t.Fatalf("err = %v, want context.Canceled, unclassified", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		s := fakeanthropic.New(t)
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		s.Push(fakeanthropic.Stall(release))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := newTextModel(t, testConfig(s)).GenerateJSON(ctx, clusterNameRequest())
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
		if strings.Contains(err.Error(), "ANTHROPIC_TIMEOUT") {
			t.Errorf("err = %q blames ANTHROPIC_TIMEOUT for the caller's deadline", err)
		}
	})
}

func TestNameAndInvalidConfig(t *testing.T) {
	s := fakeanthropic.New(t)
	if got := newTextModel(t, testConfig(s)).Name(); got != "anthropic/claude-haiku-4-5" {
		t.Errorf("Name = %q", got)
	}
	if _, err := anthropic.NewTextModel(anthropic.Config{}); err == nil {
		t.Error("NewTextModel(Config{}) succeeded")
	}
}

// TestSDKReadsNoEnvironment: the SDK's own environment variables change
// nothing; the configuration is the only source of the key and the URL.
func TestSDKReadsNoEnvironment(t *testing.T) {
	s := fakeanthropic.New(t)
	s.SetKey(testKey)
	t.Setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:1")
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-from-the-environment")
	t.Setenv("ANTHROPIC_AUTH_TOKEN", "token-from-the-environment")
	t.Setenv("ANTHROPIC_CUSTOM_HEADERS", "X-Injected: yes")
	if _, err := newTextModel(t, testConfig(s)).GenerateJSON(context.Background(), clusterNameRequest()); err != nil {
		t.Fatal(err)
	}
	if h := s.Requests()[0].Header; h.Get("X-Injected") != "" || h.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("headers %v: want only the configured key", h)
	}
}
