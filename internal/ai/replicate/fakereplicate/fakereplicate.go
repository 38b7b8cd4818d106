// Package fakereplicate is an in-process fake of the Replicate HTTP API for
// tests: it speaks the real JSON wire format (predictions, problem JSON
// errors, Retry-After) so that the real replicate-go client runs against
// it, and it is scripted per prediction: succeed after N polls, fail, end
// aborted or canceled, answer the create with 429/500/401, serve an expired
// output, or echo the token into its errors (Script.EchoToken). It counts creates, gets, cancels and downloads.
package fakereplicate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Token is the API token the fake accepts unless Server.Token is changed.
const Token = "r8_fakereplicatetoken0000000000000000000"

// Outcome is how a prediction ends.
type Outcome string

// The outcomes a script can choose.
const (
	Succeeded Outcome = "succeeded"
	Failed    Outcome = "failed"
	Aborted   Outcome = "aborted"
	Canceled  Outcome = "canceled"
)

// Script is how one prediction behaves. The zero value succeeds on the first
// poll with a PNG.
type Script struct {
	// CreateStatus, when not zero, makes the create request fail with this
	// HTTP status and a problem JSON body; no prediction is made.
	CreateStatus int
	// RetryAfter is the Retry-After header sent with CreateStatus (use it
	// with 429).
	RetryAfter string
	// Polls is how many GETs answer "processing" before the outcome shows;
	// negative means the prediction never ends (until canceled).
	Polls int
	// GetFailures is how many of the first GETs answer HTTP 500 (they do not
	// count as polls).
	GetFailures int
	// Outcome is how the prediction ends; zero means Succeeded.
	Outcome Outcome
	// Error is the prediction's error message when Outcome is Failed.
	Error string
	// OutputStatus, when not zero, makes the output URL answer this status
	// instead of the image (404 is what an expired output gives).
	OutputStatus int
	// OutputContentType is the output's Content-Type; zero means image/png.
	OutputContentType string
	// Output, when not nil, is served instead of the server's PNG.
	Output []byte
	// OutputValue, when not nil, is the succeeded prediction's output field
	// in place of the list with the URL of its image (a model that does not
	// make images answers with text, for example).
	OutputValue any
	// Delay holds the create request's answer this long (a slow API).
	Delay time.Duration
	// EchoToken makes every error of this prediction quote the request's
	// token (as sent, base64, URL- and JSON-escaped) in the problem's
	// title, detail and type and in an X-Request-Id header: the create
	// failure (CreateStatus), the GET failures (GetFailures) and, for a
	// Failed outcome, the prediction's error, which then carries it after
	// Error.
	EchoToken bool
}

// CreateRequest is one create request the fake received.
type CreateRequest struct {
	Model   string // "owner/name" for /models/{owner}/{name}/predictions
	Version string // for POST /predictions
	Input   map[string]any
}

// Server is the fake Replicate API. Its exported fields may be changed
// before the first request.
type Server struct {
	// URL is the API base URL, ending in /v1 (REPLICATE_BASE_URL).
	URL string
	// Token is the accepted API token; a request with another one gets 401.
	// The 401 detail quotes the token it was given (real Replicate does
	// not), so tests can prove that a client never repeats it.
	Token string
	// PNG is the image every succeeded prediction outputs by default.
	PNG []byte

	srv *httptest.Server

	mu          sync.Mutex
	scripts     []Script
	fallback    func() Script
	predictions map[string]*prediction
	nextID      int
	creates     []CreateRequest
	gets        int
	cancels     int
	downloads   int
}

type prediction struct {
	ID        string
	Model     string
	Version   string
	Input     map[string]any
	Script    Script
	Gets      int // GETs answered so far, failures included
	Polls     int // GETs answered with a status
	Canceled  bool
	CreatedAt time.Time
}

// New starts a fake server that stops when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := Start()
	tb.Cleanup(s.srv.Close)
	return s
}

// Start starts a fake server outside a test (the chaos run's driver); the
// caller closes it.
func Start() *Server {
	s := &Server{
		Token:       Token,
		PNG:         testPNG(64, 36),
		predictions: map[string]*prediction{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/models/{owner}/{name}/predictions", s.handleCreate)
	mux.HandleFunc("POST /v1/predictions", s.handleCreate)
	mux.HandleFunc("GET /v1/predictions/{id}", s.auth(s.handleGet))
	mux.HandleFunc("POST /v1/predictions/{id}/cancel", s.auth(s.handleCancel))
	mux.HandleFunc("GET /delivery/{id}/out-0.png", s.handleOutput)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem(w, http.StatusNotFound, "Not found", "Not found.", "")
	})
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL + "/v1"
	return s
}

// Close stops the server; New already arranges it for the test's end.
func (s *Server) Close() { s.srv.Close() }

