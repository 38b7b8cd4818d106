package openai_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	oa "github.com/sashabaranov/go-openai"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/errs"
)

func newBatcher(t *testing.T, cfg openai.Config) *openai.Batcher {
	t.Helper()
	b, err := openai.NewBatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// batchLines are n cluster name requests with the custom ids line-0 ...
func batchLines(t *testing.T, n int) ([]openai.BatchLine, []string) {
	t.Helper()
	lines := make([]openai.BatchLine, n)
	ids := make([]string, n)
	for i := range lines {
		req := clusterNameRequest(t)
		req.Prompt = fmt.Sprintf("Name the cluster of:\n- trail shoes %d\n", i)
		ids[i] = fmt.Sprintf("line-%d", i)
		lines[i] = openai.BatchLine{CustomID: ids[i], Request: req}
	}
	return lines, ids
}

// submit uploads lines and creates their batch with presswork_group=group.
func submit(t *testing.T, b *openai.Batcher, group string, lines []openai.BatchLine) openai.Batch {
	t.Helper()
	ctx := context.Background()
	up, err := b.Upload(ctx, "group-"+group, lines)
	if err != nil {
		t.Fatal(err)
	}
	bt, err := b.Create(ctx, up, map[string]string{"presswork_group": group})
	if err != nil {
		t.Fatal(err)
	}
	return bt
}

func retrieve(t *testing.T, b *openai.Batcher, id string) openai.Batch {
	t.Helper()
	bt, err := b.Retrieve(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return bt
}

func advance(t *testing.T, s *fakeopenai.Server, id, want string) {
	t.Helper()
	got, err := s.AdvanceBatch(id)
	if err != nil || got != want {
		t.Fatalf("AdvanceBatch(%s) = %s, %v; want %s", id, got, err, want)
	}
}

func results(t *testing.T, b *openai.Batcher, bt openai.Batch, ids []string) map[string]openai.BatchResult {
	t.Helper()
	res, err := b.Results(context.Background(), bt, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(ids) {
		t.Fatalf("results = %d, want %d", len(res), len(ids))
	}
	return res
}

// outcome sums up a result for comparisons.
func outcome(r openai.BatchResult) string {
	switch {
	case errors.Is(r.Err, openai.ErrLineNotRun):
		return "not run"
	case r.Err != nil:
		return errorKind(r.Err)
	case r.Response.Refusal != "":
		return "refusal"
	case r.Response.Truncated:
		return "truncated"
	}
	if _, err := ai.ParseClusterName(r.Response.Content); err != nil {
		return "invalid"
	}
	return "ok"
}

func outcomes(res map[string]openai.BatchResult) map[string]string {
	out := map[string]string{}
	for id, r := range res {
		out[id] = outcome(r)
	}
	return out
}

func TestBatchLifecycle(t *testing.T) {
	ctx := context.Background()
	s := fakeopenai.New(t)
	s.SetKey(testKey)
	s.SetContent((&fakeopenai.Writer{}).Answer)
	cfg := testConfig(s)
	b := newBatcher(t, cfg)
	lines, ids := batchLines(t, 3)

	bt := submit(t, b, "g1", lines)
	if bt.Status != openai.BatchValidating || bt.Ended() || bt.Model() != "gpt-4o-mini" || bt.Metadata["presswork_group"] != "g1" {
		t.Fatalf("created batch = %+v", bt)
	}
	advance(t, s, bt.ID, fakeopenai.BatchInProgress)
	if got := retrieve(t, b, bt.ID); got.Status != openai.BatchInProgress || got.Counts != (openai.BatchCounts{Total: 3}) {
		t.Errorf("in progress: %+v", got)
	}
	if _, err := b.Results(ctx, retrieve(t, b, bt.ID), ids); err == nil {
		t.Error("Results of a batch in progress: no error")
	}
	advance(t, s, bt.ID, fakeopenai.BatchFinalizing)
	advance(t, s, bt.ID, fakeopenai.BatchCompleted)
	bt = retrieve(t, b, bt.ID)
	if bt.Status != openai.BatchCompleted || bt.Counts != (openai.BatchCounts{Total: 3, Completed: 3}) ||
		bt.OutputFileID == "" || bt.ErrorFileID != "" {
		t.Fatalf("completed: %+v", bt)
	}
	res := results(t, b, bt, ids)
	want := map[string]string{"line-0": "ok", "line-1": "ok", "line-2": "ok"}
	if diff := cmp.Diff(want, outcomes(res)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}

	// Each line was the request GenerateJSON sends, and costs half as much.
	one, err := newTextModel(t, cfg).GenerateJSON(ctx, lines[0].Request)
	if err != nil {
		t.Fatal(err)
	}
	reqs := s.Requests()
	if len(reqs) != 4 {
		t.Fatalf("requests = %d, want 4", len(reqs))
	}
	if reqs[0].Batch != bt.ID || reqs[0].CustomID != "line-0" || reqs[3].Batch != "" {
		t.Errorf("batch requests: %q %q, then %q", reqs[0].Batch, reqs[0].CustomID, reqs[3].Batch)
	}
	if diff := cmp.Diff(jsonValue(t, reqs[3].Body), jsonValue(t, reqs[0].Body)); diff != "" {
		t.Errorf("batch line body (-GenerateJSON +batch):\n%s", diff)
	}
	got := res["line-0"].Response.Usage
	if got.Model != one.Usage.Model || got.PromptTokens != one.Usage.PromptTokens || got.CostUSD <= 0 ||
		!cmp.Equal(got.CostUSD, one.Usage.CostUSD*openai.BatchDiscount, approx) {
		t.Errorf("batch usage %+v, ordinary %+v", got, one.Usage)
	}
}

func TestBatchPartialErrorFile(t *testing.T) {
	s := fakeopenai.New(t)
	s.SetContent((&fakeopenai.Writer{}).Answer)
	s.SetBatchLine(func(id string) fakeopenai.Behavior {
		return map[string]fakeopenai.Behavior{
			"line-1": fakeopenai.ServerError(),
			"line-2": fakeopenai.Refusal("I can't help with that."),
			"line-3": fakeopenai.Truncated(`{"name":"All ab`),
			"line-4": fakeopenai.Error(http.StatusBadRequest, "invalid_request_error", "", "Invalid schema: "+testKey),
		}[id]
	})
	// Lines the hook leaves alone get what ordinary requests would: here
	// the first, a pushed answer that is not JSON, left to the caller's
	// validation as GenerateJSON's would be.
	s.Push(fakeopenai.InvalidJSON())
	b := newBatcher(t, testConfig(s))
	lines, ids := batchLines(t, 6)
	bt := submit(t, b, "g1", lines)
	s.ProcessBatches()

	bt = retrieve(t, b, bt.ID)
	if bt.Status != openai.BatchCompleted || bt.Counts != (openai.BatchCounts{Total: 6, Completed: 4, Failed: 2}) ||
		bt.OutputFileID == "" || bt.ErrorFileID == "" {
		t.Fatalf("completed: %+v", bt)
	}
	res := results(t, b, bt, ids)
	want := map[string]string{"line-0": "invalid", "line-1": "retryable", "line-2": "refusal", "line-3": "truncated",
		"line-4": "permanent", "line-5": "ok"}
	if diff := cmp.Diff(want, outcomes(res)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	var e *openai.Error
	if err := res["line-4"].Err; !errors.As(err, &e) || e.StatusCode != http.StatusBadRequest || e.RequestID == "" {
		t.Errorf("line-4 error = %v", err)
	} else if msg := err.Error(); strings.Contains(msg, testKey) {
		t.Errorf("line-4 error shows the key: %s", msg)
	}
}

func TestBatchExpiredWithPartialOutput(t *testing.T) {
	s := fakeopenai.New(t)
	s.SetContent((&fakeopenai.Writer{}).Answer)
	b := newBatcher(t, testConfig(s))
	lines, ids := batchLines(t, 4)
	bt := submit(t, b, "g1", lines)
	advance(t, s, bt.ID, fakeopenai.BatchInProgress)
	if n, err := s.AnswerBatchLines(bt.ID, 2); err != nil || n != 2 {
		t.Fatalf("AnswerBatchLines = %d, %v", n, err)
	}
	if got := retrieve(t, b, bt.ID).Counts; got != (openai.BatchCounts{Total: 4, Completed: 2}) {
		t.Errorf("counts in progress = %+v", got)
	}
	if err := s.ExpireBatch(bt.ID); err != nil {
		t.Fatal(err)
	}
	bt = retrieve(t, b, bt.ID)
	if bt.Status != openai.BatchExpired || !bt.Ended() || bt.OutputFileID == "" || bt.ErrorFileID == "" {
		t.Fatalf("expired: %+v", bt)
	}
	want := map[string]string{"line-0": "ok", "line-1": "ok", "line-2": "not run", "line-3": "not run"}
	if diff := cmp.Diff(want, outcomes(results(t, b, bt, ids))); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestBatchCancel(t *testing.T) {
	ctx := context.Background()
	s := fakeopenai.New(t)
	s.SetContent((&fakeopenai.Writer{}).Answer)
	b := newBatcher(t, testConfig(s))
	lines, ids := batchLines(t, 3)
	bt := submit(t, b, "g1", lines)
	advance(t, s, bt.ID, fakeopenai.BatchInProgress)
	if _, err := s.AnswerBatchLines(bt.ID, 1); err != nil {
		t.Fatal(err)
	}

	bt, err := b.Cancel(ctx, bt.ID)
	if err != nil || bt.Status != openai.BatchCancelling || bt.Ended() {
		t.Fatalf("Cancel = %+v, %v", bt, err)
	}
	advance(t, s, bt.ID, fakeopenai.BatchCancelled)
	bt = retrieve(t, b, bt.ID)
	want := map[string]string{"line-0": "ok", "line-1": "not run", "line-2": "not run"}
	if diff := cmp.Diff(want, outcomes(results(t, b, bt, ids))); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if _, err := b.Cancel(ctx, bt.ID); errorKind(err) != "permanent" {
		t.Errorf("cancelling a cancelled batch: %v (%s), want a permanent error", err, errorKind(err))
	}

	// A batch cancelled while it is validating ends with no line run.
	bt = submit(t, b, "g2", lines)
	if _, err := b.Cancel(ctx, bt.ID); err != nil {
		t.Fatal(err)
	}
	s.ProcessBatches()
	bt = retrieve(t, b, bt.ID)
	want = map[string]string{"line-0": "not run", "line-1": "not run", "line-2": "not run"}
	if diff := cmp.Diff(want, outcomes(results(t, b, bt, ids))); diff != "" || bt.Status != openai.BatchCancelled {
		t.Errorf("%s: outcomes (-want +got):\n%s", bt.Status, diff)
	}
}

// A task that dies between the upload and the create finds no batch and
// creates one; a task whose create reached the API but whose answer was
// lost finds that batch by its metadata, among many, and creates no other.
func TestFindBatchAfterCrash(t *testing.T) {
	ctx := context.Background()
	s := fakeopenai.New(t)
	b := newBatcher(t, testConfig(s))
	lines, _ := batchLines(t, 2)
	start := time.Now().Add(-time.Minute)

	if _, err := b.Upload(ctx, "group-g1", lines); err != nil {
		t.Fatal(err)
	}
	// The task dies here; resumed, it looks for its batch first.
	if _, err := b.FindBatch(ctx, "presswork_group", "g1", start); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("FindBatch before any create = %v, want ErrNotFound", err)
	}

	s.LoseCreateAnswers(1)
	up, err := b.Upload(ctx, "group-g2", lines)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create(ctx, up, map[string]string{"presswork_group": "g2"}); errorKind(err) != "retryable" {
		t.Fatalf("create with a lost answer = %v, want a retryable error", err)
	}
	for i := range 120 { // newer batches, so that the search pages
		submit(t, b, fmt.Sprintf("other-%d", i), lines)
	}
	found, err := b.FindBatch(ctx, "presswork_group", "g2", start)
	if err != nil {
		t.Fatal(err)
	}
	if found.InputFileID != up.FileID || found.Model() != "gpt-4o-mini" {
		t.Errorf("found %+v, want the batch of %s", found, up.FileID)
	}
	if got := s.BatchesCreated(); got != 121 {
		t.Errorf("batches created = %d, want 121", got)
	}
	// Batches older than since are not looked at.
	if _, err := b.FindBatch(ctx, "presswork_group", "g2", time.Now().Add(time.Hour)); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("FindBatch since later = %v, want ErrNotFound", err)
	}
}

// An invalid input file fails the batch while it validates: every line is
// left to run the ordinary way.
func TestBatchFailedValidation(t *testing.T) {
	ctx := context.Background()
	s := fakeopenai.New(t)
	cfg := oa.DefaultConfig(testKey)
	cfg.BaseURL = s.BaseURL()
	raw := oa.NewClientWithConfig(cfg)
	body := oa.ChatCompletionRequest{Model: "gpt-4o-mini", Messages: []oa.ChatCompletionMessage{{Role: "user", Content: "hi"}}}
	var in oa.UploadBatchFileRequest
	in.AddChatCompletion("a", body)
	in.AddChatCompletion("a", body)
	f, err := raw.UploadBatchFile(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	created, err := raw.CreateBatch(ctx, oa.CreateBatchRequest{InputFileID: f.ID, Endpoint: oa.BatchEndpointChatCompletions})
	if err != nil {
		t.Fatal(err)
	}
	s.ProcessBatches()

	b := newBatcher(t, testConfig(s))
	bt := retrieve(t, b, created.ID)
	if bt.Status != openai.BatchFailed || len(bt.Errors) != 1 || bt.OutputFileID != "" {
		t.Fatalf("failed batch = %+v", bt)
	}
	want := map[string]string{"a": "not run"}
	if diff := cmp.Diff(want, outcomes(results(t, b, bt, []string{"a"}))); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestBatchUploadRefusesMixedModels(t *testing.T) {
	s := fakeopenai.New(t)
	cfg := testConfig(s)
	cfg.StageModels = map[ai.Stage]string{ai.StageDraft: "gpt-4o"}
	lines, _ := batchLines(t, 2)
	lines[1].Request.Stage = ai.StageDraft
	_, err := newBatcher(t, cfg).Upload(context.Background(), "mixed", lines)
	if errorKind(err) != "permanent" {
		t.Errorf("mixed models: %v, want a permanent error", err)
	}
	if got := s.BatchesCreated(); got != 0 || len(s.Requests()) != 0 {
		t.Errorf("batches %d, requests %d", got, len(s.Requests()))
	}
}

// On Azure the files and batches live under /openai/ with the
// api-version, the endpoint has no /v1, and the lines name the deployment;
// usage is priced as the configured model.
func TestBatchAzure(t *testing.T) {
	s := fakeopenai.New(t)
	s.SetKey(testKey)
	s.SetContent((&fakeopenai.Writer{}).Answer)
	cfg := openai.Config{
		APIKey: testKey, APIType: openai.APITypeAzure, AzureEndpoint: s.URL, APIVersion: "2024-10-21",
		AzureDeployments: map[string]string{"gpt-4o-mini": "mini-batch"},
		Model:            "gpt-4o-mini", EmbeddingModel: "text-embedding-3-small", EmbeddingDimensions: testDims,
		Timeout: 10 * time.Second,
	}
	b := newBatcher(t, cfg)
	lines, ids := batchLines(t, 2)
	bt := submit(t, b, "g1", lines)
	s.ProcessBatches()
	if _, err := b.FindBatch(context.Background(), "presswork_group", "g1", time.Time{}); err != nil {
		t.Fatal(err)
	}
	bt = retrieve(t, b, bt.ID)
	res := results(t, b, bt, ids)
	if diff := cmp.Diff(map[string]string{"line-0": "ok", "line-1": "ok"}, outcomes(res)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	reqs := s.Requests()
	if len(reqs) != 2 || reqs[0].Model != "mini-batch" || reqs[0].Path != "/chat/completions" {
		t.Fatalf("lines: %+v", reqs)
	}
	u := res["line-0"].Response.Usage
	want := openai.DefaultPrices().Cost("gpt-4o-mini", u.PromptTokens, u.CompletionTokens) * openai.BatchDiscount
	if u.CostUSD <= 0 || !cmp.Equal(u.CostUSD, want, approx) {
		t.Errorf("usage %+v, want cost %v", u, want)
	}
	for _, id := range bt.Files() {
		if err := b.DeleteFile(context.Background(), id); err != nil {
			t.Errorf("delete %s: %v", id, err)
		}
	}
	if diff := cmp.Diff(bt.Files(), s.FilesDeleted()); diff != "" {
		t.Errorf("files deleted on Azure (-want +got):\n%s", diff)
	}
}

// An ended batch's files are deleted through DELETE /v1/files/{id}; a file
// already gone counts as deleted, and a server error is returned.
func TestBatchDeleteFiles(t *testing.T) {
	s := fakeopenai.New(t)
	s.SetContent((&fakeopenai.Writer{}).Answer)
	s.SetBatchLine(func(id string) fakeopenai.Behavior {
		if id == "line-1" {
			return fakeopenai.ServerError()
		}
		return nil
	})
	b := newBatcher(t, testConfig(s))
	lines, _ := batchLines(t, 2)
	bt := submit(t, b, "g1", lines)
	s.ProcessBatches()
	bt = retrieve(t, b, bt.ID)
	files := bt.Files()
	if len(files) != 3 || files[0] != bt.InputFileID || files[1] != bt.OutputFileID || files[2] != bt.ErrorFileID {
		t.Fatalf("files of %+v: %v", bt, files)
	}
	ctx := context.Background()
	s.FailFileDeletes(1)
	if err := b.DeleteFile(ctx, files[0]); err == nil || errs.IsPermanent(err) {
		t.Errorf("delete answered 500: err %v, want a passing error", err)
	}
	for _, id := range append(files, files[0]) { // the last a second time
		if err := b.DeleteFile(ctx, id); err != nil {
			t.Errorf("delete %s: %v", id, err)
		}
	}
	if diff := cmp.Diff(files, s.FilesDeleted()); diff != "" {
		t.Errorf("files deleted (-want +got):\n%s", diff)
	}
	if left := s.Files(); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
}
