package fakeopenai

// The Files and Batch APIs, on the OpenAI paths (/v1/files, /v1/batches)
// and the Azure ones (/openai/files, /openai/batches, with api-version):
//
//	POST /v1/files                 multipart: purpose=batch, file=*.jsonl
//	GET  /v1/files/{id}            the file object
//	GET  /v1/files/{id}/content    the file's bytes
//	DELETE /v1/files/{id}          deletes the file (recorded: FilesDeleted)
//	POST /v1/batches               input_file_id, endpoint, completion_window, metadata
//	GET  /v1/batches/{id}
//	GET  /v1/batches               newest first; after, limit (1-100, default 20)
//	POST /v1/batches/{id}/cancel
//
// A batch moves only when the test says so, one state at a time
// (AdvanceBatch) or to the end (ProcessBatches): validating, then
// in_progress (or failed when the input file is invalid), finalizing,
// completed; a cancel makes it cancelling, then cancelled; ExpireBatch
// expires it. Its lines are answered as ordinary chat requests are (the
// SetBatchLine hook, else a pushed behaviour, the fallback or Normal), and
// recorded in Requests with Batch and CustomID set: 200 answers go to the
// output file, other statuses to the error file, and lines never answered
// (expired, cancelled) to the error file with the code batch_expired or
// batch_cancelled.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"
)

// Batch states, as the API names them.
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

// maxListLimit is the largest page GET /v1/batches returns.
const maxListLimit = 100

// batchStore holds the files and batches; s.bmu guards it. Lock order:
// bmu, then mu (answering a line takes mu).
type batchStore struct {
	files       map[string]*file
	batches     []*batch // in creation order
	seq         int
	lineHook    func(customID string) Behavior
	loseCreates int
	deleted     []string // file ids, in the order deleted
	deletes     int      // DELETE /v1/files requests
	failDeletes int      // the next n DELETE /v1/files answer 500
	keys        []string // the key of each files or batches request, in order
}

type file struct {
	ID        string `json:"id"`
	Object    string `json:"object"`
	Bytes     int    `json:"bytes"`
	CreatedAt int64  `json:"created_at"`
	Filename  string `json:"filename"`
	Purpose   string `json:"purpose"`
	Status    string `json:"status"`
	data      []byte
}

type batch struct {
	id, endpoint, inputFileID, window string
	status                            string
	azure                             bool
	metadata                          map[string]string
	created                           int64
	at                                map[string]int64 // when it entered each state
	errors                            []batchError
	lines                             []inputLine
	answered                          int // lines[:answered] have their answer
	output, errs                      bytes.Buffer
	completed, failed                 int
	outputFileID, errorFileID         string
}

type batchError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   any    `json:"param"`
	Line    *int   `json:"line"`
}

type inputLine struct {
	CustomID string          `json:"custom_id"`
	Method   string          `json:"method"`
	URL      string          `json:"url"`
	Body     json.RawMessage `json:"body"`
}

func (s *Server) routeBatches(mux *http.ServeMux, prefix string, azure bool) {
	mux.HandleFunc("POST "+prefix+"/files", s.guard(azure, s.createFile))
	mux.HandleFunc("GET "+prefix+"/files/{id}", s.guard(azure, s.getFile))
	mux.HandleFunc("GET "+prefix+"/files/{id}/content", s.guard(azure, s.getFileContent))
	mux.HandleFunc("DELETE "+prefix+"/files/{id}", s.guard(azure, s.deleteFile))
	mux.HandleFunc("POST "+prefix+"/batches", s.guard(azure, s.createBatch))
	mux.HandleFunc("GET "+prefix+"/batches", s.guard(azure, s.listBatches))
	mux.HandleFunc("GET "+prefix+"/batches/{id}", s.guard(azure, s.getBatch))
	mux.HandleFunc("POST "+prefix+"/batches/{id}/cancel", s.guard(azure, s.cancelBatch))
}

// guard checks the key and, on Azure paths, the api-version, as the chat
// endpoints do, and gives the answer a request id.
func (s *Server) guard(azure bool, h func(w http.ResponseWriter, r *http.Request, azure bool)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seq++
		w.Header().Set("x-request-id", "req_fake_"+strconv.Itoa(s.seq))
		key := s.key
		s.mu.Unlock()
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if azure {
			got = r.Header.Get("api-key")
			if r.URL.Query().Get("api-version") == "" {
				writeError(w, http.StatusNotFound, "", "404", "Resource not found")
				return
			}
		}
		s.bmu.Lock()
		defer s.bmu.Unlock()
		s.batches.keys = append(s.batches.keys, got)
		if key != "" && got != key {
			writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key",
				"Incorrect API key provided: "+got+".")
			return
		}
		if s.batches.files == nil {
			s.batches.files = map[string]*file{}
		}
		h(w, r, azure)
	}
}

