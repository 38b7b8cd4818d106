package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
)

// profileCases are the named profiles with the fake of their provider.
var profileCases = []struct {
	profile    openai.Profile
	dialect    fakeopenai.Dialect
	model      string
	tokenField string
}{
	{openai.ProfileGemini, fakeopenai.Gemini, "gemini-2.5-flash", "max_tokens"},
	{openai.ProfileMistral, fakeopenai.Mistral, "mistral-small-latest", "max_tokens"},
	{openai.ProfileXAI, fakeopenai.XAI, "grok-4", "max_completion_tokens"},
}

// profileConfig is p's configuration on the fake s.
func profileConfig(s *fakeopenai.Server, p openai.Profile, model string) openai.Config {
	cfg := openai.ConfigForProfile(p, testKey, s.BaseURL())
	cfg.Model = model
	return cfg
}

// stageRequests are the requests of every prompt stage, with the schemas
// Presswork really sends.
func stageRequests(t *testing.T) []ai.JSONRequest {
	t.Helper()
	var out []ai.JSONRequest
	for _, stage := range ai.PromptStages() {
		schema, err := ai.Schema(stage)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ai.JSONRequest{Stage: stage, System: "You write.", Prompt: "Write.",
			SchemaName: string(stage), Schema: schema, MaxTokens: 700})
	}
	return out
}

// Each profile's requests, for every stage's schema, are accepted by its
// provider's fake through go-openai, and the answers are parsed.
func TestProfilesAcceptedByTheirProviders(t *testing.T) {
	const answer = `{"name":"Trail Shoes","description":"Shoes for trails."}`
	for _, tc := range profileCases {
		t.Run(tc.profile.Name, func(t *testing.T) {
			s := fakeopenai.New(t)
			s.SetKey(testKey)
			s.SetDialect(tc.dialect)
			s.SetContent(func(*fakeopenai.Request) string { return answer })
			m := newTextModel(t, profileConfig(s, tc.profile, tc.model))
			if got, want := m.Name(), tc.profile.Name+"/"+tc.model; got != want {
				t.Errorf("Name() = %q, want %q", got, want)
			}
			for _, req := range stageRequests(t) {
				resp, err := m.GenerateJSON(context.Background(), req)
				if err != nil {
					t.Fatalf("%s: %v", req.Stage, err)
				}
				if string(resp.Content) != answer || resp.Usage.Model != tc.model {
					t.Errorf("%s: content %s, model %q", req.Stage, resp.Content, resp.Usage.Model)
				}
			}
			for _, r := range s.Requests() {
				var body map[string]any
				if err := json.Unmarshal(r.Body, &body); err != nil {
					t.Fatal(err)
				}
				if body[tc.tokenField] != float64(700) {
					t.Errorf("the request bounds the answer with %v, want %s: %s", body, tc.tokenField, r.Body)
				}
				rf := jsonValue(t, r.ResponseFormat).(map[string]any)
				if rf["type"] != "json_schema" || rf["json_schema"].(map[string]any)["strict"] != true {
					t.Errorf("response_format = %s, want strict json_schema", r.ResponseFormat)
				}
			}
		})
	}
}

// OpenAI's own request, which the profiles change, is refused by the
// Gemini and Mistral fakes: without the profiles the tests above fail.
func TestPlainOpenAIRequestRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dialect fakeopenai.Dialect
		status  int
		says    string
	}{
		{"gemini", fakeopenai.Gemini, http.StatusBadRequest, `Unknown name \"additionalProperties\"`},
		{"mistral", fakeopenai.Mistral, http.StatusUnprocessableEntity, "Extra inputs are not permitted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fakeopenai.New(t)
			s.SetDialect(tc.dialect)
			m := newTextModel(t, testConfig(s))
			req := stageRequests(t)[0]
			_, err := m.GenerateJSON(context.Background(), req)
			var oe *openai.Error
			if !errors.As(err, &oe) || oe.StatusCode != tc.status || errorKind(err) != "permanent" {
				t.Fatalf("err = %v, want a permanent HTTP %d", err, tc.status)
			}
			if !strings.Contains(oe.Message, tc.says) {
				t.Errorf("message %q does not say %q", oe.Message, tc.says)
			}
		})
	}
}

