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

// stageCall is one stage's request before its prompts are rendered.
type stageCall struct {
	stage     Stage
	input     any
	maxTokens int
	// schema overrides the stage's schema for this request (for counts
	// known only from the input); nil keeps the stage's.
	schema json.RawMessage
}

// runStage renders the prompts, calls the model, and parses and validates its
// answer, with one repair attempt when the answer is a refusal, truncated or
// invalid. The repair request carries the previous answer and its problems
// and asks for a corrected document.
func runStage[T any](ctx context.Context, w *Writer, call stageCall,
	parse func([]byte) (T, error)) (T, Usage, error) {
	var zero T
	var usage Usage
	stage := call.stage
	system, user, err := renderPrompt(w.prompts, stage, call.input)
	if err != nil {
		return zero, usage, err
	}
	schema := call.schema
	if schema == nil {
		schema = w.schemas[stage]
	}
	req := JSONRequest{
		Stage:      stage,
		System:     system,
		Prompt:     user,
		SchemaName: schemaName(stage),
		Schema:     schema,
		Input:      call.input,
		MaxTokens:  call.maxTokens,
	}
	var problem string
	for attempt := 0; attempt < 2; attempt++ {
		if err := ctx.Err(); attempt > 0 && err != nil {
			return zero, usage, fmt.Errorf("%s: %w", stage, err)
		}
		resp, err := w.model.GenerateJSON(ctx, req)
		usage.Add(resp.Usage)
		if err != nil {
			return zero, usage, fmt.Errorf("%s: %w", stage, err)
		}
		var v T
		v, problem = judgeAnswer(resp, req.MaxTokens, parse)
		if problem == "" {
			return v, usage, nil
		}
		if resp.Truncated {
			// Give the repair a little more room as well.
			req.MaxTokens += req.MaxTokens / 2
		}
		req.Prompt = repairPrompt(user, problem, resp.Content)
	}
	return zero, usage, errs.Permanent(fmt.Errorf(
		"%s: the model's answer was unusable after one repair attempt: %s", stage, problem))
}

// judgeAnswer parses resp, or says what is wrong with it: a refusal, a cut
// off answer (at maxTokens) or the problems parse found.
func judgeAnswer[T any](resp JSONResponse, maxTokens int, parse func([]byte) (T, error)) (T, string) {
	var zero T
	switch {
	case resp.Refusal != "":
		return zero, "the model refused to answer (" + resp.Refusal + "); the request is for ordinary editorial content"
	case resp.Truncated:
		return zero, fmt.Sprintf("it was cut off at the limit of %d tokens before the JSON was complete; "+
			"write a shorter answer", maxTokens)
	}
	v, err := parse(resp.Content)
	if err != nil {
		return zero, describeProblem(err)
	}
	return v, ""
}

// repairPrompt is the user prompt of a repair: the original prompt, the
// problems of the previous answer and, when it had any content, that
// answer, with the request to return it corrected.
func repairPrompt(user, problem string, previous []byte) string {
	var b strings.Builder
	b.WriteString(user)
	b.WriteString("\n\nYour previous answer was invalid: ")
	b.WriteString(problem)
	b.WriteString(".")
	prev := strings.TrimSpace(strings.ToValidUTF8(string(previous), ""))
	if prev == "" {
		b.WriteString(" Answer again with JSON that matches the schema.")
		return b.String()
	}
	if runes(prev) > maxRepairAnswerRunes {
		prev = string([]rune(prev)[:maxRepairAnswerRunes]) + "\n[cut here]"
	}
	b.WriteString("\n\nYour previous answer:\n<previous_answer>\n")
	b.WriteString(prev)
	b.WriteString("\n</previous_answer>\n\nReturn the whole document corrected: fix the problems listed above, " +
		"keep what was right as it was, and answer with JSON that matches the schema.")
	return b.String()
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
