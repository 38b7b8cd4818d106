// Package fakeopenai is an OpenAI API for tests: an httptest server that
// speaks the real wire format of Chat Completions and embeddings, on the
// OpenAI paths (POST /v1/chat/completions, POST /v1/embeddings) and the Azure
// ones (POST /openai/deployments/{name}/chat/completions?api-version=...,
// and .../embeddings). It records every request and answers with scripted
// behaviours: a normal answer, a refusal, a cut-off answer, a 429 with
// Retry-After and x-ratelimit-* headers, a 429 insufficient_quota, a 5xx, a
// stall past the client's timeout, an error that echoes the request's key
// into every field (EchoKey).
//
// Behaviours pushed with Push answer the next requests, one each, in order;
// when none is queued, a request gets the normal answer: for chat, the
// content the SetContent function builds ("{}" by default); for embeddings,
// Vector(input, dimensions) for each input, listed in reverse order with
// their real indexes so that clients must sort by index.
//
// It also speaks the Files and Batch APIs (batches.go): batches move from
// state to state only when the test says so, and their lines are answered
// as chat requests are.
package fakeopenai

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultDimensions is the vector length when a request names none, as for
// text-embedding-3-small.
const DefaultDimensions = 1536

// Endpoints, as recorded in Request.Endpoint.
const (
	EndpointChat       = "chat"
	EndpointEmbeddings = "embeddings"
)

// Message is one chat message of a request.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is a request as the server received it.
type Request struct {
	Endpoint   string // EndpointChat or EndpointEmbeddings
	Path       string
	APIVersion string // the api-version query parameter (Azure)
	Deployment string // the {name} of an Azure path
	Header     http.Header

	Model               string
	Messages            []Message
	ResponseFormat      json.RawMessage // as sent, or nil
	MaxCompletionTokens int
	MaxTokens           int

	Input          []string
	Dimensions     int
	EncodingFormat string

	Body json.RawMessage

	// Batch and CustomID name the batch and the line of a request answered
	// inside a batch (see batches.go); both are empty otherwise.
	Batch    string
	CustomID string

	done <-chan struct{} // closed when the client goes away
}

// Behavior answers one request.
type Behavior func(w http.ResponseWriter, req *Request)

// Server is the fake API. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	key      string
	content  func(*Request) string
	embed    func(input []string, dims int) [][]float32
	fallback Behavior
	queue    []Behavior
	requests []Request
	seq      int
	forget   bool
	spent    map[string]Spent // by model
	dialect  Dialect

	bmu     sync.Mutex // guards batches; taken before mu
	batches batchStore
}

// New starts a server and closes it when the test ends.
func New(t testing.TB) *Server {
	s := Start()
	t.Cleanup(s.Close)
	return s
}

// Start starts a server outside a test (the chaos run's driver); the
// caller closes it.
func Start() *Server {
	s := &Server{content: func(*Request) string { return "{}" }}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.handle(EndpointChat, false))
	mux.HandleFunc("POST /v1/embeddings", s.handle(EndpointEmbeddings, false))
	mux.HandleFunc("POST /openai/deployments/{name}/chat/completions", s.handle(EndpointChat, true))
	mux.HandleFunc("POST /openai/deployments/{name}/embeddings", s.handle(EndpointEmbeddings, true))
	s.routeBatches(mux, "/v1", false)
	s.routeBatches(mux, "/openai", true)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "unknown_url",
			fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path))
	})
	s.Server = httptest.NewServer(mux)
	return s
}

// BaseURL is the OpenAI base URL of the server, ending in /v1; the server's
// URL is the Azure endpoint.
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// SetKey makes the server require key (Authorization: Bearer on OpenAI
// paths, api-key on Azure paths) and answer 401 otherwise. The 401 message
// quotes the key it got in full, which the real API does only in part.
func (s *Server) SetKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key = key
}

// SetContent sets the function that builds a normal chat answer's content.
func (s *Server) SetContent(f func(*Request) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.content = f
}

// SetEmbeddings sets the function that computes the vectors of a normal
// embeddings answer (nil: Vector, random per text). A long run that
// clusters keywords needs vectors in which similar texts are near.
func (s *Server) SetEmbeddings(f func(input []string, dims int) [][]float32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.embed = f
}

