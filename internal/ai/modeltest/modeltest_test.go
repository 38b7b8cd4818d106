package modeltest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/ai/modeltest"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/testenv"
)

// TestTester drives the real OpenAI client against the fake API and
// checks what each failure is called.
func TestTester(t *testing.T) {
	t.Parallel()
	fake := fakeopenai.New(t)
	fake.SetKey("sk-right")
	cfgAt := func(key, baseURL string) *openai.Config {
		c := openai.DefaultConfig(openai.Secret(key))
		c.BaseURL = baseURL
		return &c
	}
	chat := store.AIModel{Provider: "openai", Model: "gpt-4o-mini", Kind: store.ModelKindChat}
	embed := store.AIModel{Provider: "openai", Model: "text-embedding-3-small", Kind: store.ModelKindEmbeddings}
	for _, tc := range []struct {
		name   string
		tester modeltest.Tester
		model  store.AIModel
		push   fakeopenai.Behavior
		want   string
	}{
		{"chat works", modeltest.Tester{OpenAI: cfgAt("sk-right", fake.BaseURL())}, chat, nil, ""},
		{"embeddings work", modeltest.Tester{OpenAI: cfgAt("sk-right", fake.BaseURL())}, embed, nil, ""},
		{"offline", modeltest.Tester{}, store.AIModel{Provider: "offline", Model: "offline-writer-v1", Kind: "chat"}, nil, ""},
		{"no key", modeltest.Tester{}, chat, nil, modeltest.TestProblemKey},
		{"wrong key", modeltest.Tester{OpenAI: cfgAt("sk-wrong", fake.BaseURL())}, chat, nil, modeltest.TestProblemKey},
		{"unknown model", modeltest.Tester{OpenAI: cfgAt("sk-right", fake.BaseURL())}, chat,
			fakeopenai.Error(404, "invalid_request_error", "model_not_found", "The model does not exist"), modeltest.TestProblemModel},
		{"quota", modeltest.Tester{OpenAI: cfgAt("sk-right", fake.BaseURL())}, chat, fakeopenai.InsufficientQuota(), modeltest.TestProblemQuota},
		{"server error", modeltest.Tester{OpenAI: cfgAt("sk-right", fake.BaseURL())}, chat, fakeopenai.ServerError(), modeltest.TestProblemProvider},
		{"refused connection", modeltest.Tester{OpenAI: cfgAt("sk-right", testenv.ClosedURL(t)+"/v1")}, chat, nil, modeltest.TestProblemNetwork},
		{"anthropic", modeltest.Tester{}, store.AIModel{Provider: "anthropic", Model: "claude", Kind: "chat"}, nil, modeltest.TestProblemUnsupported},
	} {
		if tc.push != nil {
			fake.Push(tc.push)
		}
		r := tc.tester.Test(context.Background(), tc.model)
		if r.Problem != tc.want || r.OK != (tc.want == "") || r.Message == "" {
			t.Errorf("%s: %+v, want problem %q", tc.name, r, tc.want)
		}
		for _, leak := range []string{"sk-right", "sk-wrong"} {
			if contains(r.Message, leak) {
				t.Errorf("%s: the message quotes the key: %q", tc.name, r.Message)
			}
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
