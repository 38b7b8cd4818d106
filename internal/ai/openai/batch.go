package openai

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	oa "github.com/sashabaranov/go-openai"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
)

// BatchDiscount is the share of the ordinary price that the Batch API
// charges (half, on OpenAI and on Azure's global batch deployments).
const BatchDiscount = 0.5

// MetadataModel is the metadata key under which Create records the model
// of a batch's lines, which prices their usage.
const MetadataModel = "presswork_model"

// maxBatchLineBytes bounds one line of an output or error file.
const maxBatchLineBytes = 64 << 20

// listPageSize is the page FindBatch lists batches by (the API's maximum).
const listPageSize = 100

// ErrLineNotRun reports a batch line that got no answer from the model:
// the batch expired, was cancelled or failed before it ran, or the line
// could not be run at all. Send its request again the ordinary way.
var ErrLineNotRun = errors.New("the batch ended before the line ran")

// Batch statuses, as the API reports them.
const (
	BatchValidating = "validating"
	BatchFailed     = "failed"
	BatchInProgress = "in_progress"
	BatchFinalizing = "finalizing"
	BatchCompleted  = "completed"
	BatchExpired    = "expired"
	BatchCancelling = "cancelling"
	BatchCancelled  = "cancelled"
)

// Batcher sends the requests TextModel.GenerateJSON would send through the
// Batch API, at BatchDiscount of the price, answered within 24 hours. On
// Azure the lines name the deployment (a deployment of type "global
// batch"), and the files and batches live under /openai/ with the
// configured api-version (2024-10-21 or later). It is safe for concurrent
// use.
type Batcher struct {
	c *client
}

// NewBatcher returns the batcher for cfg, which it validates.
func NewBatcher(cfg Config, opts ...Option) (*Batcher, error) {
	c, err := newClient(cfg, opts)
	if err != nil {
		return nil, err
	}
	return &Batcher{c: c}, nil
}

// Name names the API, like "openai".
func (b *Batcher) Name() string { return b.c.providerName() }

// Model returns the model that answers stage's requests. A batch holds the
// lines of one model only.
func (b *Batcher) Model(stage ai.Stage) string { return b.c.cfg.ModelFor(stage) }

// BatchLine is one request of a batch. CustomID identifies its answer; it
// must be unique within the batch.
type BatchLine struct {
	CustomID string
	Request  ai.JSONRequest
	// Model, if not empty, is the model that answers the line in place of
	// the one the configuration names for the request's stage: a model of
	// the same account that the model catalogue routes the stage to.
	Model string
}

// Upload is an uploaded input file, ready to become a batch.
type Upload struct {
	FileID string
	Model  string
}

// BatchCounts are the batch's request counts.
type BatchCounts struct {
	Total     int
	Completed int
	Failed    int
}

// Batch is a batch as the API last reported it.
type Batch struct {
	ID           string
	Status       string
	InputFileID  string
	OutputFileID string // "" until the batch ends with answers
	ErrorFileID  string // "" unless some lines failed
	Counts       BatchCounts
	Metadata     map[string]string
	CreatedAt    time.Time
	// Errors say why a failed batch failed (its input file was invalid).
	Errors []string
}

// Ended reports whether the batch will change no more.
func (b Batch) Ended() bool {
	switch b.Status {
	case BatchFailed, BatchCompleted, BatchExpired, BatchCancelled:
		return true
	}
	return false
}

// Model is the model of the batch's lines, as Create recorded it.
func (b Batch) Model() string { return b.Metadata[MetadataModel] }

// BatchResult is the answer to one line: a response read as GenerateJSON
// reads one (Refusal, Truncated, Usage at the batch price), or the line's
// error, classified like GenerateJSON's (errors.Is(err, ErrLineNotRun)
// when the line got no answer).
type BatchResult struct {
	Response ai.JSONResponse
	Err      error
}