// SetFallback sets the behaviour of requests when no pushed behaviour is
// queued (nil: Normal). A fallback may call Normal itself, so that it can
// switch between faults and normal answers over time.
func (s *Server) SetFallback(b Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fallback = b
}

// ForgetRequests stops the server from recording requests (Requests then
// returns nothing new), so that a long run does not keep every body.
func (s *Server) ForgetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget = true
	s.requests = nil
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

// Normal is the normal answer for the request's endpoint; push it to let a
// request through between scripted ones.
func (s *Server) Normal(w http.ResponseWriter, req *Request) {
	if req.Endpoint == EndpointEmbeddings {
		s.mu.Lock()
		embed := s.embed
		s.mu.Unlock()
		writeEmbeddings(w, req, embed)
		return
	}
	s.mu.Lock()
	content := s.content
	s.mu.Unlock()
	Complete(Completion{Content: content(req)})(w, req)
}

func (s *Server) handle(endpoint string, azure bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := parseRequest(r, endpoint)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "", err.Error())
			return
		}
		if azure {
			req.Deployment = r.PathValue("name")
		}
		requestID, b := s.receive(req, nil)
		w.Header().Set("x-request-id", requestID)
		s.mu.Lock()
		key, dialect := s.key, s.dialect
		s.mu.Unlock()

		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if azure {
			got = r.Header.Get("api-key")
			if req.APIVersion == "" {
				writeError(w, http.StatusNotFound, "", "404", "Resource not found")
				return
			}
		}
		if key != "" && got != key {
			writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key",
				"Incorrect API key provided: "+got+". You can find your API key at https://platform.openai.com/account/api-keys.")
			return
		}
		if dialect != nil {
			if refuse := dialect(req); refuse != nil {
				refuse(w, req)
				return
			}
		}
		tw := &teeWriter{ResponseWriter: w}
		b(tw, req)
		s.countUsage(tw.status, tw.body.Bytes())
	}
}

// receive records req and picks its behaviour: override if not nil, else
// the next pushed one, the fallback, or Normal. It returns the request id
// of the answer.
func (s *Server) receive(req *Request, override Behavior) (requestID string, b Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	if !s.forget {
		s.requests = append(s.requests, *req)
	}
	if override != nil {
		return "req_fake_" + strconv.Itoa(s.seq), override
	}
	b = s.Normal
	if s.fallback != nil {
		b = s.fallback
	}
	if len(s.queue) > 0 {
		b = s.queue[0]
		s.queue = s.queue[1:]
	}
	return "req_fake_" + strconv.Itoa(s.seq), b
}

func parseRequest(r *http.Request, endpoint string) (*Request, error) {
	var body json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("We could not parse the JSON body of your request: %v", err)
	}
	req, err := parseBody(body, endpoint)
	if err != nil {
		return nil, err
	}
	req.Path = r.URL.Path
	req.APIVersion = r.URL.Query().Get("api-version")
	req.Header = r.Header.Clone()
	req.done = r.Context().Done()
	return req, nil
}

