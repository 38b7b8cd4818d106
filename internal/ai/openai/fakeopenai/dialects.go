package fakeopenai

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Dialect is what another provider's OpenAI-compatible endpoint refuses
// of a chat request that OpenAI accepts: it returns the provider's
// refusal, or nil to let the request through to its behaviour. A refused
// request still uses up the behaviour queued for it.
type Dialect func(req *Request) Behavior

// SetDialect makes the server speak d (nil: OpenAI's, which refuses
// nothing here).
func (s *Server) SetDialect(d Dialect) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dialect = d
}

// Gemini refuses, as Gemini's OpenAI compatibility does with 400
// INVALID_ARGUMENT "Invalid JSON payload received. Unknown name ...", a
// json_schema whose schema has a keyword Gemini's schema has no field
// for (additionalProperties, $schema, const, ...); a type that is not
// one name (a nullable ["string", "null"] is "nullable": true there);
// and an enum of other than strings. max_tokens and
// max_completion_tokens are both accepted.
func Gemini(req *Request) Behavior {
	if req.Endpoint != EndpointChat {
		return nil
	}
	schema, ok := jsonSchemaOf(req)
	if !ok {
		return nil
	}
	var root any
	if err := json.Unmarshal(schema, &root); err != nil {
		return geminiError("Invalid JSON payload received. " + err.Error())
	}
	if problems := geminiProblems(root, "response_format.json_schema.schema"); len(problems) > 0 {
		return geminiError(strings.Join(problems, "\n"))
	}
	return nil
}

// geminiUnknown are the JSON Schema keywords Gemini's schema has no field
// for.
var geminiUnknown = map[string]bool{
	"additionalProperties": true, "$schema": true, "$id": true, "$comment": true, "const": true,
	"propertyNames": true, "patternProperties": true, "unevaluatedProperties": true,
	"exclusiveMinimum": true, "exclusiveMaximum": true, "dependentRequired": true,
	"if": true, "then": true, "else": true, "not": true, "examples": true,
}