// ---------------------------------------------------------------------------
// Test controls

// SetBatchLine sets the hook that picks the behaviour answering a batch
// line by its custom_id; when it returns nil (or no hook is set) the line
// gets what an ordinary request would (a pushed behaviour, the fallback or
// Normal). The hook runs while the batch is being processed and must not
// call the server's batch methods.
func (s *Server) SetBatchLine(f func(customID string) Behavior) {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	s.batches.lineHook = f
}

// LoseCreateAnswers makes the next n POST /v1/batches create their batch
// and then answer 502, as when a proxy drops the answer or the client dies
// before reading it.
func (s *Server) LoseCreateAnswers(n int) {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	s.batches.loseCreates = n
}

// FailFileDeletes makes the next n DELETE /v1/files answer 500 without
// deleting the file.
func (s *Server) FailFileDeletes(n int) {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	s.batches.failDeletes = n
}

// FilesDeleted returns the ids of the files deleted, in order (a file is
// deleted once: a second DELETE is answered 404).
func (s *Server) FilesDeleted() []string {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	return append([]string(nil), s.batches.deleted...)
}

// BatchAPIKeys returns the key each files or batches request came with
// (its Authorization bearer, or api-key on Azure paths), in order,
// refused or not.
func (s *Server) BatchAPIKeys() []string {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	return append([]string(nil), s.batches.keys...)
}

// FileDeleteRequests returns how many DELETE /v1/files requests came,
// answered or not.
func (s *Server) FileDeleteRequests() int {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	return s.batches.deletes
}

// Files returns the ids of the files the server holds, in no order.
func (s *Server) Files() []string {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	ids := make([]string, 0, len(s.batches.files))
	for id := range s.batches.files {
		ids = append(ids, id)
	}
	return ids
}

// BatchFiles returns the ids of batch id's input, output and error files
// ("" for a file it has none of).
func (s *Server) BatchFiles(id string) (input, output, errorFile string) {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	if b := s.findBatch(id); b != nil {
		return b.inputFileID, b.outputFileID, b.errorFileID
	}
	return "", "", ""
}

// BatchesCreated returns how many batches were created.
func (s *Server) BatchesCreated() int {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	return len(s.batches.batches)
}

// BatchStatus returns the status of batch id ("" if there is none).
func (s *Server) BatchStatus(id string) string {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	if b := s.findBatch(id); b != nil {
		return b.status
	}
	return ""
}

// AdvanceBatch moves batch id one state on and returns the new state:
// validating to in_progress (or failed, when the input file is invalid),
// in_progress to finalizing (answering every line left), finalizing to
// completed, cancelling to cancelled.
func (s *Server) AdvanceBatch(id string) (string, error) {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	b := s.findBatch(id)
	if b == nil {
		return "", fmt.Errorf("fakeopenai: no batch %s", id)
	}
	switch b.status {
	case BatchValidating:
		s.validate(b)
	case BatchInProgress:
		s.answerLines(b, len(b.lines))
		b.enter(BatchFinalizing)
	case BatchFinalizing:
		s.finish(b, BatchCompleted, "")
	case BatchCancelling:
		s.finish(b, BatchCancelled, "batch_cancelled")
	default:
		return b.status, fmt.Errorf("fakeopenai: batch %s is %s", id, b.status)
	}
	return b.status, nil
}

// AnswerBatchLines answers up to n more lines of batch id, which must be in
// progress, and returns how many lines have their answer.
func (s *Server) AnswerBatchLines(id string, n int) (int, error) {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	b := s.findBatch(id)
	if b == nil || b.status != BatchInProgress {
		return 0, fmt.Errorf("fakeopenai: batch %s is not in progress", id)
	}
	s.answerLines(b, n)
	return b.answered, nil
}

// ExpireBatch expires batch id, which must be validating or in progress:
// the lines answered so far go to the output and error files, the others
// to the error file with the code batch_expired.
func (s *Server) ExpireBatch(id string) error {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	b := s.findBatch(id)
	if b == nil || (b.status != BatchInProgress && b.status != BatchValidating) {
		return fmt.Errorf("fakeopenai: batch %s cannot expire", id)
	}
	s.finish(b, BatchExpired, "batch_expired")
	return nil
}

