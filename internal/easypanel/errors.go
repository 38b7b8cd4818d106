package easypanel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/presswork/presswork/internal/secret"
)

// ErrUnsupportedPanel is wrapped by the error of any call to a panel that answers with the API
// that replaced tRPC.
var ErrUnsupportedPanel = errors.New("the panel speaks Easypanel's newer /api/rpc API (version 2.31 or later), which Presswork does not implement")

// ErrLoginRefused is wrapped by the error of a call whose login the panel refused: a wrong email
// or password, not a panel that is down.
var ErrLoginRefused = errors.New("the panel refused the login: wrong email or password")

// ErrBadReply is wrapped by the error of a call whose reply is not Easypanel's: a result that does
// not decode as the procedure's, or a login that gives no token.
var ErrBadReply = errors.New("the reply is not Easypanel's")

// rpcInternalError is the JSON-RPC code tRPC gives INTERNAL_SERVER_ERROR.
const rpcInternalError = -32603

// maxMessageLen bounds the panel's message in Error's text; the whole reply stays in Reply.
const maxMessageLen = 300

// Error is the panel's refusal of a call.
type Error struct {
	Procedure string
	Status    int    // HTTP status of the reply
	Code      string // data.code, e.g. BAD_REQUEST
	Message   string // the panel's message, with the call's secrets masked
	Reply     []byte // the panel's whole reply body, for operators' logs: Mask it before logging

	rpcCode int // the JSON-RPC code, e.g. -32603
}

// Error names the procedure, status, code and message; never the reply body, which may hold
// secrets.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "easypanel %s: HTTP %d", e.Procedure, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		msg := e.Message
		if len(msg) > maxMessageLen {
			msg = msg[:maxMessageLen] + "..."
		}
		b.WriteString(": " + msg)
	}
	return b.String()
}

// NotFound reports a missing project, service or domain. Panels have been seen answering a
// missing project or service with INTERNAL_SERVER_ERROR (-32603, HTTP 500) rather than 404, so
// the message decides in that case.
func (e *Error) NotFound() bool {
	if e.Status == http.StatusNotFound || e.Code == "NOT_FOUND" {
		return true
	}
	internal := e.Code == "INTERNAL_SERVER_ERROR" || e.rpcCode == rpcInternalError ||
		e.Status == http.StatusInternalServerError
	return internal && saysMissing(e.Message)
}

// Conflict reports a name that is already taken.
func (e *Error) Conflict() bool {
	if e.Status == http.StatusConflict || e.Code == "CONFLICT" {
		return true
	}
	msg := strings.ToLower(e.Message)
	return strings.Contains(msg, "already exists") || strings.Contains(msg, "already taken") ||
		strings.Contains(msg, "already in use")
}

// ProjectMissing reports a refusal because the project named does not exist on the panel.
func (e *Error) ProjectMissing() bool {
	return e.NotFound() && strings.Contains(strings.ToLower(e.Message), "project")
}

// refusesLogin reports an auth.login answer that says the credentials are wrong (as opposed to
// a panel that failed).
func (e *Error) refusesLogin() bool {
	switch e.Status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		return true
	}
	return e.Code == "UNAUTHORIZED" || e.Code == "FORBIDDEN"
}

// Temporary reports a refusal worth retrying later: throttling or a server failure that is not
// the panel's way of saying "not found".
func (e *Error) Temporary() bool {
	if e.Status == http.StatusTooManyRequests || e.Code == "TOO_MANY_REQUESTS" {
		return true
	}
	return e.Status >= 500 && !e.NotFound()
}

func saysMissing(message string) bool {
	msg := strings.ToLower(message)
	missing := strings.Contains(msg, "not found") || strings.Contains(msg, "does not exist") ||
		strings.Contains(msg, "doesn't exist")
	return missing && (strings.Contains(msg, "service") || strings.Contains(msg, "project"))
}

// envelope is one tRPC reply: a result or an error.
type envelope struct {
	Result *struct {
		Data json.RawMessage `json:"data"`
	} `json:"result"`
	Error json.RawMessage `json:"error"`

	// Message and Code are set by replies that are not tRPC at all, like the newer API's.
	Message string          `json:"message"`
	Code    json.RawMessage `json:"code"`
}

