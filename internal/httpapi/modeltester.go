package httpapi

import (
	"context"
	"fmt"

	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// ModelTester tries a catalogue model with a tiny request (POST
// /v1/admin/models/:id/test). The API process calls no provider itself
// (docs/architecture.md): QueueTester hands the test to a worker, as
// PanelChecks does, where internal/ai/modeltest runs it. A failed test is
// a result; an error means the test could not run.
type ModelTester interface {
	Test(ctx context.Context, m store.AIModel) (TestResult, error)
}

// TestResult is what a model test found, in plain words (the task's
// contract, written by a worker).
type TestResult = tasks.ModelTestResult

// OfflineTester is the ModelTester of an API with no worker to test
// through: offline models pass, the others cannot be tested.
type OfflineTester struct{}

// Test passes offline models and says the others cannot be tested here.
func (OfflineTester) Test(_ context.Context, m store.AIModel) (TestResult, error) {
	if m.Provider == "offline" {
		return TestResult{OK: true, Message: fmt.Sprintf("%s works: the offline model needs no provider.", m.Name())}, nil
	}
	return TestResult{Problem: tasks.ModelTestUnsupported,
		Message: fmt.Sprintf("This server cannot test %s models yet: no worker is wired to run the test.", m.Provider)}, nil
}
