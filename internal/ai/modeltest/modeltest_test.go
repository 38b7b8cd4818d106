package modeltest_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/ai/anthropic"
	"github.com/presswork/presswork/internal/ai/anthropic/fakeanthropic"
	"github.com/presswork/presswork/internal/ai/modeltest"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/ai/replicate"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/testenv"
)

// TestTester drives the real OpenAI and Anthropic clients, built as the
// worker builds the catalogue's models, against the fake APIs and checks
// what each failure is called, and that no message quotes a key.
func TestTester(t *testing.T) {
	t.Parallel()
	fake := fakeopenai.New(t)
	fake.SetKey("sk-right")
	claude := fakeanthropic.New(t)
	claude.SetKey("sk-ant-right-key")
	closed := testenv.ClosedURL(t)
	oai := func(key, baseURL string) modeltest.Tester {
		c := openai.DefaultConfig(openai.Secret(key))
		c.BaseURL = baseURL
		return modeltest.Tester{Credentials: providers.Credentials{OpenAI: &c}}
	}
	ant := func(key, baseURL string) modeltest.Tester {
		c := anthropic.DefaultConfig(anthropic.Secret(key))
		c.BaseURL = baseURL
		return modeltest.Tester{Credentials: providers.Credentials{Anthropic: &c}}
	}
	rc, _, err := replicate.ConfigFromEnv(func(k string) string { return map[string]string{"REPLICATE_API_TOKEN": "r8-token"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	withReplicate := modeltest.Tester{Credentials: providers.Credentials{Replicate: &rc}}
	right, wrong := oai("sk-right", fake.BaseURL()), oai("sk-wrong", fake.BaseURL())
	chat := store.AIModel{Provider: "openai", Model: "gpt-4o-mini", Kind: store.ModelKindChat}
	embed := store.AIModel{Provider: "openai", Model: "text-embedding-3-small", Kind: store.ModelKindEmbeddings}
	haiku := store.AIModel{Provider: "anthropic", Model: "claude-haiku-4-5", Kind: store.ModelKindChat}
	image := store.AIModel{Provider: "replicate", Model: "black-forest-labs/flux-schnell", Kind: store.ModelKindImage}
	for _, tc := range []struct {
		name   string
		tester modeltest.Tester
		model  store.AIModel
		push   fakeopenai.Behavior
		pushA  fakeanthropic.Behavior
		want   string
	}{
		{"chat works", right, chat, nil, nil, ""},
		{"embeddings work", right, embed, nil, nil, ""},
		{"offline", modeltest.Tester{}, store.AIModel{Provider: "offline", Model: "offline-writer-v1", Kind: "chat"}, nil, nil, ""},
		{"no key", modeltest.Tester{}, chat, nil, nil, tasks.ModelTestKey},
		{"no azure key", right, store.AIModel{Provider: "azure", Model: "gpt-4o", Kind: "chat"}, nil, nil, tasks.ModelTestKey},
		{"wrong key", wrong, chat, nil, nil, tasks.ModelTestKey},
		{"unknown model", right, chat,
			fakeopenai.Error(404, "invalid_request_error", "model_not_found", "The model does not exist"), nil, tasks.ModelTestModel},
		{"quota", right, chat, fakeopenai.InsufficientQuota(), nil, tasks.ModelTestQuota},
		{"server error", right, chat, fakeopenai.ServerError(), nil, tasks.ModelTestProvider},
		{"bad request", right, chat, fakeopenai.Error(400, "invalid_request_error", "", "bad"), nil, tasks.ModelTestRequest},
		{"refused connection", oai("sk-right", closed+"/v1"), chat, nil, nil, tasks.ModelTestNetwork},
		{"anthropic works", ant("sk-ant-right-key", claude.URL), haiku, nil, nil, ""},
		{"anthropic wrong key", ant("sk-ant-wrong-key", claude.URL), haiku, nil, nil, tasks.ModelTestKey},
		{"anthropic unknown model", ant("sk-ant-right-key", claude.URL), haiku, nil,
			fakeanthropic.Error(404, "not_found_error", "model: claude-haiku-4-5"), tasks.ModelTestModel},
		{"anthropic overloaded", ant("sk-ant-right-key", claude.URL), haiku, nil,
			fakeanthropic.Overloaded(nil), tasks.ModelTestProvider},
		{"anthropic refused connection", ant("sk-ant-right-key", closed), haiku, nil, nil, tasks.ModelTestNetwork},
		{"anthropic embeddings", ant("sk-ant-right-key", claude.URL),
			store.AIModel{Provider: "anthropic", Model: "claude", Kind: "embeddings"}, nil, nil, tasks.ModelTestUnsupported},
		{"an image is not made", withReplicate, image, nil, nil, tasks.ModelTestUnsupported},
		{"no replicate token", modeltest.Tester{}, image, nil, nil, tasks.ModelTestKey},
		{"no mistral key", right, store.AIModel{Provider: "mistral", Model: "mistral-small-latest", Kind: "chat"}, nil, nil, tasks.ModelTestKey},
		{"unknown provider", right, store.AIModel{Provider: "cohere", Model: "command", Kind: "chat"}, nil, nil, tasks.ModelTestUnsupported},
	} {
		if tc.push != nil {
			fake.Push(tc.push)
		}
		if tc.pushA != nil {
			claude.Push(tc.pushA)
		}
		r := tc.tester.Test(context.Background(), tc.model)
		if r.Problem != tc.want || r.OK != (tc.want == "") || r.Message == "" {
			t.Errorf("%s: %+v, want problem %q", tc.name, r, tc.want)
		}
		for _, leak := range []string{"sk-right", "sk-wrong", "sk-ant-", "r8-token"} {
			if strings.Contains(r.Message, leak) {
				t.Errorf("%s: the message quotes the key: %q", tc.name, r.Message)
			}
		}
	}
}

// TestTesterProfiles: the chat test of a Gemini, Mistral or xAI model,
// built from the worker's environment with its profile, is a request the
// provider's OpenAI-compatible endpoint accepts (the fake speaks each
// dialect), and a refused key is the key.
func TestTesterProfiles(t *testing.T) {
	t.Parallel()
	for _, p := range []struct {
		provider, env string
		dialect       fakeopenai.Dialect
		model         string
	}{
		{"gemini", "GEMINI", fakeopenai.Gemini, "gemini-2.5-flash"},
		{"mistral", "MISTRAL", fakeopenai.Mistral, "mistral-small-latest"},
		{"xai", "XAI", fakeopenai.XAI, "grok-4-fast"},
	} {
		fake := fakeopenai.New(t)
		fake.SetDialect(p.dialect)
		fake.SetKey("profile-key")
		tester := func(key string) modeltest.Tester {
			env := map[string]string{p.env + "_API_KEY": key, p.env + "_BASE_URL": fake.BaseURL()}
			set, err := providers.FromEnv(func(k string) string { return env[k] }, nil, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatalf("%s: %v", p.provider, err)
			}
			return modeltest.Tester{Credentials: set.Credentials}
		}
		m := store.AIModel{Provider: p.provider, Model: p.model, Kind: store.ModelKindChat}
		if r := tester("profile-key").Test(context.Background(), m); !r.OK {
			t.Errorf("%s: %+v (requests %+v)", p.provider, r, fake.Requests())
		}
		if r := tester("wrong-key").Test(context.Background(), m); r.Problem != tasks.ModelTestKey || strings.Contains(r.Message, "wrong-key") {
			t.Errorf("%s with a wrong key: %+v", p.provider, r)
		}
	}
}
