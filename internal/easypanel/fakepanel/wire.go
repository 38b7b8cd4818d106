package fakepanel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// rpcError is a refusal the fake answers in tRPC's error envelope.
type rpcError struct {
	status  int
	message string
}

func errorf(status int, format string, args ...any) *rpcError {
	return &rpcError{status: status, message: fmt.Sprintf(format, args...)}
}

// serviceNotFound is how the panel has been seen answering a missing project or service.
func serviceNotFound() *rpcError {
	return errorf(http.StatusInternalServerError, "Service not found")
}

// trpcCodes maps HTTP statuses to tRPC's code names and JSON-RPC codes.
var trpcCodes = map[int]struct {
	name string
	code int
}{
	http.StatusBadRequest:          {"BAD_REQUEST", -32600},
	http.StatusUnauthorized:        {"UNAUTHORIZED", -32001},
	http.StatusForbidden:           {"FORBIDDEN", -32003},
	http.StatusNotFound:            {"NOT_FOUND", -32004},
	http.StatusMethodNotAllowed:    {"METHOD_NOT_SUPPORTED", -32005},
	http.StatusRequestTimeout:      {"TIMEOUT", -32008},
	http.StatusConflict:            {"CONFLICT", -32009},
	http.StatusTooManyRequests:     {"TOO_MANY_REQUESTS", -32029},
	http.StatusInternalServerError: {"INTERNAL_SERVER_ERROR", -32603},
}

func codeFor(status int) (string, int) {
	if c, ok := trpcCodes[status]; ok {
		return c.name, c.code
	}
	if status >= 500 {
		return "INTERNAL_SERVER_ERROR", -32603
	}
	return "BAD_REQUEST", -32600
}

// reply is a response computed under the lock and written after it.
type reply struct {
	status int
	body   any
}

func (s *Server) result(data any) reply {
	return reply{status: http.StatusOK, body: s.envelope(map[string]any{
		"result": map[string]any{"data": map[string]any{"json": data}},
	})}
}

func (s *Server) failure(procedure string, e *rpcError) reply {
	name, code := codeFor(e.status)
	return reply{status: e.status, body: s.envelope(map[string]any{
		"error": map[string]any{"json": map[string]any{
			"message": e.message,
			"code":    code,
			"data":    map[string]any{"code": name, "httpStatus": e.status, "path": procedure},
		}},
	})}
}

func (s *Server) envelope(one map[string]any) any {
	if s.batch {
		return []any{one}
	}
	return one
}

func (r reply) write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(r.status)
	_ = json.NewEncoder(w).Encode(r.body)
}

// readInput returns the call's input as a JSON object: from the {"json": ...} body of a POST, or
// from a GET's ?input={"json": ...} or its plain query parameters.
func readInput(r *http.Request) (json.RawMessage, *rpcError) {
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "read body: %v", err)
		}
		return unwrapInput(body)
	}
	query := r.URL.Query()
	if input := query.Get("input"); input != "" {
		return unwrapInput([]byte(input))
	}
	params := map[string]string{}
	for key := range query {
		params[key] = query.Get(key)
	}
	raw, _ := json.Marshal(params)
	return raw, nil
}

func unwrapInput(raw []byte) (json.RawMessage, *rpcError) {
	var wrapper struct {
		JSON json.RawMessage `json:"json"`
	}
	if err := json.Unmarshal(raw, &wrapper); err != nil || wrapper.JSON == nil {
		return nil, errorf(http.StatusBadRequest, `input must be {"json": {...}}`)
	}
	if bytes.Equal(bytes.TrimSpace(wrapper.JSON), []byte("null")) {
		return json.RawMessage(`{}`), nil
	}
	return wrapper.JSON, nil
}

// authForm names the Authorization form of r: "bearer", "plain" or "" when absent.
func authForm(r *http.Request) (form, token string) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return "", ""
	}
	if rest, ok := strings.CutPrefix(header, "Bearer "); ok {
		return "bearer", rest
	}
	return "plain", header
}

// newerReply is what a panel of 2.31 or later answers on the old tRPC path.
func newerReply(r *http.Request) reply {
	hasInput := r.URL.RawQuery != "" || (r.Method == http.MethodPost && r.ContentLength != 0)
	if hasInput {
		return reply{status: http.StatusBadRequest, body: map[string]any{
			"defined": false, "code": "BAD_REQUEST", "status": 400,
			"message": "Input validation failed", "data": map[string]any{"issues": []any{}},
		}}
	}
	return reply{status: http.StatusNotFound, body: map[string]any{
		"defined": false, "code": "NOT_FOUND", "status": 404, "message": "Not found",
	}}
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	newer := s.newerAPI
	s.mu.Unlock()
	if !newer {
		http.NotFound(w, nil)
		return
	}
	reply{status: http.StatusOK, body: map[string]any{"openapi": "3.1.0"}}.write(w)
}
