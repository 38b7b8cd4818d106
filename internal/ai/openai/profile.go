package openai

import (
	"encoding/json"
	"fmt"
	"strings"

	oa "github.com/sashabaranov/go-openai"
)

// SchemaMode is how a profile sends a stage's JSON schema.
type SchemaMode int

// The ways of sending a schema.
const (
	// SchemaStrict sends the schema as it is, in response_format
	// json_schema with strict: true (OpenAI, Mistral, xAI).
	SchemaStrict SchemaMode = iota
	// SchemaGemini sends the schema rewritten to the subset Gemini accepts
	// (GeminiSchema) in response_format json_schema.
	SchemaGemini
	// SchemaInPrompt asks for json_object and puts the schema in the
	// system prompt, for a server without structured outputs; the caller's
	// validation is then the only check.
	SchemaInPrompt
)

// TokenField is the request field that bounds an answer's length.
type TokenField int

// The fields that bound an answer's length.
const (
	MaxCompletionTokens TokenField = iota // max_completion_tokens (OpenAI, xAI)
	MaxTokens                             // max_tokens (Mistral rejects max_completion_tokens; Gemini takes both)
)

// Profile is how one OpenAI-compatible provider is spoken to: where it
// is, how it takes a schema and a length bound, and the name its models
// are known (and rate-limited) by. The zero Profile is OpenAI's, named
// from the base URL as before ("openai", "openai-compatible",
// "azure-openai").
type Profile struct {
	// Name is the provider in Name() and limit keys ("gemini" gives
	// "gemini/<model>"); "" names it from the API type and base URL.
	Name string
	// DefaultBaseURL is the API when no base URL is configured.
	DefaultBaseURL string
	Schema         SchemaMode
	Tokens         TokenField
	// KeyVar is the variable that holds the key, named in the message of
	// a rejected key; "" means OPENAI_API_KEY.
	KeyVar string
}

// The named profiles of the providers served through their
// OpenAI-compatible endpoints (#23). README's provider table gives the
// documentation each follows.
var (
	ProfileOpenAI  = Profile{}
	ProfileGemini  = Profile{Name: "gemini", DefaultBaseURL: "https://generativelanguage.googleapis.com/v1beta/openai", Schema: SchemaGemini, Tokens: MaxTokens, KeyVar: "GEMINI_API_KEY"}
	ProfileMistral = Profile{Name: "mistral", DefaultBaseURL: "https://api.mistral.ai/v1", Schema: SchemaStrict, Tokens: MaxTokens, KeyVar: "MISTRAL_API_KEY"}
	ProfileXAI     = Profile{Name: "xai", DefaultBaseURL: "https://api.x.ai/v1", Schema: SchemaStrict, Tokens: MaxCompletionTokens, KeyVar: "XAI_API_KEY"}
)

// Profiles returns the named profiles by name.
func Profiles() map[string]Profile {
	return map[string]Profile{"gemini": ProfileGemini, "mistral": ProfileMistral, "xai": ProfileXAI}
}

// ConfigForProfile returns the configuration of profile p with key: the
// default configuration on p's API (baseURL when it is not ""), with
// p's key variable named in a rejected key's message.
func ConfigForProfile(p Profile, key Secret, baseURL string) Config {
	cfg := DefaultConfig(key)
	cfg.Profile, cfg.KeySource = p, p.KeyVar
	cfg.BaseURL = strings.TrimRight(baseURL, "/")
	if cfg.BaseURL == "" {
		cfg.BaseURL = p.DefaultBaseURL
	}
	return cfg
}

// jsonInPromptInstruction introduces the schema in SchemaInPrompt mode.
const jsonInPromptInstruction = "Answer with one JSON object, and nothing else, that matches this JSON schema:\n"

