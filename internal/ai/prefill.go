package ai

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"sync"
)

// A stage's first model call can be answered ahead of time, as a
// provider's Batch API does (#23): FirstRequest captures the request a
// stage would send, without calling a model; the answer obtained for it
// elsewhere is then given back with WithAnswer, and the stage runs as
// usual: the answer is parsed, validated and, if need be, repaired with
// live calls to the model.

// errCaptured stops a stage at its first model call.
var errCaptured = errors.New("ai: request captured")

// captureModel records the first request and answers errCaptured.
type captureModel struct {
	name string
	req  *JSONRequest
}

func (m *captureModel) Name() string { return m.name }

func (m *captureModel) GenerateJSON(_ context.Context, req JSONRequest) (JSONResponse, error) {
	if m.req == nil {
		r := req
		m.req = &r
	}
	return JSONResponse{}, errCaptured
}

// FirstRequest returns the request the first model call of a stage would
// send: run calls one stage on the writer it is given (w without its
// model or retries), as in
//
//	ai.FirstRequest(w, func(w *ai.Writer) error { _, _, err := w.Draft(ctx, in); return err })
//
// An error of the stage before its call (an invalid input) is returned.
func FirstRequest(w *Writer, run func(w *Writer) error) (JSONRequest, error) {
	capture := &captureModel{name: w.model.Name()}
	cw, err := w.WithModel(capture)
	if err != nil {
		return JSONRequest{}, err
	}
	cw.retry = nil
	err = run(cw)
	if capture.req == nil {
		if err == nil {
			err = errors.New("ai: the stage made no model call")
		}
		return JSONRequest{}, err
	}
	return *capture.req, nil
}

// RequestKey identifies a request by what its answer depends on: the
// stage, the prompts, the schema and the token limit.
func RequestKey(req JSONRequest) string {
	h := sha256.New()
	for _, s := range []string{string(req.Stage), req.System, req.Prompt, req.SchemaName, string(req.Schema)} {
		_ = binary.Write(h, binary.BigEndian, uint64(len(s)))
		h.Write([]byte(s))
	}
	_ = binary.Write(h, binary.BigEndian, int64(req.MaxTokens))
	return hex.EncodeToString(h.Sum(nil))
}

// WithAnswer returns a copy of w whose first model call with the request
// key (RequestKey) is answered with answer, without calling the model;
// other calls (a repair, or a request that changed since the answer was
// obtained) go to w's model.
func (w *Writer) WithAnswer(key string, answer JSONResponse) *Writer {
	cp := *w
	cp.model = &prefilled{TextModel: w.model, key: key, answer: answer}
	return &cp
}

// prefilled answers one request from an answer it holds.
type prefilled struct {
	TextModel
	key    string
	answer JSONResponse

	mu   sync.Mutex
	used bool
}

func (m *prefilled) GenerateJSON(ctx context.Context, req JSONRequest) (JSONResponse, error) {
	m.mu.Lock()
	hit := !m.used && RequestKey(req) == m.key
	m.used = m.used || hit
	m.mu.Unlock()
	if hit {
		return m.answer, nil
	}
	return m.TextModel.GenerateJSON(ctx, req)
}