// Script queues behaviours for the next created predictions, in order;
// once the queue is empty, predictions follow the zero Script.
func (s *Server) Script(scripts ...Script) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts = append(s.scripts, scripts...)
}

// SetFallback sets the function that makes the script of a prediction
// created when no queued script is left (nil: the zero Script), so that a
// long run can switch between faults and normal answers over time.
func (s *Server) SetFallback(f func() Script) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fallback = f
}

// Seed adds a prediction as if an earlier job had created it, without
// counting a create, and returns its id.
func (s *Server) Seed(sc Script) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.add("seeded/model", "", map[string]any{"prompt": "seeded"}, sc).ID
}

// Creates is how many create requests arrived, failed and unauthorized
// ones included.
func (s *Server) Creates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.creates)
}

// CreateRequests returns the create requests in arrival order.
func (s *Server) CreateRequests() []CreateRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CreateRequest(nil), s.creates...)
}

// Gets is how many GET /predictions/{id} requests arrived.
func (s *Server) Gets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets
}

// Cancels is how many cancel requests arrived.
func (s *Server) Cancels() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancels
}

// Downloads is how many output downloads arrived.
func (s *Server) Downloads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.downloads
}

// Status returns a prediction's current status without counting a get.
func (s *Server) Status(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.predictions[id]
	if !ok {
		return ""
	}
	return s.status(p)
}

func (s *Server) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.authorized(w, r) {
			next(w, r)
		}
	}
}

// authorized answers 401 unless r carries the token.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || got != s.Token {
		problem(w, http.StatusUnauthorized, "Unauthenticated",
			fmt.Sprintf("Invalid token %q. You did not pass a valid authentication token", got), "")
		return false
	}
	return true
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Version string         `json:"version"`
		Input   map[string]any `json:"input"`
	}
	decodeErr := json.NewDecoder(r.Body).Decode(&body)

	s.mu.Lock()
	req := CreateRequest{Version: body.Version, Input: body.Input}
	if owner := r.PathValue("owner"); owner != "" {
		req.Model = owner + "/" + r.PathValue("name")
	}
	s.creates = append(s.creates, req)
	if !s.authorized(w, r) {
		s.mu.Unlock()
		return
	}
	var sc Script
	if len(s.scripts) > 0 {
		sc, s.scripts = s.scripts[0], s.scripts[1:]
	} else if s.fallback != nil {
		sc = s.fallback()
	}
	if sc.Delay > 0 {
		s.mu.Unlock()
		select {
		case <-time.After(sc.Delay):
		case <-r.Context().Done():
		}
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	switch {
	case sc.CreateStatus != 0 && sc.EchoToken:
		if sc.RetryAfter != "" {
			w.Header().Set("Retry-After", sc.RetryAfter)
		}
		echoProblem(w, r, sc.CreateStatus)
		return
	case sc.CreateStatus == http.StatusTooManyRequests:
		if sc.RetryAfter != "" {
			w.Header().Set("Retry-After", sc.RetryAfter)
		}
		problem(w, sc.CreateStatus, "", "Request was throttled. Expected available in "+sc.RetryAfter+" seconds.", "")
		return
	case sc.CreateStatus != 0:
		problem(w, sc.CreateStatus, http.StatusText(sc.CreateStatus), "scripted failure", "")
		return
	case decodeErr != nil:
		problem(w, http.StatusBadRequest, "Bad request", "The request body is not JSON: "+decodeErr.Error(), "")
		return
	case req.Model == "" && req.Version == "":
		problem(w, http.StatusUnprocessableEntity, "Invalid version or not permitted", "The specified version does not exist (or perhaps you don't have permission to use it?)", "")
		return
	}
	if prompt, _ := body.Input["prompt"].(string); prompt == "" {
		problem(w, http.StatusUnprocessableEntity, "Input validation failed", "- input: prompt is required", "")
		return
	}
	if sc.EchoToken && sc.Outcome == Failed {
		sc.Error += " " + echoed(r)
	}
	p := s.add(req.Model, req.Version, body.Input, sc)
	writeJSON(w, http.StatusCreated, s.wire(p))
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	p, ok := s.predictions[r.PathValue("id")]
	if !ok {
		problem(w, http.StatusNotFound, "Not found", "Not found.", "")
		return
	}
	p.Gets++
	if p.Gets <= p.Script.GetFailures {
		if p.Script.EchoToken {
			echoProblem(w, r, http.StatusInternalServerError)
			return
		}
		problem(w, http.StatusInternalServerError, "Internal server error", "scripted failure", "")
		return
	}
	p.Polls++
	writeJSON(w, http.StatusOK, s.wire(p))
}