// chatRequest builds the request for a JSON answer as p says: the schema
// (as it is, rewritten for Gemini, or in the system prompt) and the
// length bound in p's field.
func (p Profile) chatRequest(model, system, prompt, name string, schema json.RawMessage, maxTokens int) (oa.ChatCompletionRequest, error) {
	creq := oa.ChatCompletionRequest{Model: model}
	if p.Tokens == MaxTokens {
		creq.MaxTokens = max(maxTokens, 0)
	} else {
		creq.MaxCompletionTokens = max(maxTokens, 0)
	}
	format := &oa.ChatCompletionResponseFormatJSONSchema{Name: schemaName(name), Schema: schema, Strict: true}
	switch p.Schema {
	case SchemaGemini:
		s, err := GeminiSchema(schema)
		if err != nil {
			return creq, err
		}
		format.Schema = s
	case SchemaInPrompt:
		system = strings.TrimSpace(system + "\n\n" + jsonInPromptInstruction + string(schema))
		format = nil
	}
	if system != "" {
		creq.Messages = append(creq.Messages, oa.ChatCompletionMessage{Role: oa.ChatMessageRoleSystem, Content: system})
	}
	creq.Messages = append(creq.Messages, oa.ChatCompletionMessage{Role: oa.ChatMessageRoleUser, Content: prompt})
	if format == nil {
		creq.ResponseFormat = &oa.ChatCompletionResponseFormat{Type: oa.ChatCompletionResponseFormatTypeJSONObject}
	} else {
		creq.ResponseFormat = &oa.ChatCompletionResponseFormat{Type: oa.ChatCompletionResponseFormatTypeJSONSchema, JSONSchema: format}
	}
	return creq, nil
}

// geminiDropped are the JSON Schema keywords that Gemini's schema (an
// OpenAPI subset) has no field for and answers 400 "Unknown name" to.
var geminiDropped = map[string]bool{
	"additionalProperties": true, "$schema": true, "$id": true, "$comment": true,
	"propertyNames": true, "patternProperties": true, "unevaluatedProperties": true,
	"exclusiveMinimum": true, "exclusiveMaximum": true, "dependentRequired": true,
	"if": true, "then": true, "else": true, "not": true, "examples": true,
}

// GeminiSchema rewrites a strict schema into what Gemini accepts: the
// keywords it has no field for are dropped (additionalProperties first;
// Gemini adds no properties a schema does not list anyway), a nullable
// type array becomes the type with "nullable": true, const becomes a
// one-value enum, and an enum of other than strings (Gemini's enums are
// strings) becomes words in the description. What is dropped is still
// checked: the caller validates every answer against the full schema.
func GeminiSchema(schema json.RawMessage) (json.RawMessage, error) {
	var root any
	if err := json.Unmarshal(schema, &root); err != nil {
		return nil, fmt.Errorf("openai: the JSON schema is invalid: %w", err)
	}
	return json.Marshal(geminiNode(root))
}

func geminiNode(v any) any {
	switch n := v.(type) {
	case []any:
		out := make([]any, len(n))
		for i, e := range n {
			out[i] = geminiNode(e)
		}
		return out
	case map[string]any:
		return geminiObject(n)
	}
	return v
}

func geminiObject(n map[string]any) map[string]any {
	out := make(map[string]any, len(n))
	for k, v := range n {
		switch {
		case geminiDropped[k]:
		case k == "properties" || k == "$defs":
			props, _ := v.(map[string]any)
			m := make(map[string]any, len(props))
			for name, s := range props {
				m[name] = geminiNode(s)
			}
			out[k] = m
		default:
			out[k] = geminiNode(v)
		}
	}
	if c, ok := out["const"]; ok {
		delete(out, "const")
		out["enum"] = []any{c}
	}
	if types, ok := out["type"].([]any); ok {
		var kept []any
		for _, t := range types {
			if t == "null" {
				out["nullable"] = true
			} else {
				kept = append(kept, t)
			}
		}
		if len(kept) == 1 {
			out["type"] = kept[0]
		} else {
			delete(out, "type")
		}
	}
	if enum, ok := out["enum"].([]any); ok && !allStrings(enum) {
		delete(out, "enum")
		desc, _ := out["description"].(string)
		out["description"] = strings.TrimSpace(desc + " " + oneOf(enum))
	}
	return out
}

func allStrings(vs []any) bool {
	for _, v := range vs {
		if _, ok := v.(string); !ok {
			return false
		}
	}
	return true
}

// oneOf words an enum for a description: "One of 2, 3."
func oneOf(enum []any) string {
	words := make([]string, len(enum))
	for i, v := range enum {
		b, _ := json.Marshal(v)
		words[i] = string(b)
	}
	return "One of " + strings.Join(words, ", ") + "."
}