// The xAI fake refuses what xAI's documented subset does not cover, so
// that the profile's schemas are shown to stay inside it.
func TestXAIFakeRefusesKeywordsOutsideItsSubset(t *testing.T) {
	s := fakeopenai.New(t)
	s.SetDialect(fakeopenai.XAI)
	m := newTextModel(t, profileConfig(s, openai.ProfileXAI, "grok-4"))
	req := stageRequests(t)[0]
	req.Schema = json.RawMessage(`{"type":"object","patternProperties":{"^x":{"type":"string"}}}`)
	_, err := m.GenerateJSON(context.Background(), req)
	var oe *openai.Error
	if !errors.As(err, &oe) || oe.StatusCode != http.StatusBadRequest || errorKind(err) != "permanent" {
		t.Fatalf("err = %v, want a permanent 400", err)
	}
}

func TestGeminiSchema(t *testing.T) {
	in := `{"type":"object","additionalProperties":false,"$schema":"x","required":["a","b","c","d"],
		"properties":{
			"a":{"type":"array","minItems":1,"items":{"type":"object","additionalProperties":false,
				"properties":{"level":{"type":"integer","enum":[2,3]}},"required":["level"]}},
			"b":{"type":["string","null"],"description":"maybe"},
			"c":{"const":"fixed"},
			"d":{"type":"string","enum":["x","y"]}}}`
	got, err := openai.GeminiSchema(json.RawMessage(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"object","required":["a","b","c","d"],
		"properties":{
			"a":{"type":"array","minItems":1,"items":{"type":"object",
				"properties":{"level":{"type":"integer","description":"One of 2, 3."}},"required":["level"]}},
			"b":{"type":"string","nullable":true,"description":"maybe"},
			"c":{"enum":["fixed"]},
			"d":{"type":"string","enum":["x","y"]}}}`
	if diff := cmp.Diff(jsonValue(t, []byte(want)), jsonValue(t, got)); diff != "" {
		t.Errorf("GeminiSchema (-want +got):\n%s", diff)
	}
	if s := fakeopenai.Gemini(&fakeopenai.Request{Endpoint: fakeopenai.EndpointChat,
		ResponseFormat: json.RawMessage(`{"type":"json_schema","json_schema":{"name":"n","schema":` + string(got) + `}}`)}); s != nil {
		t.Error("the Gemini fake refuses the rewritten schema")
	}
}

// SchemaInPrompt asks for json_object and gives the schema in the system
// prompt.
func TestSchemaInPrompt(t *testing.T) {
	s := fakeopenai.New(t)
	p := openai.Profile{Name: "plain", Schema: openai.SchemaInPrompt}
	m := newTextModel(t, profileConfig(s, p, "some-model"))
	req := clusterNameRequest(t)
	if _, err := m.GenerateJSON(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	r := s.Requests()[0]
	if diff := cmp.Diff(map[string]any{"type": "json_object"}, jsonValue(t, r.ResponseFormat)); diff != "" {
		t.Errorf("response_format (-want +got):\n%s", diff)
	}
	if r.Messages[0].Role != "system" || !strings.HasPrefix(r.Messages[0].Content, req.System) ||
		!strings.Contains(r.Messages[0].Content, string(req.Schema)) {
		t.Errorf("system message %q lacks the prompt or the schema", r.Messages[0].Content)
	}
	if r.MaxCompletionTokens != req.MaxTokens {
		t.Errorf("max_completion_tokens = %d, want %d", r.MaxCompletionTokens, req.MaxTokens)
	}
}

// A rejected key names the profile's variable.
func TestProfileWrongKeyNamesItsVariable(t *testing.T) {
	s := fakeopenai.New(t)
	s.SetKey("another-key")
	m := newTextModel(t, profileConfig(s, openai.ProfileMistral, "mistral-small-latest"))
	_, err := m.GenerateJSON(context.Background(), clusterNameRequest(t))
	if err == nil || !strings.Contains(err.Error(), "MISTRAL_API_KEY") || strings.Contains(err.Error(), testKey) {
		t.Fatalf("err = %v, want one naming MISTRAL_API_KEY without the key", err)
	}
}

func TestConfigForProfileDefaultBaseURL(t *testing.T) {
	for name, p := range openai.Profiles() {
		cfg := openai.ConfigForProfile(p, testKey, "")
		if cfg.BaseURL != p.DefaultBaseURL || p.Name != name || cfg.Validate() != nil {
			t.Errorf("%s: base URL %q, name %q, %v", name, cfg.BaseURL, p.Name, cfg.Validate())
		}
	}
}
