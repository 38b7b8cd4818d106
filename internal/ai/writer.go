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
	retry   Retry // nil: each call once
}

// Retry runs a model call again after a passing fault (a server error, a
// timeout), as long as the caller's job allows, and returns its last
// error. A stage retries the call that failed, not the ones before it: a
// repair whose request fails is sent again, not the first request.
type Retry func(ctx context.Context, call func() error) error

// WithRetry returns a copy of w whose model calls go through retry.
func (w *Writer) WithRetry(retry Retry) *Writer {
	cp := *w
	cp.retry = retry
	return &cp
}

// generate sends req to the model, through w.retry if set, adding what
// every try consumed to usage.
func (w *Writer) generate(ctx context.Context, req JSONRequest, usage *Usage) (JSONResponse, error) {
	var resp JSONResponse
	call := func() error {
		var err error
		resp, err = w.model.GenerateJSON(ctx, req)
		usage.Add(resp.Usage)
		return err
	}
	if w.retry == nil {
		return resp, call()
	}
	return resp, w.retry(ctx, call)
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
	// kept is a usable answer with a soft fault (a draft's length) that
	// the repair was asked to fix: if the repair is no better, it stands.
	var kept *T
	for attempt := 0; attempt < 2; attempt++ {
		if err := ctx.Err(); attempt > 0 && err != nil {
			return zero, usage, fmt.Errorf("%s: %w", stage, err)
		}
		resp, err := w.generate(ctx, req, &usage)
		if err != nil {
			return zero, usage, fmt.Errorf("%s: %w", stage, err)
		}
		v, p, soft := judgeAnswer(resp, req.MaxTokens, parse)
		problem = p
		if problem == "" || (soft && attempt > 0) {
			return v, usage, nil
		}
		if soft {
			kept = &v
		}
		previous := resp.Content
		if resp.Truncated {
			// Give the repair a little more room. The partial answer
			// stays out of it: the whole document is written again
			// anyway, and sending half of it back would only be paid for.
			req.MaxTokens += req.MaxTokens / 2
			previous = nil
		}
		req.Prompt = repairPrompt(user, problem, previous)
	}
	if kept != nil {
		return *kept, usage, nil
	}
	return zero, usage, errs.Permanent(fmt.Errorf("%s: %w: %s", stage, ErrUnusableAnswer, problem))
}

// softFault is a parse error that comes with a usable answer: the fault is
// worth one repair request, not a failure.
type softFault interface{ Soft() bool }

// ErrUnusableAnswer is the cause of a stage that got no usable answer from
// a working model: a refusal, a cut-off or an invalid answer, twice. A job
// that makes many calls may fall back for that one call (see
// worker.Clusterer) where an error of the provider itself must fail it.
var ErrUnusableAnswer = errors.New("the model's answer was unusable after one repair attempt")

// judgeAnswer parses resp, or says what is wrong with it: a refusal, a cut
// off answer (at maxTokens) or the problems parse found. soft is true when
// the problem is a softFault, whose answer v is usable as it is.
func judgeAnswer[T any](resp JSONResponse, maxTokens int, parse func([]byte) (T, error)) (v T, problem string, soft bool) {
	var zero T
	switch {
	case resp.Refusal != "":
		return zero, "the model refused to answer (" + resp.Refusal + "); the request is for ordinary editorial content", false
	case resp.Truncated:
		return zero, fmt.Sprintf("it was cut off at the limit of %d tokens before the JSON was complete; "+
			"write a shorter answer", maxTokens), false
	}
	v, err := parse(resp.Content)
	if err != nil {
		var sf softFault
		if errors.As(err, &sf) && sf.Soft() {
			return v, describeProblem(err), true
		}
		return zero, describeProblem(err), false
	}
	return v, "", false
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