// rpcError is the body of a tRPC error, inside its superjson "json" wrapper.
type rpcError struct {
	Message string          `json:"message"`
	Code    json.RawMessage `json:"code"`
	Data    struct {
		Code       string `json:"code"`
		HTTPStatus int    `json:"httpStatus"`
	} `json:"data"`
}

// parseReply returns the json payload of a successful reply, or the panel's refusal.
func parseReply(procedure string, status int, body []byte) (json.RawMessage, *Error) {
	env, ok := decodeEnvelope(body)
	ok2xx := status >= 200 && status < 300
	if ok && ok2xx && env.Result != nil && len(env.Error) == 0 {
		return unwrapJSON(env.Result.Data), nil
	}
	apiErr := &Error{Procedure: procedure, Status: status, Reply: body}
	if ok {
		fillError(apiErr, env)
	}
	switch {
	case apiErr.Message != "":
	case ok2xx:
		apiErr.Message = "reply is not a tRPC result"
	default:
		apiErr.Message = http.StatusText(status)
	}
	return nil, apiErr
}

// decodeEnvelope accepts the plain object and the batched array form.
func decodeEnvelope(body []byte) (envelope, bool) {
	var env envelope
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var batch []envelope
		if err := json.Unmarshal(trimmed, &batch); err != nil || len(batch) == 0 {
			return env, false
		}
		return batch[0], true
	}
	return env, json.Unmarshal(trimmed, &env) == nil
}

func fillError(apiErr *Error, env envelope) {
	var body rpcError
	if len(env.Error) > 0 {
		_ = json.Unmarshal(unwrapJSON(env.Error), &body)
	} else {
		body.Message, body.Code = env.Message, env.Code
	}
	apiErr.Message = body.Message
	apiErr.Code = body.Data.Code
	if err := json.Unmarshal(body.Code, &apiErr.rpcCode); err != nil && apiErr.Code == "" {
		_ = json.Unmarshal(body.Code, &apiErr.Code) // the newer API names its code
	}
	if apiErr.Status >= 200 && apiErr.Status < 300 {
		apiErr.Status = body.Data.HTTPStatus
		if apiErr.Status == 0 {
			apiErr.Status = http.StatusInternalServerError
		}
	}
}

// unwrapJSON removes superjson's {"json": ...} wrapper, when there is one.
func unwrapJSON(raw json.RawMessage) json.RawMessage {
	var wrapper map[string]json.RawMessage
	if json.Unmarshal(raw, &wrapper) == nil {
		if inner, ok := wrapper["json"]; ok {
			return inner
		}
	}
	return raw
}

// secretField matches the value of a JSON key that holds a secret in the panel's replies.
var secretField = regexp.MustCompile(`("(?:password|rootPassword|token)"\s*:\s*)("(?:[^"\\]|\\.)*"|[^\s,}\]]+)`)

// Mask returns reply with every occurrence of each non-empty secret, and the values of JSON keys
// named password, rootPassword and token, replaced by "***". Use it before logging Error.Reply.
func Mask(reply []byte, secrets ...string) []byte {
	masked := secretField.ReplaceAllFunc(reply, func(m []byte) []byte {
		sub := secretField.FindSubmatch(m)
		if string(sub[2]) == "null" {
			return m
		}
		return append(slices.Clone(sub[1]), `"***"`...)
	})
	return []byte(maskText(string(masked), secrets...))
}

// maskText replaces each non-empty secret, as written and as escaped inside a JSON string, and
// then (secret.Scrub) in the other forms a remote side may echo it: URL-escaped, base64.
func maskText(text string, secrets ...string) string {
	sorted := slices.Clone(secrets)
	slices.SortFunc(sorted, func(a, b string) int { return len(b) - len(a) }) // longest first
	for _, s := range sorted {
		if s == "" {
			continue
		}
		text = strings.ReplaceAll(text, s, "***")
		for _, escaped := range jsonEscapes(s) {
			text = strings.ReplaceAll(text, escaped, "***")
		}
	}
	return secret.Scrub(text, secrets...)
}

// jsonEscapes returns the ways a JSON encoder may write secret inside a string.
func jsonEscapes(secret string) []string {
	var forms []string
	for _, escapeHTML := range []bool{true, false} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(escapeHTML)
		if enc.Encode(secret) != nil {
			continue
		}
		quoted := strings.TrimSpace(buf.String())
		if inner := quoted[1 : len(quoted)-1]; inner != secret {
			forms = append(forms, inner)
		}
	}
	return forms
}
