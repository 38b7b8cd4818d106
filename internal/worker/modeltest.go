package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai/modeltest"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// CatalogueModels reads the model catalogue's rows.
type CatalogueModels interface {
	GetModel(ctx context.Context, id int64) (store.AIModel, error)
}

// ModelTester answers model tests (tasks.TypeModelTest): it reads the
// model's row, tries it with the worker's credentials and writes what it
// found for the API that waits for it.
type ModelTester struct {
	Models CatalogueModels
	Tester modeltest.Tester
	Log    *slog.Logger
}

// ProcessTask runs one test. A test's outcome, good or bad, is its result;
// an error means the test could not run.
func (h *ModelTester) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p tasks.ModelTestPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode the model test: %w", err)
	}
	var result modeltest.Result
	m, err := h.Models.GetModel(ctx, p.ModelID)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		result = modeltest.Result{Problem: tasks.ModelTestModel, Message: "The model was removed from the catalogue."}
	case err != nil:
		return fmt.Errorf("read model %d: %w", p.ModelID, err)
	default:
		result = h.Tester.Test(ctx, m)
	}
	if !result.OK {
		// The message is ours, never the provider's text or a key.
		h.Log.Info("model test failed", "model_id", p.ModelID, "test_id", p.TestID, "problem", result.Problem,
			"message", result.Message)
	}
	body, err := json.Marshal(result)
	if err != nil {
		return fmt.Errorf("encode the model test's result: %w", err)
	}
	if _, err := t.ResultWriter().Write(body); err != nil {
		return fmt.Errorf("write the model test's result: %w", err)
	}
	return nil
}