// Upload writes lines as a JSONL input file (each line's body the request
// GenerateJSON would send) and uploads it with purpose "batch" under name
// (".jsonl" is added if missing). The lines must all be served by one
// model.
func (b *Batcher) Upload(ctx context.Context, name string, lines []BatchLine) (Upload, error) {
	if len(lines) == 0 {
		return Upload{}, errs.Permanent(errors.New("openai: batch upload: no lines"))
	}
	var buf bytes.Buffer
	model := ""
	seen := make(map[string]bool, len(lines))
	for _, l := range lines {
		m := l.Model
		if m == "" {
			m = b.c.cfg.ModelFor(l.Request.Stage)
		}
		creq, err := b.c.chatRequestOf(m, l.Request)
		if err != nil {
			return Upload{}, fmt.Errorf("openai: batch line %s: %w", l.CustomID, err)
		}
		switch {
		case l.CustomID == "" || seen[l.CustomID]:
			return Upload{}, errs.Permanent(fmt.Errorf("openai: batch line %q: the custom id is empty or repeated", l.CustomID))
		case model != "" && creq.Model != model:
			return Upload{}, errs.Permanent(fmt.Errorf("openai: batch line %s: model %s, but the batch's is %s", l.CustomID, creq.Model, model))
		}
		seen[l.CustomID], model = true, creq.Model
		creq.Model = b.c.deployment(creq.Model)
		line, err := json.Marshal(oa.BatchChatCompletionRequest{
			CustomID: l.CustomID, Body: creq, Method: http.MethodPost, URL: b.endpoint(),
		})
		if err != nil {
			return Upload{}, errs.Permanent(fmt.Errorf("openai: batch line %s: %w", l.CustomID, err))
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if !strings.HasSuffix(name, ".jsonl") {
		name += ".jsonl"
	}
	var f oa.File
	err := b.c.do(ctx, "batch file upload", func(ctx context.Context) error {
		var err error
		f, err = b.c.api.CreateFileBytes(ctx, oa.FileBytesRequest{Name: name, Bytes: buf.Bytes(), Purpose: oa.PurposeBatch})
		return err
	})
	if err != nil {
		return Upload{}, err
	}
	return Upload{FileID: f.ID, Model: model}, nil
}

// endpoint is the endpoint of the lines and the batch: Azure names it
// without /v1.
func (b *Batcher) endpoint() oa.BatchEndpoint {
	if b.c.cfg.apiType() == APITypeAzure {
		return "/chat/completions"
	}
	return oa.BatchEndpointChatCompletions
}

// Create creates the batch of an uploaded file with metadata (at most 15
// pairs: Create adds MetadataModel). An error may hide a batch that was
// created all the same (the answer was lost): before creating again, look
// for it with FindBatch by a metadata pair unique to the batch.
func (b *Batcher) Create(ctx context.Context, up Upload, metadata map[string]string) (Batch, error) {
	md := make(map[string]any, len(metadata)+1)
	for k, v := range metadata {
		md[k] = v
	}
	md[MetadataModel] = up.Model
	var resp oa.BatchResponse
	err := b.c.do(ctx, "batch create", func(ctx context.Context) error {
		var err error
		resp, err = b.c.api.CreateBatch(ctx, oa.CreateBatchRequest{
			InputFileID: up.FileID, Endpoint: b.endpoint(), CompletionWindow: "24h", Metadata: md,
		})
		return err
	})
	if err != nil {
		return Batch{}, err
	}
	return b.batchOf(resp.Batch), nil
}

// FindBatch returns the newest batch created at or after since (zero: any)
// whose metadata maps key to value, or an error wrapping errs.ErrNotFound.
// It lists batches newest first and stops at the first older than since.
func (b *Batcher) FindBatch(ctx context.Context, key, value string, since time.Time) (Batch, error) {
	var after *string
	limit := listPageSize
	for {
		var page oa.ListBatchResponse
		err := b.c.do(ctx, "batch list", func(ctx context.Context) error {
			var err error
			page, err = b.c.api.ListBatch(ctx, after, &limit)
			return err
		})
		if err != nil {
			return Batch{}, err
		}
		for _, ob := range page.Data {
			bt := b.batchOf(ob)
			if bt.CreatedAt.Before(since) {
				return Batch{}, fmt.Errorf("openai: no batch with %s=%s: %w", key, value, errs.ErrNotFound)
			}
			if v, ok := bt.Metadata[key]; ok && v == value {
				return bt, nil
			}
		}
		if !page.HasMore || len(page.Data) == 0 {
			return Batch{}, fmt.Errorf("openai: no batch with %s=%s: %w", key, value, errs.ErrNotFound)
		}
		last := page.Data[len(page.Data)-1].ID
		after = &last
	}
}

// Retrieve returns batch id as it is now.
func (b *Batcher) Retrieve(ctx context.Context, id string) (Batch, error) {
	var resp oa.BatchResponse
	err := b.c.do(ctx, "batch retrieve", func(ctx context.Context) error {
		var err error
		resp, err = b.c.api.RetrieveBatch(ctx, id)
		return err
	})
	if err != nil {
		return Batch{}, err
	}
	return b.batchOf(resp.Batch), nil
}

// Cancel asks the API to cancel batch id; it is cancelling until the lines
// running end, then cancelled, with the answers it had.
func (b *Batcher) Cancel(ctx context.Context, id string) (Batch, error) {
	var resp oa.BatchResponse
	err := b.c.do(ctx, "batch cancel", func(ctx context.Context) error {
		var err error
		resp, err = b.c.api.CancelBatch(ctx, id)
		return err
	})
	if err != nil {
		return Batch{}, err
	}
	return b.batchOf(resp.Batch), nil
}

// DeleteFile deletes a file of the Files API (a batch's input, output or
// error file) once the batch's answers are read: the provider keeps files
// until they are deleted. A file that is already gone (404) counts as
// deleted, so a deletion may be repeated.
func (b *Batcher) DeleteFile(ctx context.Context, id string) error {
	err := b.c.do(ctx, "file delete", func(ctx context.Context) error { return b.c.api.DeleteFile(ctx, id) })
	var e *Error
	if errors.As(err, &e) && e.StatusCode == http.StatusNotFound {
		return nil
	}
	return err
}

// Files are the ids of a batch's files at the provider: its input, and
// its output and error files once it has ended ("" for none).
func (bt Batch) Files() []string {
	var ids []string
	for _, id := range []string{bt.InputFileID, bt.OutputFileID, bt.ErrorFileID} {
		if id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// Results reads the output and error files of an ended batch into one
// result per custom id of customIDs: lines the files do not mention get
// ErrLineNotRun, and lines of files not in customIDs are ignored.
func (b *Batcher) Results(ctx context.Context, bt Batch, customIDs []string) (map[string]BatchResult, error) {
	if !bt.Ended() {
		return nil, fmt.Errorf("openai: batch %s is %s, not ended", bt.ID, bt.Status)
	}
	out := make(map[string]BatchResult, len(customIDs))
	for _, id := range customIDs {
		out[id] = BatchResult{Err: fmt.Errorf("openai: batch %s (%s), line %s: %w", bt.ID, bt.Status, id, ErrLineNotRun)}
	}
	for _, fileID := range []string{bt.OutputFileID, bt.ErrorFileID} {
		if fileID == "" {
			continue
		}
		if err := b.readResults(ctx, bt, fileID, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// outputLine is a line of an output or error file.
type outputLine struct {
	CustomID string `json:"custom_id"`
	Response *struct {
		StatusCode int             `json:"status_code"`
		RequestID  string          `json:"request_id"`
		Body       json.RawMessage `json:"body"`
	} `json:"response"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// readResults reads one output or error file into the results of the
// custom ids out already holds.
func (b *Batcher) readResults(ctx context.Context, bt Batch, fileID string, out map[string]BatchResult) error {
	var lines []outputLine
	err := b.c.do(ctx, "batch file content", func(ctx context.Context) error {
		raw, err := b.c.api.GetFileContent(ctx, fileID)
		if err != nil {
			return err
		}
		defer raw.Close()
		lines, err = readOutputLines(raw, out)
		return err
	})
	if err != nil {
		return fmt.Errorf("openai: batch %s, file %s: %w", bt.ID, fileID, err)
	}
	for _, l := range lines {
		out[l.CustomID] = b.result(bt, l)
	}
	return nil
}

// readOutputLines reads the lines of an output or error file whose custom
// ids want holds, as they stream in.
func readOutputLines(r io.Reader, want map[string]BatchResult) ([]outputLine, error) {
	var lines []outputLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxBatchLineBytes)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l outputLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("a line is not JSON: %w", err)
		}
		if _, ok := want[l.CustomID]; ok {
			lines = append(lines, l)
		}
	}
	return lines, sc.Err()
}

// result turns a line of an output or error file into its result.
func (b *Batcher) result(bt Batch, l outputLine) BatchResult {
	op := "batch " + bt.ID + " line " + l.CustomID
	switch {
	case l.Response == nil && l.Error != nil:
		return BatchResult{Err: fmt.Errorf("openai: %s: %s: %s: %w", op, b.c.scrub(l.Error.Code), b.c.scrub(l.Error.Message), ErrLineNotRun)}
	case l.Response == nil:
		return BatchResult{Err: fmt.Errorf("openai: %s: no response: %w", op, ErrLineNotRun)}
	case l.Response.StatusCode != http.StatusOK:
		return BatchResult{Err: b.lineError(op, l)}
	}
	var resp oa.ChatCompletionResponse
	if err := json.Unmarshal(l.Response.Body, &resp); err != nil {
		return BatchResult{Err: fmt.Errorf("openai: %s: the answer is not a chat completion: %w", op, err)}
	}
	model := bt.Model()
	if model == "" {
		model = resp.Model
	}
	r, err := b.c.jsonResponse(model, resp)
	r.Usage.CostUSD *= BatchDiscount
	return BatchResult{Response: r, Err: err}
}

// lineError classifies a line the API answered with an error status, as
// GenerateJSON classifies the same answer.
func (b *Batcher) lineError(op string, l outputLine) error {
	var body struct {
		Error *oa.APIError `json:"error"`
	}
	e := &Error{Op: op, StatusCode: l.Response.StatusCode, RequestID: b.c.scrub(l.Response.RequestID)}
	if json.Unmarshal(l.Response.Body, &body) == nil && body.Error != nil {
		e.Code, e.Type = b.c.scrub(codeString(body.Error.Code)), b.c.scrub(body.Error.Type)
		e.Message = b.c.scrub(body.Error.Message)
	}
	return b.c.redact(b.c.classifyStatus(e, nil))
}

// batchOf reads go-openai's batch; the errors of a failed one are
// scrubbed as an error answer's message is.
func (b *Batcher) batchOf(ob oa.Batch) Batch {
	bt := Batch{
		ID: ob.ID, Status: ob.Status, InputFileID: ob.InputFileID,
		Counts:    BatchCounts{Total: ob.RequestCounts.Total, Completed: ob.RequestCounts.Completed, Failed: ob.RequestCounts.Failed},
		CreatedAt: time.Unix(int64(ob.CreatedAt), 0),
		Metadata:  make(map[string]string, len(ob.Metadata)),
	}
	if ob.OutputFileID != nil {
		bt.OutputFileID = *ob.OutputFileID
	}
	if ob.ErrorFileID != nil {
		bt.ErrorFileID = *ob.ErrorFileID
	}
	for k, v := range ob.Metadata {
		if s, ok := v.(string); ok {
			bt.Metadata[k] = s
		}
	}
	if ob.Errors != nil {
		for _, e := range ob.Errors.Data {
			msg := e.Code + ": " + e.Message
			if e.Line != nil {
				msg = fmt.Sprintf("line %d: %s", *e.Line, msg)
			}
			bt.Errors = append(bt.Errors, b.c.scrub(msg))
		}
	}
	return bt
}