func geminiProblems(v any, at string) []string {
	var out []string
	switch n := v.(type) {
	case []any:
		for i, e := range n {
			out = append(out, geminiProblems(e, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case map[string]any:
		for _, k := range sortedKeys(n) {
			val := n[k]
			switch {
			case geminiUnknown[k]:
				out = append(out, fmt.Sprintf("Invalid JSON payload received. Unknown name %q at '%s': Cannot find field.", k, at))
			case k == "type":
				if _, ok := val.(string); !ok {
					out = append(out, fmt.Sprintf("Invalid value at '%s.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), %s", at, compact(val)))
				}
			case k == "enum":
				items, _ := val.([]any)
				for i, e := range items {
					if _, ok := e.(string); !ok {
						out = append(out, fmt.Sprintf("Invalid value at '%s.enum[%d]' (TYPE_STRING), %s", at, i, compact(e)))
					}
				}
			case k == "properties" || k == "$defs":
				props, _ := val.(map[string]any)
				for _, name := range sortedKeys(props) {
					out = append(out, geminiProblems(props[name], at+".properties["+name+"].value")...)
				}
			default:
				out = append(out, geminiProblems(val, at+"."+k)...)
			}
		}
	}
	return out
}

// geminiError is Gemini's 400, a JSON array around the error as its
// OpenAI compatibility sends it.
func geminiError(message string) Behavior {
	return func(w http.ResponseWriter, _ *Request) {
		writeJSON(w, http.StatusBadRequest, []any{map[string]any{"error": map[string]any{
			"code": 400, "message": message, "status": "INVALID_ARGUMENT",
		}}})
	}
}

// mistralFields are the request fields Mistral's chat completions take;
// it answers 422 extra_forbidden to any other (max_completion_tokens,
// store, ...).
var mistralFields = map[string]bool{
	"model": true, "messages": true, "temperature": true, "top_p": true, "max_tokens": true,
	"stream": true, "stop": true, "random_seed": true, "response_format": true, "tools": true,
	"tool_choice": true, "presence_penalty": true, "frequency_penalty": true, "n": true,
	"prediction": true, "parallel_tool_calls": true, "prompt_mode": true, "safe_prompt": true,
}

// Mistral refuses, with Mistral's 422 extra_forbidden "Extra inputs are
// not permitted", a chat request with a field Mistral does not take,
// max_completion_tokens first among them; and a json_schema without its
// schema or name.
func Mistral(req *Request) Behavior {
	if req.Endpoint != EndpointChat {
		return nil
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(req.Body, &body); err != nil {
		return mistralError("body", err.Error(), nil)
	}
	for _, k := range sortedKeys(body) {
		if !mistralFields[k] {
			return mistralError(k, "Extra inputs are not permitted", body[k])
		}
	}
	if rf := req.ResponseFormat; rf != nil {
		var f struct {
			Type       string `json:"type"`
			JSONSchema *struct {
				Name   string          `json:"name"`
				Schema json.RawMessage `json:"schema"`
			} `json:"json_schema"`
		}
		if err := json.Unmarshal(rf, &f); err != nil {
			return mistralError("response_format", err.Error(), rf)
		}
		if f.Type == "json_schema" && (f.JSONSchema == nil || len(f.JSONSchema.Schema) == 0 || f.JSONSchema.Name == "") {
			return mistralError("response_format", "json_schema needs a name and a schema", rf)
		}
	}
	return nil
}

func mistralError(field, msg string, input json.RawMessage) Behavior {
	return func(w http.ResponseWriter, _ *Request) {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
			"object": "error",
			"message": map[string]any{"detail": []any{map[string]any{
				"type": "extra_forbidden", "loc": []any{"body", field}, "msg": msg, "input": input,
			}}},
			"type": "invalid_request_error", "param": nil, "code": nil,
		})
	}
}

// xaiKeywords are the keywords of xAI's documented JSON Schema subset
// (types, enum, const, anyOf, oneOf, a single-schema allOf, non-circular
// $ref/$defs, additionalProperties, format) and the annotations and
// bounds it reads as guidance.
var xaiKeywords = map[string]bool{
	"type": true, "properties": true, "required": true, "additionalProperties": true, "items": true,
	"enum": true, "const": true, "anyOf": true, "oneOf": true, "allOf": true, "$ref": true, "$defs": true,
	"format": true, "description": true, "title": true, "default": true,
	"minItems": true, "maxItems": true, "minLength": true, "maxLength": true, "pattern": true,
	"minimum": true, "maximum": true,
}

// XAI refuses with 400 a json_schema whose schema uses a keyword outside
// xAI's documented subset (a stand-in for "not guaranteed": the
// documentation does not say such a schema is refused, so the fake is
// the stricter of the two), or an allOf of more than one schema; and it
// takes max_completion_tokens, which xAI prefers, as well as max_tokens.
func XAI(req *Request) Behavior {
	if req.Endpoint != EndpointChat {
		return nil
	}
	schema, ok := jsonSchemaOf(req)
	if !ok {
		return nil
	}
	var root any
	if err := json.Unmarshal(schema, &root); err != nil {
		return xaiError(err.Error())
	}
	if p := xaiProblem(root, "schema"); p != "" {
		return xaiError(p)
	}
	return nil
}

func xaiProblem(v any, at string) string {
	switch n := v.(type) {
	case []any:
		for i, e := range n {
			if p := xaiProblem(e, fmt.Sprintf("%s[%d]", at, i)); p != "" {
				return p
			}
		}
	case map[string]any:
		for _, k := range sortedKeys(n) {
			switch {
			case !xaiKeywords[k]:
				return fmt.Sprintf("Invalid response_format: unsupported JSON Schema keyword %q at %s", k, at)
			case k == "allOf":
				if all, _ := n[k].([]any); len(all) > 1 {
					return "Invalid response_format: allOf with more than one schema at " + at
				}
			case k == "properties" || k == "$defs":
				props, _ := n[k].(map[string]any)
				for _, name := range sortedKeys(props) {
					if p := xaiProblem(props[name], at+"."+name); p != "" {
						return p
					}
				}
				continue
			case k == "enum" || k == "const" || k == "default" || k == "required":
				continue
			}
			if p := xaiProblem(n[k], at+"."+k); p != "" {
				return p
			}
		}
	}
	return ""
}

// xaiError is xAI's 400: a code and an error string.
func xaiError(msg string) Behavior {
	return func(w http.ResponseWriter, _ *Request) {
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"code": "Client specified an invalid argument", "error": msg,
		})
	}
}

// jsonSchemaOf returns the schema of a json_schema response_format.
func jsonSchemaOf(req *Request) (json.RawMessage, bool) {
	var f struct {
		Type       string `json:"type"`
		JSONSchema struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	}
	if req.ResponseFormat == nil || json.Unmarshal(req.ResponseFormat, &f) != nil || f.Type != "json_schema" {
		return nil, false
	}
	return f.JSONSchema.Schema, true
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
