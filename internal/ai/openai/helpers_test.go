package openai_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sashabaranov/go-openai/jsonschema"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/openai/fakeopenai"
	"github.com/presswork/presswork/internal/errs"
)

// testKey looks like a real key so that the scrubbing is tested too.
const testKey = "sk-proj-TESTkey0123456789abcdefXYZ"

const testDims = 8

// testConfig is a configuration for the fake server s.
func testConfig(s *fakeopenai.Server) openai.Config {
	return openai.Config{
		APIKey:              testKey,
		BaseURL:             s.BaseURL(),
		Model:               "gpt-4o-mini",
		EmbeddingModel:      "text-embedding-3-small",
		EmbeddingDimensions: testDims,
		Timeout:             10 * time.Second,
	}
}

func newTextModel(t *testing.T, cfg openai.Config, opts ...openai.Option) *openai.TextModel {
	t.Helper()
	m, err := openai.NewTextModel(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newEmbedder(t *testing.T, cfg openai.Config, opts ...openai.Option) *openai.Embedder {
	t.Helper()
	e, err := openai.NewEmbedder(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// clusterNameSchema is the schema of a cluster name answer.
func clusterNameSchema(t *testing.T) json.RawMessage {
	t.Helper()
	s, err := jsonschema.GenerateSchemaForType(ai.ClusterName{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func clusterNameRequest(t *testing.T) ai.JSONRequest {
	return ai.JSONRequest{
		Stage:      ai.StageClusterName,
		System:     "You name keyword clusters.",
		Prompt:     "Name the cluster of: trail running shoes, best trail shoes.",
		SchemaName: "cluster_name",
		Schema:     clusterNameSchema(t),
		MaxTokens:  500,
	}
}

// errorKind classifies err the way the task layer does.
func errorKind(err error) string {
	var te *errs.ThrottledError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &te):
		return "throttled"
	case errs.IsPermanent(err):
		return "permanent"
	default:
		return "retryable"
	}
}

// approx compares costs to a millionth of a cent.
var approx = cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-8 })

func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	return v
}
