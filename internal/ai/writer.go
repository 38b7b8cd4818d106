package ai

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/presswork/presswork/internal/errs"
)

//go:embed prompts/*.tmpl
var promptFS embed.FS

// Writer runs the text stages against a TextModel. It is safe for concurrent
// use if its model is.
type Writer struct {
	model   TextModel
	prompts promptSet
	schemas map[Stage]json.RawMessage
}

// NewWriter returns a Writer for model with the embedded default prompts.
func NewWriter(model TextModel) (*Writer, error) {
	if model == nil {
		return nil, errors.New("ai: NewWriter: nil model")
	}
	prompts, err := defaultPrompts()
	if err != nil {
		return nil, err
	}
	schemas, err := stageSchemas()
	if err != nil {
		return nil, err
	}
	return &Writer{model: model, prompts: prompts, schemas: schemas}, nil
}

// runStage renders the prompts, calls the model, and parses and validates its
// answer, with one repair attempt when the answer is a refusal, truncated or
// invalid.
func runStage[T any](ctx context.Context, w *Writer, stage Stage, input any, maxTokens int,
	parse func([]byte) (T, error)) (T, Usage, error) {
	var zero T
	var usage Usage
	system, user, err := renderPrompt(w.prompts, stage, input)
	if err != nil {
		return zero, usage, err
	}
	req := JSONRequest{
		Stage:      stage,
		System:     system,
		Prompt:     user,
		SchemaName: schemaName(stage),
		Schema:     w.schemas[stage],
		Input:      input,
		MaxTokens:  maxTokens,
	}
	var problem string
	for attempt := 0; attempt < 2; attempt++ {
		if attempt > 0 {
			if err := ctx.Err(); err != nil {
				return zero, usage, fmt.Errorf("%s: %w", stage, err)
			}
			req.Prompt = user + "\n\nYour previous answer was invalid: " + problem +
				". Answer again with JSON that matches the schema."
		}
		resp, err := w.model.GenerateJSON(ctx, req)
		usage.Add(resp.Usage)
		if err != nil {
			return zero, usage, fmt.Errorf("%s: %w", stage, err)
		}
		if resp.Refusal != "" {
			problem = "the model refused to answer (" + resp.Refusal + "); the request is for ordinary editorial content"
			continue
		}
		if resp.Truncated {
			problem = fmt.Sprintf("it was cut off at the limit of %d tokens before the JSON was complete; "+
				"write a shorter answer", req.MaxTokens)
			// Give the repair a little more room as well.
			req.MaxTokens += req.MaxTokens / 2
			continue
		}
		v, err := parse(resp.Content)
		if err == nil {
			return v, usage, nil
		}
		problem = describeProblem(err)
	}
	return zero, usage, errs.Permanent(fmt.Errorf(
		"%s: the model's answer was unusable after one repair attempt: %s", stage, problem))
}

// describeProblem turns a parse or validation error into text for the repair
// prompt and the final error.
func describeProblem(err error) string {
	var ve *errs.ValidationError
	if errors.As(err, &ve) {
		parts := make([]string, 0, len(ve.Problems))
		for i, p := range ve.Problems {
			if i == maxReportedProblems {
				parts = append(parts, fmt.Sprintf("and %d more problems", len(ve.Problems)-i))
				break
			}
			parts = append(parts, p.Field+": "+p.Problem)
		}
		return strings.Join(parts, "; ")
	}
	return err.Error()
}
