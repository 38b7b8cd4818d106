package anthropic_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/anthropic"
	"github.com/presswork/presswork/internal/ai/anthropic/fakeanthropic"
	"github.com/presswork/presswork/internal/errs"
)

// testKey looks like a real key so that the scrubbing is tested too.
const testKey = "sk-ant-api03-TESTkey0123456789abcdefXYZ"

// testConfig is a configuration for the fake server s.
func testConfig(s *fakeanthropic.Server) anthropic.Config {
	return anthropic.Config{
		APIKey:  testKey,
		BaseURL: s.URL,
		Model:   "claude-haiku-4-5",
		Timeout: 10 * time.Second,
	}
}

func newTextModel(t *testing.T, cfg anthropic.Config, opts ...anthropic.Option) *anthropic.TextModel {
	t.Helper()
	m, err := anthropic.NewTextModel(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// clusterNameSchema is the schema of a cluster name answer, as the stage
// sends it.
const clusterNameSchema = `{"type":"object","properties":{"name":{"type":"string"},"description":{"type":"string"}},` +
	`"required":["name","description"],"additionalProperties":false}`

func clusterNameRequest() ai.JSONRequest {
	return ai.JSONRequest{
		Stage:      ai.StageClusterName,
		System:     "You name keyword clusters for a blog.",
		Prompt:     "Name the cluster of: trail running shoes, best trail shoes.",
		SchemaName: "cluster_name",
		Schema:     json.RawMessage(clusterNameSchema),
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