// parseBody reads the JSON body of a request to endpoint.
func parseBody(body json.RawMessage, endpoint string) (*Request, error) {
	req := &Request{Endpoint: endpoint, Header: http.Header{}, Body: body}
	var wire struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		ResponseFormat      json.RawMessage `json:"response_format"`
		MaxCompletionTokens int             `json:"max_completion_tokens"`
		MaxTokens           int             `json:"max_tokens"`
		Input               json.RawMessage `json:"input"`
		Dimensions          int             `json:"dimensions"`
		EncodingFormat      string          `json:"encoding_format"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return nil, fmt.Errorf("invalid request body: %v", err)
	}
	if wire.Model == "" {
		return nil, fmt.Errorf("you must provide a model parameter")
	}
	req.Model, req.ResponseFormat = wire.Model, wire.ResponseFormat
	req.MaxCompletionTokens, req.MaxTokens = wire.MaxCompletionTokens, wire.MaxTokens
	req.Dimensions, req.EncodingFormat = wire.Dimensions, wire.EncodingFormat
	switch endpoint {
	case EndpointChat:
		if len(wire.Messages) == 0 {
			return nil, fmt.Errorf("'messages' must contain at least one message")
		}
		for _, m := range wire.Messages {
			var text string
			if err := json.Unmarshal(m.Content, &text); err != nil {
				text = string(m.Content) // content parts: kept as JSON
			}
			req.Messages = append(req.Messages, Message{Role: m.Role, Content: text})
		}
	case EndpointEmbeddings:
		var one string
		if err := json.Unmarshal(wire.Input, &one); err == nil {
			req.Input = []string{one}
		} else if err := json.Unmarshal(wire.Input, &req.Input); err != nil {
			return nil, fmt.Errorf("'input' must be a string or an array of strings")
		}
		if len(req.Input) == 0 || len(req.Input) > 2048 {
			return nil, fmt.Errorf("'input' must have 1 to 2048 items, got %d", len(req.Input))
		}
		for i, in := range req.Input {
			if in == "" {
				return nil, fmt.Errorf("'$.input[%d]' is invalid: empty string", i)
			}
		}
	}
	return req, nil
}

// ---------------------------------------------------------------------------
// Behaviours

// Completion is a chat answer. Zero fields take defaults: Model the model
// asked for, FinishReason "stop", tokens the words of the messages and of
// the content.
type Completion struct {
	Model            string
	Content          string
	Refusal          string
	FinishReason     string
	PromptTokens     int
	CompletionTokens int
}

// Complete answers a chat request with c.
func Complete(c Completion) Behavior {
	return func(w http.ResponseWriter, req *Request) {
		if req.Endpoint != EndpointChat {
			writeError(w, http.StatusInternalServerError, "fake_error", "",
				"fakeopenai: a chat behaviour was used for "+req.Endpoint)
			return
		}
		if c.Model == "" {
			c.Model = req.Model
		}
		if c.FinishReason == "" {
			c.FinishReason = "stop"
		}
		if c.PromptTokens == 0 {
			for _, m := range req.Messages {
				c.PromptTokens += len(strings.Fields(m.Content))
			}
		}
		if c.CompletionTokens == 0 {
			c.CompletionTokens = len(strings.Fields(c.Content + " " + c.Refusal))
		}
		msg := map[string]any{"role": "assistant", "content": nil, "refusal": nil}
		if c.Content != "" || c.Refusal == "" {
			msg["content"] = c.Content
		}
		if c.Refusal != "" {
			msg["refusal"] = c.Refusal
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id":      "chatcmpl-fake",
			"object":  "chat.completion",
			"created": time.Now().Unix(),
			"model":   c.Model,
			"choices": []any{map[string]any{
				"index": 0, "message": msg, "logprobs": nil, "finish_reason": c.FinishReason,
			}},
			"usage": map[string]any{
				"prompt_tokens": c.PromptTokens, "completion_tokens": c.CompletionTokens,
				"total_tokens": c.PromptTokens + c.CompletionTokens,
			},
			"system_fingerprint": "fp_fake",
		})
	}
}

// Content answers a chat request with content.
func Content(content string) Behavior { return Complete(Completion{Content: content}) }

// InvalidJSON answers a chat request with content that is not JSON.
func InvalidJSON() Behavior { return Content("Sure! Here is the JSON you asked for:") }

// Refusal answers a chat request with a refusal and no content.
func Refusal(msg string) Behavior { return Complete(Completion{Refusal: msg}) }

// Truncated answers a chat request with partial content cut off at the
// token limit (finish_reason "length").
func Truncated(partial string) Behavior {
	return Complete(Completion{Content: partial, FinishReason: "length"})
}

// RateLimited answers 429 rate_limit_exceeded with the headers given, such
// as Retry-After, x-ratelimit-remaining-requests and
// x-ratelimit-reset-requests.
func RateLimited(header http.Header) Behavior {
	return func(w http.ResponseWriter, req *Request) {
		for k, vs := range header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		writeError(w, http.StatusTooManyRequests, "requests", "rate_limit_exceeded",
			"Rate limit reached for "+req.Model+" in organization org-fake on requests per min (RPM): "+
				"Limit 3, Used 3, Requested 1. Please try again in 20s.")
	}
}

// InsufficientQuota answers 429 insufficient_quota, as the API does when
// the account has no credit left.
func InsufficientQuota() Behavior {
	return Error(http.StatusTooManyRequests, "insufficient_quota", "insufficient_quota",
		"You exceeded your current quota, please check your plan and billing details.")
}

// ServerError answers 500 with the API's usual message.
func ServerError() Behavior {
	return Error(http.StatusInternalServerError, "server_error", "",
		"The server had an error while processing your request. Sorry about that!")
}

// Error answers status with an OpenAI-shaped error body.
func Error(status int, typ, code, message string) Behavior {
	return func(w http.ResponseWriter, _ *Request) { writeError(w, status, typ, code, message) }
}

// EchoKey answers status with an OpenAI-shaped error that quotes the key the
// request carried (Authorization: Bearer, or api-key on Azure paths) in
// every field a client may keep: the message (as sent, base64, URL- and
// JSON-escaped), the code, the type, the param, and the x-request-id and
// apim-request-id headers. A hostile or careless OpenAI-compatible server
// can do this; clients must show none of it. With 429 it adds
// Retry-After: 1.
func EchoKey(status int) Behavior {
	return func(w http.ResponseWriter, req *Request) {
		key := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
		if k := req.Header.Get("api-key"); k != "" {
			key = k
		}
		b64 := base64.StdEncoding.EncodeToString([]byte(key))
		jsonEscaped, _ := json.Marshal(key)
		w.Header().Set("x-request-id", key)
		w.Header().Set("apim-request-id", b64)
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		writeJSON(w, status, map[string]any{"error": map[string]any{
			"message": fmt.Sprintf("Key %s (base64 %s, in a URL %s, in JSON %s) is not allowed. Bearer %s",
				key, b64, url.QueryEscape(key), strings.Trim(string(jsonEscaped), `"`), key),
			"type":  base64.RawURLEncoding.EncodeToString([]byte(key)),
			"code":  key,
			"param": url.PathEscape(key),
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

// Stall answers nothing until release is closed or the client goes away;
// with a short client timeout it makes the client time out. Close release
// in t.Cleanup, so the server can shut down.
func Stall(release <-chan struct{}) Behavior {
	return func(w http.ResponseWriter, req *Request) {
		select {
		case <-release:
		case <-req.done:
		}
		writeError(w, http.StatusServiceUnavailable, "server_error", "", "stalled")
	}
}

// ---------------------------------------------------------------------------
// Embeddings

// Vector is the deterministic vector the server returns for text: dims
// values in [-1, 1) from a generator seeded with the text's hash.
func Vector(text string, dims int) []float32 {
	h := fnv.New64a()
	h.Write([]byte(text))
	seed := h.Sum64()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	v := make([]float32, dims)
	for i := range v {
		v[i] = float32(r.Float64()*2 - 1)
	}
	return v
}

func writeEmbeddings(w http.ResponseWriter, req *Request, embed func([]string, int) [][]float32) {
	dims := req.Dimensions
	if dims == 0 {
		dims = DefaultDimensions
	}
	var vectors [][]float32
	if embed != nil {
		vectors = embed(req.Input, dims)
	}
	data := make([]any, 0, len(req.Input))
	tokens := 0
	for i := len(req.Input) - 1; i >= 0; i-- {
		v := Vector(req.Input[i], dims)
		if i < len(vectors) {
			v = vectors[i]
		}
		data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": v})
		tokens += max(len(strings.Fields(req.Input[i])), 1)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data":   data,
		"model":  req.Model,
		"usage":  map[string]any{"prompt_tokens": tokens, "total_tokens": tokens},
	})
}

// ---------------------------------------------------------------------------
// Wire helpers

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, typ, code, message string) {
	e := map[string]any{"message": message, "type": typ, "param": nil, "code": nil}
	if code != "" {
		e["code"] = code
	}
	writeJSON(w, status, map[string]any{"error": e})
}
