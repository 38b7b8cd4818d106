package limited_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/limited"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/ratelimit"
	"github.com/presswork/presswork/internal/testenv"
)

// The fake's server is not the OpenAI API, so the models are named
// "openai-compatible/...".
const (
	textKey  = "openai-compatible/gpt-4o-mini"
	draftKey = "openai-compatible/gpt-4o"
	embedKey = "openai-compatible/text-embedding-3-small"
)

type testBundle struct {
	fake *fakeopenai.Server
	cfg  openai.Config
	// lims are limiters with clients of their own, as worker processes
	// would have.
	lims []*ratelimit.Limiter
	rdb  *redis.Client
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	url := testenv.RedisURL(t)
	b := &testBundle{fake: fakeopenai.New(t)}
	b.cfg = openai.Config{
		APIKey:              "sk-test",
		BaseURL:             b.fake.BaseURL(),
		Model:               "gpt-4o-mini",
		StageModels:         map[ai.Stage]string{ai.StageDraft: "gpt-4o"},
		EmbeddingModel:      "text-embedding-3-small",
		EmbeddingDimensions: 8,
		Timeout:             10 * time.Second,
	}
	for range 2 {
		opts, err := redis.ParseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		c := redis.NewClient(opts)
		t.Cleanup(func() { c.Close() })
		b.rdb = c
		b.lims = append(b.lims, ratelimit.New(c, "presswork:ratelimit"))
	}
	return b
}

// text returns the provider's text model wrapped for process i.
func (b *testBundle) text(t *testing.T, i int, limits map[string]ratelimit.Limits, opts ...limited.Option) *limited.TextModel {
	t.Helper()
	m, err := openai.NewTextModel(b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]limited.Option{limited.WithStageKey(limited.StageKey(m.Name(), b.cfg.Model, b.cfg.ModelFor))}, opts...)
	return limited.NewTextModel(m, b.lims[i], limits, opts...)
}

func request(stage ai.Stage) ai.JSONRequest {
	return ai.JSONRequest{
		Stage:      stage,
		System:     "You name keyword clusters.",
		Prompt:     "Name the cluster of: trail running shoes, best trail shoes.",
		SchemaName: "answer",
		Schema:     json.RawMessage(`{"type":"object","properties":{},"additionalProperties":false}`),
		MaxTokens:  3000,
	}
}

func retryAfterMs(ms string) fakeopenai.Behavior {
	return fakeopenai.RateLimited(http.Header{"Retry-After-Ms": {ms}})
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// assertWaitRefused checks that err is the limiter's own refusal to wait
// past the deadline, not a provider's 429.
func assertWaitRefused(t *testing.T, err error) *errs.ThrottledError {
	t.Helper()
	var te *errs.ThrottledError
	if !errors.As(err, &te) || !errors.Is(err, ratelimit.ErrWaitExceedsDeadline) {
		t.Fatalf("err = %v, want a ThrottledError wrapping ratelimit.ErrWaitExceedsDeadline", err)
	}
	return te
}

func TestThrottleBecomesWaitAndRetry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.text(t, 0, nil)
	b.fake.Push(retryAfterMs("50"))

	start := time.Now()
	resp, err := m.GenerateJSON(withTimeout(t, 5*time.Second), request(ai.StageClusterName))
	if err != nil {
		t.Fatalf("GenerateJSON after one 429: %v", err)
	}
	if string(resp.Content) != "{}" {
		t.Errorf("content = %q", resp.Content)
	}
	if n := len(b.fake.Requests()); n != 2 {
		t.Errorf("the provider got %d requests, want 2 (the 429 and the retry)", n)
	}
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("the retry came after %s, before the 50ms Retry-After", took)
	}
}

func TestThrottlePausesEveryProcess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Push(retryAfterMs("5000"))

	// The 5s pause does not fit in the call's 1s: the provider's 429 comes
	// back at once, as a delay for the worker.
	start := time.Now()
	_, err := b.text(t, 0, nil).GenerateJSON(withTimeout(t, time.Second), request(ai.StageClusterName))
	var te *errs.ThrottledError
	if !errors.As(err, &te) || errors.Is(err, ratelimit.ErrWaitExceedsDeadline) {
		t.Fatalf("GenerateJSON = %v, want the provider's ThrottledError", err)
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("GenerateJSON took %s to return a 429 it had no time to wait out", took)
	}

	// The other process does not call the provider during the pause.
	_, err = b.text(t, 1, nil).GenerateJSON(withTimeout(t, time.Second), request(ai.StageClusterName))
	if te := assertWaitRefused(t, err); te.RetryAfter < 4*time.Second {
		t.Errorf("RetryAfter = %s, want the rest of the 5s pause", te.RetryAfter)
	}
	if n := len(b.fake.Requests()); n != 1 {
		t.Errorf("the provider got %d requests, want only the throttled one", n)
	}
}