// ProcessBatches advances every batch that has not ended until it ends.
func (s *Server) ProcessBatches() {
	for {
		s.bmu.Lock()
		var id string
		for _, b := range s.batches.batches {
			if !b.ended() {
				id = b.id
				break
			}
		}
		s.bmu.Unlock()
		if id == "" {
			return
		}
		if _, err := s.AdvanceBatch(id); err != nil {
			return
		}
	}
}

// ---------------------------------------------------------------------------
// Files

func (s *Server) createFile(w http.ResponseWriter, r *http.Request, _ bool) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "Invalid multipart body: "+err.Error())
		return
	}
	purpose := r.FormValue("purpose")
	f, hdr, err := r.FormFile("file")
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "Missing required parameter: 'file'.")
		return
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "Could not read the file.")
		return
	}
	if purpose != "batch" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			fmt.Sprintf("'%s' is not one of the purposes this server knows: 'batch'.", purpose))
		return
	}
	if !strings.HasSuffix(hdr.Filename, ".jsonl") {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			"Invalid file format for Batch API. Must be .jsonl")
		return
	}
	fl := s.newFile(hdr.Filename, purpose, data)
	writeJSON(w, http.StatusOK, fl)
}

func (s *Server) newFile(name, purpose string, data []byte) *file {
	s.batches.seq++
	fl := &file{ID: "file-fake" + strconv.Itoa(s.batches.seq), Object: "file", Bytes: len(data),
		CreatedAt: time.Now().Unix(), Filename: name, Purpose: purpose, Status: "processed", data: data}
	s.batches.files[fl.ID] = fl
	return fl
}

func (s *Server) getFile(w http.ResponseWriter, r *http.Request, _ bool) {
	if fl := s.fileOr404(w, r); fl != nil {
		writeJSON(w, http.StatusOK, fl)
	}
}

func (s *Server) getFileContent(w http.ResponseWriter, r *http.Request, _ bool) {
	if fl := s.fileOr404(w, r); fl != nil {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(fl.data)
	}
}

// deleteFile deletes a file, as the API does: the file object's id with
// "deleted": true. A batch keeps its files' ids after they are deleted.
func (s *Server) deleteFile(w http.ResponseWriter, r *http.Request, _ bool) {
	s.batches.deletes++
	if s.batches.failDeletes > 0 {
		s.batches.failDeletes--
		writeError(w, http.StatusInternalServerError, "server_error", "", "The server had an error while processing your request.")
		return
	}
	fl := s.fileOr404(w, r)
	if fl == nil {
		return
	}
	delete(s.batches.files, fl.ID)
	s.batches.deleted = append(s.batches.deleted, fl.ID)
	writeJSON(w, http.StatusOK, map[string]any{"id": fl.ID, "object": "file", "deleted": true})
}

func (s *Server) fileOr404(w http.ResponseWriter, r *http.Request) *file {
	fl := s.batches.files[r.PathValue("id")]
	if fl == nil {
		writeError(w, http.StatusNotFound, "invalid_request_error", "", "No such File object: "+r.PathValue("id"))
	}
	return fl
}

// ---------------------------------------------------------------------------
// Batches

