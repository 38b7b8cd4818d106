package openai_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
)

func TestEmbedBatchesInOrder(t *testing.T) {
	s := fakeopenai.New(t)
	texts := make([]string, 5000)
	for i := range texts {
		texts[i] = fmt.Sprintf("keyword %04d", i)
	}
	vecs, usage, err := newEmbedder(t, testConfig(s)).Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, r := range s.Requests() {
		sizes = append(sizes, len(r.Input))
		if r.Path != "/v1/embeddings" || r.Model != "text-embedding-3-small" || r.Dimensions != testDims {
			t.Errorf("request: path %s model %s dimensions %d", r.Path, r.Model, r.Dimensions)
		}
	}
	if diff := cmp.Diff([]int{2048, 2048, 904}, sizes); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
	if len(vecs) != len(texts) {
		t.Fatalf("vectors = %d, want %d", len(vecs), len(texts))
	}
	for i, text := range texts {
		if diff := cmp.Diff(fakeopenai.Vector(text, testDims), vecs[i]); diff != "" {
			t.Fatalf("vector %d (-want +got):\n%s", i, diff)
		}
	}
	// The fake counts two tokens ("keyword", "NNNN") per text.
	want := ai.Usage{Model: "text-embedding-3-small", PromptTokens: 10000, CostUSD: 10000 * 0.02 / 1e6}
	if diff := cmp.Diff(want, usage, approx); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
}

func TestEmbedSplitsByTokenEstimate(t *testing.T) {
	s := fakeopenai.New(t)
	long := strings.Repeat("word ", 18_000) // 90,000 bytes: about 30,000 tokens by the estimate
	texts := make([]string, 10)
	for i := range texts {
		texts[i] = fmt.Sprintf("%d %s", i, long)
	}
	perBatch := openai.MaxBatchTokens / openai.EstimateTokens(texts[0])
	if _, _, err := newEmbedder(t, testConfig(s)).Embed(context.Background(), texts); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, r := range s.Requests() {
		sizes = append(sizes, len(r.Input))
	}
	if diff := cmp.Diff([]int{perBatch, len(texts) - perBatch}, sizes); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
}

func TestEmbedEmptyTexts(t *testing.T) {
	s := fakeopenai.New(t)
	vecs, _, err := newEmbedder(t, testConfig(s)).Embed(context.Background(), []string{"a", "", " \n", "b"})
	if err != nil {
		t.Fatal(err)
	}
	zero := make([]float32, testDims)
	want := [][]float32{fakeopenai.Vector("a", testDims), zero, zero, fakeopenai.Vector("b", testDims)}
	if diff := cmp.Diff(want, vecs); diff != "" {
		t.Errorf("vectors (-want +got):\n%s", diff)
	}
	reqs := s.Requests()
	if len(reqs) != 1 || !cmp.Equal(reqs[0].Input, []string{"a", "b"}) {
		t.Errorf("requests = %+v, want one with a and b", reqs)
	}

	vecs, usage, err := newEmbedder(t, testConfig(s)).Embed(context.Background(), nil)
	if err != nil || len(vecs) != 0 || usage != (ai.Usage{}) {
		t.Errorf("Embed(nil) = %v, %+v, %v", vecs, usage, err)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("Embed(nil) sent a request")
	}
}

func TestEmbedWrongDimensionsIsPermanent(t *testing.T) {
	s := fakeopenai.New(t)
	// A compatible server that ignores "dimensions".
	s.Push(func(w http.ResponseWriter, req *fakeopenai.Request) {
		req.Dimensions = 3
		s.Normal(w, req)
	})
	_, _, err := newEmbedder(t, testConfig(s)).Embed(context.Background(), []string{"a"})
	if errorKind(err) != "permanent" || !strings.Contains(err.Error(), "OPENAI_EMBEDDING_DIMENSIONS") {
		t.Fatalf("err = %v, want a permanent error naming OPENAI_EMBEDDING_DIMENSIONS", err)
	}
}

func TestEmbedErrors(t *testing.T) {
	for _, tc := range errorCases() {
		t.Run(tc.name, func(t *testing.T) {
			s := fakeopenai.New(t)
			s.Push(tc.behavior)
			e := newEmbedder(t, testConfig(s), openai.WithClock(func() time.Time { return clock }))
			vecs, _, err := e.Embed(context.Background(), []string{"trail shoes"})
			checkErrorCase(t, tc, err)
			if vecs != nil {
				t.Errorf("vectors with an error")
			}
		})
	}
}

func TestEmbedErrorKeepsUsageOfEarlierBatches(t *testing.T) {
	s := fakeopenai.New(t)
	s.Push(s.Normal, fakeopenai.RateLimited(http.Header{"Retry-After": {"3"}}))
	texts := make([]string, openai.MaxBatchInputs+1)
	for i := range texts {
		texts[i] = "kw"
	}
	_, usage, err := newEmbedder(t, testConfig(s)).Embed(context.Background(), texts)
	if errorKind(err) != "throttled" {
		t.Fatalf("err = %v, want throttled", err)
	}
	if usage.PromptTokens != openai.MaxBatchInputs {
		t.Errorf("usage = %+v, want the first batch's %d tokens", usage, openai.MaxBatchInputs)
	}
}
