// Package fakeanthropic is Anthropic's Messages API for tests: an httptest
// server that speaks the real wire format of POST /v1/messages, with tool
// use, usage blocks that count prompt-cache writes and reads, and the API's
// error bodies ({"type":"error","error":{"type":...,"message":...}}). It
// records every request and answers with scripted behaviours: a normal
// answer (a tool call whose input the SetContent function builds), a
// refusal, an answer cut off at max_tokens, an answer without a tool call,
// a 429 with retry-after and anthropic-ratelimit-* headers, a 529
// overloaded_error, a 5xx, a stall past the client's timeout, an error that
// echoes the request's key.
//
// The prompt cache is simulated: a request whose system prompt carries
// cache_control writes its tools and system prompt to the cache the first
// time (cache_creation_input_tokens) and reads them on later requests with
// the same model, tools and system prompt (cache_read_input_tokens). Tokens
// are counted as words; there is no minimum cacheable length.
//
// Behaviours pushed with Push answer the next requests, one each, in order;
// when none is queued, a request gets the normal answer.
package fakeanthropic

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Message is one message of a request, its content blocks' text joined.
type Message struct {
	Role    string
	Content string
}

// Tool is a tool of a request.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"input_schema"`
	Strict      bool            `json:"strict"`
}

// Request is a request as the server received it.
type Request struct {
	Path   string
	Header http.Header

	Model     string
	MaxTokens int
	// System is the system prompt's text; SystemCached says whether a
	// block of it carried cache_control.
	System       string
	SystemCached bool
	Messages     []Message
	Tools        []Tool
	ToolChoice   json.RawMessage // as sent, or nil

	Body json.RawMessage

	done <-chan struct{} // closed when the client goes away
}

// Prompt is the text of the last message.
func (r *Request) Prompt() string {
	if len(r.Messages) == 0 {
		return ""
	}
	return r.Messages[len(r.Messages)-1].Content
}

// ForcedTool is the tool that tool_choice names, or "" when it names none.
func (r *Request) ForcedTool() string {
	var tc struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if json.Unmarshal(r.ToolChoice, &tc) != nil || tc.Type != "tool" {
		return ""
	}
	return tc.Name
}

// Behavior answers one request.
type Behavior func(w http.ResponseWriter, req *Request)

// Server is the fake API. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	key      string
	content  func(*Request) string
	fallback Behavior
	queue    []Behavior
	requests []Request
	seq      int
	cache    map[string]bool // prompt-cache prefixes written
}

// New starts a server and closes it when the test ends.
func New(t testing.TB) *Server {
	s := Start()
	t.Cleanup(s.Close)
	return s
}

// Start starts a server outside a test; the caller closes it.
func Start() *Server {
	s := &Server{content: func(*Request) string { return "{}" }, cache: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/messages", s.handle)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found_error", "Not found")
	})
	s.Server = httptest.NewServer(mux)
	return s
}

// SetKey makes the server require key, in x-api-key or as an
// Authorization bearer token (as the SDK sends it), and answer 401
// authentication_error otherwise. The 401 message quotes the key it got in
// full, which the real API does not.
func (s *Server) SetKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key = key
}

// SetContent sets the function that builds a normal answer's tool input,
// a JSON object ("{}" by default).
func (s *Server) SetContent(f func(*Request) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.content = f
}

// SetFallback sets the behaviour of requests when no pushed behaviour is
// queued (nil: Normal).
func (s *Server) SetFallback(b Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fallback = b
}