func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancels++
	p, ok := s.predictions[r.PathValue("id")]
	if !ok {
		problem(w, http.StatusNotFound, "Not found", "Not found.", "")
		return
	}
	if st := s.status(p); st == "starting" || st == "processing" {
		p.Canceled = true
	}
	writeJSON(w, http.StatusOK, s.wire(p))
}

func (s *Server) handleOutput(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.downloads++
	p, ok := s.predictions[r.PathValue("id")]
	var sc Script
	succeeded := false
	if ok {
		sc, succeeded = p.Script, s.status(p) == "succeeded"
	}
	img := s.PNG
	s.mu.Unlock()
	switch {
	case !succeeded:
		http.NotFound(w, r)
		return
	case sc.OutputStatus != 0:
		http.Error(w, http.StatusText(sc.OutputStatus), sc.OutputStatus)
		return
	}
	if sc.Output != nil {
		img = sc.Output
	}
	ct := sc.OutputContentType
	if ct == "" {
		ct = "image/png"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(img)))
	_, _ = w.Write(img)
}

// add records a new prediction; s.mu must be held.
func (s *Server) add(model, version string, input map[string]any, sc Script) *prediction {
	s.nextID++
	p := &prediction{
		ID:        fmt.Sprintf("fake%06dq7w3e", s.nextID),
		Model:     model,
		Version:   version,
		Input:     input,
		Script:    sc,
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(s.nextID) * time.Second),
	}
	s.predictions[p.ID] = p
	return p
}

// status is a prediction's status now; s.mu must be held (or the
// prediction otherwise not shared).
func (s *Server) status(p *prediction) string {
	switch {
	case p.Canceled:
		return "canceled"
	case p.Polls == 0:
		return "starting"
	case p.Script.Polls < 0 || p.Polls <= p.Script.Polls:
		return "processing"
	case p.Script.Outcome == "":
		return string(Succeeded)
	}
	return string(p.Script.Outcome)
}

// wire is a prediction in Replicate's JSON form; s.mu must be held.
func (s *Server) wire(p *prediction) map[string]any {
	status := s.status(p)
	base := s.srv.URL + "/v1/predictions/" + p.ID
	version := p.Version
	if version == "" {
		version = "hidden"
	}
	out := map[string]any{
		"id":           p.ID,
		"model":        p.Model,
		"version":      version,
		"input":        p.Input,
		"logs":         "",
		"output":       nil,
		"data_removed": false,
		"error":        nil,
		"status":       status,
		"source":       "api",
		"created_at":   p.CreatedAt.Format(time.RFC3339Nano),
		"urls": map[string]string{
			"get":    base,
			"cancel": base + "/cancel",
			"web":    "https://replicate.com/p/" + p.ID,
		},
	}
	if status != "starting" {
		out["started_at"] = p.CreatedAt.Add(time.Second).Format(time.RFC3339Nano)
	}
	switch status {
	case "succeeded":
		out["output"] = []string{s.srv.URL + "/delivery/" + p.ID + "/out-0.png"}
		if p.Script.OutputValue != nil {
			out["output"] = p.Script.OutputValue
		}
		out["metrics"] = map[string]any{"predict_time": 0.8, "total_time": 1.1, "image_count": 1}
	case "failed":
		out["error"] = p.Script.Error
	}
	if status == "succeeded" || status == "failed" || status == "canceled" || status == "aborted" {
		out["completed_at"] = p.CreatedAt.Add(2 * time.Second).Format(time.RFC3339Nano)
	}
	return out
}

// echoed quotes the token r carried in the forms a careless server might.
func echoed(r *http.Request) string {
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	js, _ := json.Marshal(token)
	return fmt.Sprintf("token %s (base64 %s, in a URL %s, in JSON %s)", token,
		base64.StdEncoding.EncodeToString([]byte(token)), url.QueryEscape(token), strings.Trim(string(js), `"`))
}

// echoProblem answers status with a problem that quotes the token in every
// field and in X-Request-Id.
func echoProblem(w http.ResponseWriter, r *http.Request, status int) {
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	w.Header().Set("X-Request-Id", token)
	problem(w, status, "Refused "+token, "Refused: "+echoed(r), "https://replicate.com/errors/"+url.PathEscape(token))
}

// problem writes an RFC 9457 problem JSON error the way Replicate does.
func problem(w http.ResponseWriter, status int, title, detail, typ string) {
	body := map[string]any{"status": status, "detail": detail}
	if title != "" {
		body["title"] = title
	}
	if typ != "" {
		body["type"] = typ
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// testPNG draws a small gradient PNG.
func testPNG(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{R: uint8(x * 255 / w), G: uint8(y * 255 / h), B: 128, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err) // encoding an in-memory NRGBA cannot fail
	}
	return buf.Bytes()
}