func TestGivesUpAfterMaxThrottles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Push(retryAfterMs("10"), retryAfterMs("10"), retryAfterMs("10"))

	_, err := b.text(t, 0, nil).GenerateJSON(withTimeout(t, 5*time.Second), request(ai.StageClusterName))
	var te *errs.ThrottledError
	if !errors.As(err, &te) {
		t.Fatalf("GenerateJSON = %v, want a ThrottledError", err)
	}
	if n := len(b.fake.Requests()); n != limited.DefaultMaxThrottles {
		t.Errorf("the provider got %d requests, want %d", n, limited.DefaultMaxThrottles)
	}

	b.fake.Push(retryAfterMs("10"))
	m := b.text(t, 0, nil, limited.WithMaxThrottles(1))
	if _, err := m.GenerateJSON(withTimeout(t, 5*time.Second), request(ai.StageClusterName)); !errors.As(err, &te) {
		t.Fatalf("GenerateJSON with WithMaxThrottles(1) = %v, want a ThrottledError", err)
	}
}

func TestStagesLimitedByTheirModel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	limits := map[string]ratelimit.Limits{draftKey: {RequestsPerMinute: 1}}
	m := b.text(t, 0, limits)
	if got := m.Key(ai.StageDraft); got != draftKey {
		t.Errorf("Key(draft) = %q, want %q", got, draftKey)
	}

	if _, err := m.GenerateJSON(t.Context(), request(ai.StageDraft)); err != nil {
		t.Fatal(err)
	}
	_, err := m.GenerateJSON(withTimeout(t, 200*time.Millisecond), request(ai.StageDraft))
	assertWaitRefused(t, err)
	// Another stage's model has its own (here no) limit.
	if _, err := m.GenerateJSON(withTimeout(t, time.Second), request(ai.StageClusterName)); err != nil {
		t.Errorf("cluster name after two drafts: %v", err)
	}
	var models []string
	for _, r := range b.fake.Requests() {
		models = append(models, r.Model)
	}
	if diff := cmp.Diff([]string{"gpt-4o", "gpt-4o-mini"}, models); diff != "" {
		t.Errorf("models asked (-want +got):\n%s", diff)
	}
}

func TestTokensCorrectedWithUsage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	limits := map[string]ratelimit.Limits{textKey: {TokensPerMinute: 6000}}
	m := b.text(t, 0, limits)
	// The estimate is about 3,050 tokens; the fake reports about 20.
	if est := limited.EstimateText(request(ai.StageClusterName)); est < 3000 {
		t.Fatalf("EstimateText = %d", est)
	}
	if _, err := m.GenerateJSON(t.Context(), request(ai.StageClusterName)); err != nil {
		t.Fatal(err)
	}
	// Had the estimate stayed, the next token would wait about 28s.
	if err := b.lims[1].Wait(withTimeout(t, 100*time.Millisecond), textKey, limits[textKey], 1); err != nil {
		t.Errorf("Wait after a call that used few tokens: %v", err)
	}
}