// Push queues behaviours for the next requests, one request each.
func (s *Server) Push(bs ...Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, bs...)
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Normal is the normal answer: a call of the forced tool (else of the
// first tool) with the content SetContent builds.
func (s *Server) Normal(w http.ResponseWriter, req *Request) {
	s.mu.Lock()
	content := s.content
	s.mu.Unlock()
	Complete(Reply{Input: content(req)})(w, req)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	req, err := parseRequest(r)
	s.mu.Lock()
	s.seq++
	w.Header().Set("request-id", "req_fake_"+strconv.Itoa(s.seq))
	key := s.key
	s.mu.Unlock()
	if got := requestKey(r.Header); key != "" && got != key {
		writeError(w, http.StatusUnauthorized, "authentication_error", "invalid x-api-key: "+got)
		return
	}
	if r.Header.Get("anthropic-version") == "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version: header is required")
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, *req)
	var b Behavior = s.Normal
	if s.fallback != nil {
		b = s.fallback
	}
	if len(s.queue) > 0 {
		b = s.queue[0]
		s.queue = s.queue[1:]
	}
	s.mu.Unlock()
	b(&cacheWriter{ResponseWriter: w, s: s, req: req}, req)
}

func parseRequest(r *http.Request) (*Request, error) {
	var body json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("invalid JSON body: %v", err)
	}
	req := &Request{Path: r.URL.Path, Header: r.Header.Clone(), Body: body, done: r.Context().Done()}
	var wire struct {
		Model     string          `json:"model"`
		MaxTokens *int            `json:"max_tokens"`
		System    json.RawMessage `json:"system"`
		Messages  []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		Tools      []Tool          `json:"tools"`
		ToolChoice json.RawMessage `json:"tool_choice"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return nil, fmt.Errorf("invalid request body: %v", err)
	}
	switch {
	case wire.Model == "":
		return nil, fmt.Errorf("model: Field required")
	case wire.MaxTokens == nil:
		return nil, fmt.Errorf("max_tokens: Field required")
	case *wire.MaxTokens < 1:
		return nil, fmt.Errorf("max_tokens: Input should be greater than or equal to 1")
	case len(wire.Messages) == 0:
		return nil, fmt.Errorf("messages: at least one message is required")
	}
	req.Model, req.MaxTokens, req.Tools, req.ToolChoice = wire.Model, *wire.MaxTokens, wire.Tools, wire.ToolChoice
	for _, t := range req.Tools {
		if t.Name == "" || len(t.InputSchema) == 0 {
			return nil, fmt.Errorf("tools: each tool needs a name and an input_schema")
		}
	}
	if name := req.ForcedTool(); name != "" && !hasTool(req.Tools, name) {
		return nil, fmt.Errorf("tool_choice: tool %q not found in tools", name)
	}
	var cached bool
	req.System, cached = blocksText(wire.System)
	req.SystemCached = cached
	for _, m := range wire.Messages {
		text, _ := blocksText(m.Content)
		req.Messages = append(req.Messages, Message{Role: m.Role, Content: text})
	}
	return req, nil
}

func hasTool(tools []Tool, name string) bool {
	for _, t := range tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

// blocksText reads content that is a string or a list of text blocks; cached
// says whether a block carried cache_control.
func blocksText(raw json.RawMessage) (text string, cached bool) {
	if len(raw) == 0 {
		return "", false
	}
	if json.Unmarshal(raw, &text) == nil {
		return text, false
	}
	var blocks []struct {
		Type         string          `json:"type"`
		Text         string          `json:"text"`
		CacheControl json.RawMessage `json:"cache_control"`
	}
	if json.Unmarshal(raw, &blocks) != nil {
		return string(raw), false
	}
	var parts []string
	for _, b := range blocks {
		parts = append(parts, b.Text)
		cached = cached || (len(b.CacheControl) > 0 && string(b.CacheControl) != "null")
	}
	return strings.Join(parts, "\n"), cached
}

// ---------------------------------------------------------------------------
// Behaviours

// Reply is a message answer. Zero fields take defaults: Model the model
// asked for; the tool the forced one (else the first); StopReason
// "tool_use" when there is a tool call, else "end_turn"; the usage the
// words of the request (the cached part as the simulated cache says) and of
// the answer.
type Reply struct {
	Model string
	// Input is the tool call's input, a JSON object; "" for an answer
	// without a tool call.
	Input string
	// Tool names the tool called; "" means the forced (else first) tool.
	Tool string
	// Text, if set, is a text block before the tool call.
	Text       string
	StopReason string
	// Explanation, with StopReason "refusal", is stop_details.explanation.
	Explanation string

	InputTokens, OutputTokens int
	CacheCreation, CacheRead  int
	// NoCache leaves the simulated prompt cache out of the usage.
	NoCache bool
}

// Complete answers with r.
func Complete(r Reply) Behavior {
	return func(w http.ResponseWriter, req *Request) {
		if r.Model == "" {
			r.Model = req.Model
		}
		var content []any
		if r.Text != "" {
			content = append(content, map[string]any{"type": "text", "text": r.Text})
		}
		if r.Input != "" {
			tool := r.Tool
			if tool == "" {
				tool = req.ForcedTool()
			}
			if tool == "" && len(req.Tools) > 0 {
				tool = req.Tools[0].Name
			}
			content = append(content, map[string]any{
				"type": "tool_use", "id": "toolu_fake_" + shortHash(req.Body), "name": tool,
				"input": json.RawMessage(r.Input),
			})
		}
		if content == nil {
			content = []any{}
		}
		if r.StopReason == "" {
			r.StopReason = "end_turn"
			if r.Input != "" {
				r.StopReason = "tool_use"
			}
		}
		answer := map[string]any{
			"id": "msg_fake_" + shortHash(req.Body), "type": "message", "role": "assistant",
			"model": r.Model, "content": content, "stop_reason": r.StopReason, "stop_sequence": nil,
			"usage": r.usage(w, req),
		}
		if r.StopReason == "refusal" {
			answer["stop_details"] = map[string]any{"type": "refusal", "category": nil, "explanation": nilIfEmpty(r.Explanation)}
		}
		writeJSON(w, http.StatusOK, answer)
	}
}

// usage is the answer's usage block, from the simulated cache unless its
// counts are set.
func (r Reply) usage(w http.ResponseWriter, req *Request) map[string]any {
	in, write, read := r.InputTokens, r.CacheCreation, r.CacheRead
	if in == 0 && write == 0 && read == 0 {
		in = words(req.Prompt())
		prefix := words(req.System)
		for _, t := range req.Tools {
			prefix += words(string(t.InputSchema)) + 1
		}
		cw, _ := w.(*cacheWriter)
		switch {
		case r.NoCache || cw == nil || !req.SystemCached:
			in += prefix
		case cw.s.remember(req):
			read = prefix
		default:
			write = prefix
		}
	}
	out := r.OutputTokens
	if out == 0 {
		out = words(r.Input+" "+r.Text) + 1
	}
	return map[string]any{
		"input_tokens": in, "output_tokens": out,
		"cache_creation_input_tokens": write, "cache_read_input_tokens": read,
		"cache_creation": map[string]any{"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": 0},
		"service_tier":   "standard",
	}
}

// Content answers with a call of the forced tool whose input is input.
func Content(input string) Behavior { return Complete(Reply{Input: input}) }

// Refusal answers with stop_reason "refusal" and explanation (none if "").
func Refusal(explanation string) Behavior {
	return Complete(Reply{StopReason: "refusal", Explanation: explanation})
}

// Truncated answers with stop_reason "max_tokens" and the tool call's input
// as far as it was written (a JSON object: "{}" when "").
func Truncated(input string) Behavior {
	if input == "" {
		input = "{}"
	}
	return Complete(Reply{Input: input, StopReason: "max_tokens"})
}

// NoToolUse answers with text only, as a model that ignored the tool would.
func NoToolUse(text string) Behavior { return Complete(Reply{Text: text}) }

// RateLimited answers 429 rate_limit_error with the headers given, such as
// retry-after, anthropic-ratelimit-requests-remaining and
// anthropic-ratelimit-requests-reset.
func RateLimited(header http.Header) Behavior {
	return func(w http.ResponseWriter, req *Request) {
		copyHeader(w, header)
		writeError(w, http.StatusTooManyRequests, "rate_limit_error",
			"This request would exceed the rate limit for your organization of 50 requests per minute. "+
				"For details, refer to: https://docs.claude.com/en/api/rate-limits.")
	}
}

// Overloaded answers 529 overloaded_error with the headers given.
func Overloaded(header http.Header) Behavior {
	return func(w http.ResponseWriter, req *Request) {
		copyHeader(w, header)
		writeError(w, 529, "overloaded_error", "Overloaded")
	}
}

// ServerError answers 500 api_error.
func ServerError() Behavior {
	return Error(http.StatusInternalServerError, "api_error", "Internal server error")
}

// Error answers status with an Anthropic-shaped error body.
func Error(status int, typ, message string) Behavior {
	return func(w http.ResponseWriter, _ *Request) { writeError(w, status, typ, message) }
}

// ErrorWithCode answers status with an error body whose
// error.details.error_code is code.
func ErrorWithCode(status int, typ, code, message string) Behavior {
	return func(w http.ResponseWriter, _ *Request) {
		writeJSON(w, status, map[string]any{"type": "error", "error": map[string]any{
			"type": typ, "message": message, "details": map[string]any{"error_code": code}}})
	}
}

// EchoKey answers status with an error that quotes the key the request
// carried (x-api-key or Authorization) in every field a client may keep: the message (as
// sent, base64, URL- and JSON-escaped), the type, and the request-id
// header. With 429 it adds retry-after: 1.
func EchoKey(status int) Behavior {
	return func(w http.ResponseWriter, req *Request) {
		key := requestKey(req.Header)
		b64 := base64.StdEncoding.EncodeToString([]byte(key))
		jsonEscaped, _ := json.Marshal(key)
		w.Header().Set("request-id", "req_"+key)
		if status == http.StatusTooManyRequests {
			w.Header().Set("retry-after", "1")
		}
		writeJSON(w, status, map[string]any{"type": "error", "error": map[string]any{
			"type": base64.RawURLEncoding.EncodeToString([]byte(key)),
			"message": fmt.Sprintf("Key %s (base64 %s, in a URL %s, in JSON %s) is not allowed. x-api-key: %s",
				key, b64, url.QueryEscape(key), strings.Trim(string(jsonEscaped), `"`), key),
		}})
	}
}