func (s *Server) createBatch(w http.ResponseWriter, r *http.Request, azure bool) {
	var in struct {
		InputFileID      string            `json:"input_file_id"`
		Endpoint         string            `json:"endpoint"`
		CompletionWindow string            `json:"completion_window"`
		Metadata         map[string]string `json:"metadata"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			"We could not parse the JSON body of your request: "+err.Error())
		return
	}
	if msg := checkCreate(in.Endpoint, in.CompletionWindow, in.Metadata, azure); msg != "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", msg)
		return
	}
	fl := s.batches.files[in.InputFileID]
	if fl == nil || fl.Purpose != "batch" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			"Invalid 'input_file_id': '"+in.InputFileID+"'. No batch file with this id.")
		return
	}
	s.batches.seq++
	now := time.Now().Unix()
	b := &batch{id: "batch_fake" + strconv.Itoa(s.batches.seq), endpoint: in.Endpoint, inputFileID: fl.ID,
		window: in.CompletionWindow, status: BatchValidating, azure: azure, metadata: in.Metadata,
		created: now, at: map[string]int64{}}
	s.batches.batches = append(s.batches.batches, b)
	if s.batches.loseCreates > 0 {
		s.batches.loseCreates--
		writeError(w, http.StatusBadGateway, "server_error", "", "Bad gateway.")
		return
	}
	writeJSON(w, http.StatusOK, b.object())
}

// checkCreate returns why a create request is invalid, "" if it is not.
func checkCreate(endpoint, window string, metadata map[string]string, azure bool) string {
	if endpoint != "/v1/chat/completions" && !(azure && endpoint == "/chat/completions") {
		return "Invalid 'endpoint': this server supports only /v1/chat/completions."
	}
	if window != "24h" {
		return "Invalid 'completion_window': only 24h is supported."
	}
	if len(metadata) > 16 {
		return "Invalid 'metadata': at most 16 key-value pairs."
	}
	for k, v := range metadata {
		if len(k) > 64 || len(v) > 512 {
			return "Invalid 'metadata': keys are at most 64 characters and values at most 512."
		}
	}
	return ""
}

func (s *Server) getBatch(w http.ResponseWriter, r *http.Request, _ bool) {
	if b := s.batchOr404(w, r); b != nil {
		writeJSON(w, http.StatusOK, b.object())
	}
}

func (s *Server) cancelBatch(w http.ResponseWriter, r *http.Request, _ bool) {
	b := s.batchOr404(w, r)
	if b == nil {
		return
	}
	switch b.status {
	case BatchValidating, BatchInProgress:
		b.enter(BatchCancelling)
	case BatchCancelling:
	default:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			"Cannot cancel a batch with status '"+b.status+"'.")
		return
	}
	writeJSON(w, http.StatusOK, b.object())
}

func (s *Server) listBatches(w http.ResponseWriter, r *http.Request, _ bool) {
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "",
				"Invalid 'limit': must be between 1 and 100.")
			return
		}
		limit = n
	}
	after := r.URL.Query().Get("after")
	var page []any
	var first, last any
	started, hasMore := after == "", false
	for i := len(s.batches.batches) - 1; i >= 0; i-- {
		b := s.batches.batches[i]
		if !started {
			started = b.id == after
			continue
		}
		if len(page) == limit {
			hasMore = true
			break
		}
		if first == nil {
			first = b.id
		}
		last = b.id
		page = append(page, b.object())
	}
	if page == nil {
		page = []any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list", "data": page, "first_id": first, "last_id": last, "has_more": hasMore,
	})
}

func (s *Server) batchOr404(w http.ResponseWriter, r *http.Request) *batch {
	b := s.findBatch(r.PathValue("id"))
	if b == nil {
		writeError(w, http.StatusNotFound, "invalid_request_error", "", "No batch found with id '"+r.PathValue("id")+"'.")
	}
	return b
}

func (s *Server) findBatch(id string) *batch {
	for _, b := range s.batches.batches {
		if b.id == id {
			return b
		}
	}
	return nil
}

// validate reads the batch's input file: every line a JSON object with a
// unique custom_id, method POST, the batch's endpoint as url and a body
// naming the same model as the other lines. A valid file puts the batch in
// progress; an invalid one fails it with an error per bad line.
func (s *Server) validate(b *batch) {
	fl := s.batches.files[b.inputFileID]
	if fl == nil {
		b.errors = append(b.errors, batchError{Code: "file_not_found", Message: "The input file was deleted."})
		b.enter(BatchFailed)
		return
	}
	seen := map[string]bool{}
	model := ""
	sc := bufio.NewScanner(bytes.NewReader(fl.data))
	sc.Buffer(make([]byte, 0, 1<<20), 200<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l inputLine
		var body struct {
			Model string `json:"model"`
		}
		bad := func(code, msg string) { b.errors = append(b.errors, batchError{Code: code, Message: msg, Line: &n}) }
		switch {
		case json.Unmarshal(sc.Bytes(), &l) != nil || json.Unmarshal(l.Body, &body) != nil:
			bad("invalid_json_line", "This line is not parseable as valid JSON.")
		case l.CustomID == "":
			bad("missing_required_parameter", "Missing required parameter: 'custom_id'.")
		case seen[l.CustomID]:
			bad("duplicate_custom_id", "The custom_id for this request is a duplicate of another request.")
		case l.Method != http.MethodPost || l.URL != b.endpoint:
			bad("invalid_url", "The url or method of this request does not match the batch's endpoint.")
		case body.Model == "" || (model != "" && body.Model != model):
			bad("model_mismatch", "Every request of a batch must name the same model.")
		default:
			seen[l.CustomID], model = true, body.Model
			b.lines = append(b.lines, l)
		}
	}
	if len(b.lines) == 0 && len(b.errors) == 0 {
		b.errors = append(b.errors, batchError{Code: "empty_file", Message: "The input file is empty."})
	}
	if len(b.errors) > 0 {
		b.lines = nil
		b.enter(BatchFailed)
		return
	}
	b.enter(BatchInProgress)
}

// answerLines answers up to n of the lines not answered yet.
func (s *Server) answerLines(b *batch, n int) {
	for ; n > 0 && b.answered < len(b.lines); n-- {
		l := b.lines[b.answered]
		b.answered++
		s.answerLine(b, l)
	}
}

// answerLine answers one line as the chat endpoint would and writes the
// result to the output file (status 200) or the error file.
func (s *Server) answerLine(b *batch, l inputLine) {
	req, err := parseBody(l.Body, EndpointChat)
	rec := httptest.NewRecorder()
	requestID := ""
	if err != nil {
		writeError(rec, http.StatusBadRequest, "invalid_request_error", "", err.Error())
	} else {
		req.Path, req.Batch, req.CustomID = l.URL, b.id, l.CustomID
		var hooked Behavior
		if s.batches.lineHook != nil {
			hooked = s.batches.lineHook(l.CustomID)
		}
		var beh Behavior
		requestID, beh = s.receive(req, hooked)
		beh(rec, req)
		s.countUsage(rec.Code, rec.Body.Bytes())
	}
	var body any = json.RawMessage(bytes.TrimSpace(rec.Body.Bytes()))
	if !json.Valid(rec.Body.Bytes()) {
		body = rec.Body.String()
	}
	out := map[string]any{
		"id": "batch_req_" + strconv.Itoa(b.answered), "custom_id": l.CustomID, "error": nil,
		"response": map[string]any{"status_code": rec.Code, "request_id": requestID, "body": body},
	}
	if rec.Code == http.StatusOK {
		b.completed++
		writeLine(&b.output, out)
		return
	}
	b.failed++
	writeLine(&b.errs, out)
}

// finish ends the batch in state: lines not answered go to the error file
// with code (none when code is empty), and the output and error files are
// created when they have lines.
func (s *Server) finish(b *batch, state, code string) {
	if code != "" {
		msgs := map[string]string{
			"batch_expired":   "This request could not be executed before the completion window expired.",
			"batch_cancelled": "This request was not executed because the batch was cancelled.",
		}
		for i, l := range b.lines[b.answered:] {
			b.failed++
			writeLine(&b.errs, map[string]any{
				"id": "batch_req_" + strconv.Itoa(b.answered+i+1), "custom_id": l.CustomID, "response": nil,
				"error": map[string]any{"code": code, "message": msgs[code]},
			})
		}
		b.answered = len(b.lines)
	}
	if b.output.Len() > 0 {
		b.outputFileID = s.newFile(b.id+"_output.jsonl", "batch_output", b.output.Bytes()).ID
	}
	if b.errs.Len() > 0 {
		b.errorFileID = s.newFile(b.id+"_error.jsonl", "batch_output", b.errs.Bytes()).ID
	}
	b.enter(state)
}

func writeLine(buf *bytes.Buffer, v any) {
	line, _ := json.Marshal(v)
	buf.Write(line)
	buf.WriteByte('\n')
}

func (b *batch) enter(state string) {
	b.status = state
	b.at[state] = time.Now().Unix()
}

func (b *batch) ended() bool {
	switch b.status {
	case BatchFailed, BatchCompleted, BatchExpired, BatchCancelled:
		return true
	}
	return false
}

// object is the batch as the API shows it.
func (b *batch) object() map[string]any {
	at := func(state string) any {
		if t, ok := b.at[state]; ok {
			return t
		}
		return nil
	}
	orNil := func(id string) any {
		if id == "" {
			return nil
		}
		return id
	}
	var errors any
	if len(b.errors) > 0 {
		errors = map[string]any{"object": "list", "data": b.errors}
	}
	var metadata any
	if b.metadata != nil {
		metadata = b.metadata
	}
	return map[string]any{
		"id": b.id, "object": "batch", "endpoint": b.endpoint, "errors": errors,
		"input_file_id": b.inputFileID, "completion_window": b.window, "status": b.status,
		"output_file_id": orNil(b.outputFileID), "error_file_id": orNil(b.errorFileID),
		"created_at": b.created, "in_progress_at": at(BatchInProgress),
		"expires_at": b.created + int64((24 * time.Hour).Seconds()), "finalizing_at": at(BatchFinalizing),
		"completed_at": at(BatchCompleted), "failed_at": at(BatchFailed), "expired_at": at(BatchExpired),
		"cancelling_at": at(BatchCancelling), "cancelled_at": at(BatchCancelled),
		"request_counts": map[string]int{"total": len(b.lines), "completed": b.completed, "failed": b.failed},
		"metadata":       metadata,
	}
}
