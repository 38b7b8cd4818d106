package httpapi

import (
	"context"
	"fmt"

	"github.com/presswork/presswork/internal/store"
)

// ModelTester tries a catalogue model with a tiny request (POST
// /v1/admin/models/:id/test). The API process calls no provider itself
// (docs/architecture.md): QueueTester hands the test to a worker, as
// PanelChecks does, where internal/ai/modeltest runs it. A failed test is
// a result; an error means the test could not run.
type ModelTester interface {
	Test(ctx context.Context, m store.AIModel) (TestResult, error)
}

// Problems a TestResult names.
const (
	TestProblemKey         = "key"         // no key, or the key was refused (401/403)
	TestProblemModel       = "model"       // the provider does not know the model (404)
	TestProblemNetwork     = "network"     // no connection, or no answer in time
	TestProblemQuota       = "quota"       // rate limited or out of quota (429)
	TestProblemProvider    = "provider"    // the provider failed (5xx) or answered nonsense
	TestProblemRequest     = "request"     // the provider refused the request (another 4xx)
	TestProblemUnsupported = "unsupported" // this server cannot test the model's provider or kind
)

// TestResult is what a model test found, in plain words: the JSON a
// worker writes as modeltest.Result.
type TestResult struct {
	OK bool `json:"ok"`
	// Problem is one of the TestProblem* values; "" when OK.
	Problem   string `json:"problem,omitempty"`
	Message   string `json:"message"`
	LatencyMS int64  `json:"latency_ms"`
}

// OfflineTester is the ModelTester of an API with no worker to test
// through: offline models pass, the others cannot be tested.
type OfflineTester struct{}

// Test passes offline models and says the others cannot be tested here.
func (OfflineTester) Test(_ context.Context, m store.AIModel) (TestResult, error) {
	if m.Provider == "offline" {
		return TestResult{OK: true, Message: fmt.Sprintf("%s works: the offline model needs no provider.", m.Name())}, nil
	}
	return TestResult{Problem: TestProblemUnsupported,
		Message: fmt.Sprintf("This server cannot test %s models yet: no worker is wired to run the test.", m.Provider)}, nil
}