// Raw answers status with body as text/html, as a proxy in front of the API
// might.
func Raw(status int, body string) Behavior {
	return func(w http.ResponseWriter, _ *Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// Stall answers nothing until release is closed or the client goes away.
// Close release in t.Cleanup, so the server can shut down.
func Stall(release <-chan struct{}) Behavior {
	return func(w http.ResponseWriter, req *Request) {
		select {
		case <-release:
		case <-req.done:
		}
		writeError(w, http.StatusInternalServerError, "api_error", "stalled")
	}
}

// ---------------------------------------------------------------------------
// Helpers

// cacheWriter gives behaviours the server's simulated prompt cache.
type cacheWriter struct {
	http.ResponseWriter
	s   *Server
	req *Request
}

func (w *cacheWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// remember reports whether req's cacheable prefix (model, tools, system)
// was written before, and writes it.
func (s *Server) remember(req *Request) bool {
	tools, _ := json.Marshal(req.Tools)
	key := req.Model + "\x00" + string(tools) + "\x00" + req.System
	s.mu.Lock()
	defer s.mu.Unlock()
	hit := s.cache[key]
	s.cache[key] = true
	return hit
}

// requestKey is the key a request carries: x-api-key, else the
// Authorization bearer token.
func requestKey(h http.Header) string {
	if k := h.Get("x-api-key"); k != "" {
		return k
	}
	return strings.TrimPrefix(h.Get("Authorization"), "Bearer ")
}

func words(s string) int { return len(strings.Fields(s)) }

func shortHash(b []byte) string {
	sum := sha256.Sum256(b)
	return fmt.Sprintf("%x", sum[:6])
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func copyHeader(w http.ResponseWriter, h http.Header) {
	for k, vs := range h {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, typ, message string) {
	writeJSON(w, status, map[string]any{
		"type":       "error",
		"error":      map[string]any{"type": typ, "message": message},
		"request_id": w.Header().Get("request-id"),
	})
}