func TestZeroLimitsPassThrough(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.text(t, 0, map[string]ratelimit.Limits{"openai/other": {RequestsPerMinute: 1}})
	ctx := withTimeout(t, 5*time.Second)
	for range 20 {
		if _, err := m.GenerateJSON(ctx, request(ai.StageClusterName)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := b.rdb.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Errorf("DBSize = %d, %v; unlimited keys should store nothing", n, err)
	}
}

func TestMaxWait(t *testing.T) {
	t.Parallel()
	b := setup(t)
	limits := map[string]ratelimit.Limits{textKey: {RequestsPerMinute: 1}}
	m := b.text(t, 0, limits, limited.WithMaxWait(100*time.Millisecond))
	if _, err := m.GenerateJSON(t.Context(), request(ai.StageClusterName)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := m.GenerateJSON(t.Context(), request(ai.StageClusterName))
	assertWaitRefused(t, err)
	if took := time.Since(start); took > time.Second {
		t.Errorf("GenerateJSON took %s to refuse a wait beyond WithMaxWait", took)
	}
}

func TestEmbedder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	e, err := openai.NewEmbedder(b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	limits := map[string]ratelimit.Limits{embedKey: {RequestsPerMinute: 60, TokensPerMinute: 100000}}
	le := limited.NewEmbedder(e, b.lims[0], limits)
	if le.Key() != embedKey || le.Dimensions() != 8 || le.Name() != e.Name() {
		t.Errorf("Key, Dimensions, Name = %q, %d, %q", le.Key(), le.Dimensions(), le.Name())
	}
	texts := []string{"trail running shoes", "best trail shoes"}

	b.fake.Push(retryAfterMs("20"))
	vecs, usage, err := le.Embed(withTimeout(t, 5*time.Second), texts)
	if err != nil {
		t.Fatalf("Embed after one 429: %v", err)
	}
	if len(vecs) != 2 || usage.PromptTokens == 0 {
		t.Errorf("Embed = %d vectors, usage %+v", len(vecs), usage)
	}
	// A burst of two requests: the 429 and the retry used it up.
	_, _, err = le.Embed(withTimeout(t, 200*time.Millisecond), texts)
	assertWaitRefused(t, err)
	if n := len(b.fake.Requests()); n != 2 {
		t.Errorf("the provider got %d requests, want 2", n)
	}
}

// imageModel is an ai.ImageModel whose first Generate starts a prediction
// and is throttled while polling it.
type imageModel struct {
	calls   []ai.ImageRequest
	cancels []string
}

func (m *imageModel) Name() string { return "black-forest-labs/flux-schnell" }

func (m *imageModel) Generate(ctx context.Context, req ai.ImageRequest) (ai.Image, error) {
	m.calls = append(m.calls, req)
	if len(m.calls) == 1 {
		if err := req.OnStarted(ctx, "pred-1"); err != nil {
			return ai.Image{}, err
		}
		return ai.Image{}, &errs.ThrottledError{RetryAfter: 20 * time.Millisecond, Err: errors.New("429")}
	}
	return ai.Image{Model: m.Name(), PredictionID: req.ResumePredictionID}, nil
}

func (m *imageModel) Cancel(_ context.Context, id string) error {
	m.cancels = append(m.cancels, id)
	return nil
}

func TestImageRetryResumesPrediction(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inner := &imageModel{}
	key := "replicate/black-forest-labs/flux-schnell"
	m := limited.NewImageModel(inner, b.lims[0], map[string]ratelimit.Limits{key: {RequestsPerMinute: 600}},
		limited.WithKey(key))
	if m.Key() != key {
		t.Errorf("Key = %q, want %q", m.Key(), key)
	}
	var started []string
	img, err := m.Generate(withTimeout(t, 5*time.Second), ai.ImageRequest{
		Prompt: "a trail shoe",
		OnStarted: func(_ context.Context, id string) error {
			started = append(started, id)
			return nil
		},
	})
	if err != nil {
		t.Fatalf("Generate after one 429: %v", err)
	}
	if img.PredictionID != "pred-1" || len(inner.calls) != 2 || inner.calls[1].ResumePredictionID != "pred-1" {
		t.Errorf("the retry did not resume the prediction: image %+v, calls %+v", img, inner.calls)
	}
	if diff := cmp.Diff([]string{"pred-1"}, started); diff != "" {
		t.Errorf("OnStarted calls (-want +got):\n%s", diff)
	}
	if err := m.Cancel(t.Context(), "pred-1"); err != nil || len(inner.cancels) != 1 {
		t.Errorf("Cancel = %v, cancels %v", err, inner.cancels)
	}
}

func TestLimitsFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value string
		want  map[string]ratelimit.Limits
		err   string // a part of the error; "" for none
	}{
		{name: "unset", value: "", want: map[string]ratelimit.Limits{}},
		{
			name: "documented example",
			value: "openai/gpt-4o-mini=500rpm/200000tpm,openai/text-embedding-3-small=3000rpm/1000000tpm," +
				"replicate/black-forest-labs/flux-schnell=600rpm",
			want: map[string]ratelimit.Limits{
				"openai/gpt-4o-mini":                       {RequestsPerMinute: 500, TokensPerMinute: 200000},
				"openai/text-embedding-3-small":            {RequestsPerMinute: 3000, TokensPerMinute: 1000000},
				"replicate/black-forest-labs/flux-schnell": {RequestsPerMinute: 600},
			},
		},
		{
			name:  "spaces, semicolons, newlines, tokens only, any order and case",
			value: " openai/gpt-4o = 30000TPM / 500 rpm ;\n my-llama=100tpm, ",
			want: map[string]ratelimit.Limits{
				"openai/gpt-4o": {RequestsPerMinute: 500, TokensPerMinute: 30000},
				"my-llama":      {TokensPerMinute: 100},
			},
		},
		{name: "no equals", value: "openai/gpt-4o-mini", err: `AI_LIMITS: entry "openai/gpt-4o-mini": want key=limits`},
		{name: "no limits", value: "openai/gpt-4o-mini=", err: "want key=limits"},
		{name: "unknown unit", value: "a=500rps", err: `"500rps" is not a limit like 500rpm`},
		{name: "zero", value: "a=0rpm", err: "must be a whole number from 1"},
		{name: "not a number", value: "a=1.5krpm", err: "must be a whole number from 1"},
		{name: "unit twice", value: "a=1rpm/2rpm", err: "rpm is given twice"},
		{name: "key twice", value: "a=1rpm,a=2rpm", err: "a is limited twice"},
		{name: "space in key", value: "open ai=1rpm", err: "the key contains spaces"},
		{name: "every problem", value: "a=1rps,b=0tpm", err: "entry \"a=1rps\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := limited.LimitsFromEnv(func(name string) string {
				if name == limited.EnvVar {
					return tc.value
				}
				return ""
			})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "AI_LIMITS: ") {
					t.Fatalf("err = %v, want one starting with AI_LIMITS and containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("limits (-want +got):\n%s", diff)
			}
		})
	}
}
