package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	oa "github.com/sashabaranov/go-openai"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
)

// contentFilterRefusal is the refusal reported when the content filter
// withheld the answer without the model saying why.
const contentFilterRefusal = "the answer was withheld by the content filter"

// TextModel is an ai.TextModel on Chat Completions with strict structured
// outputs. It is safe for concurrent use.
type TextModel struct {
	c *client
}

var _ ai.TextModel = (*TextModel)(nil)

// NewTextModel returns the text model for cfg, which it validates.
func NewTextModel(cfg Config, opts ...Option) (*TextModel, error) {
	c, err := newClient(cfg, opts)
	if err != nil {
		return nil, err
	}
	return &TextModel{c: c}, nil
}

// Name names the API and the default model, like "openai/gpt-4o-mini".
func (m *TextModel) Name() string { return m.c.providerName() + "/" + m.c.cfg.Model }

// GenerateJSON asks the stage's model for a JSON object that matches
// req.Schema, in strict mode (or as the configuration's Profile says). A refusal, including an answer the content
// filter withheld, is reported in Refusal and a cut-off answer in Truncated;
// checking that Content is valid is left to the caller.
func (m *TextModel) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	creq, err := m.c.chatRequest(req)
	if err != nil {
		return ai.JSONResponse{}, err
	}
	var resp oa.ChatCompletionResponse
	err = m.c.do(ctx, "chat completion ("+creq.Model+")", func(ctx context.Context) error {
		var err error
		resp, err = m.c.api.CreateChatCompletion(ctx, creq)
		return err
	})
	if err != nil {
		return ai.JSONResponse{}, err
	}
	return m.c.jsonResponse(creq.Model, resp)
}

// chatRequest is the Chat Completions request that asks the stage's model
// for req's answer in strict structured-output mode: the body GenerateJSON
// sends, and the body of a Batch API line.
func (c *client) chatRequest(req ai.JSONRequest) (oa.ChatCompletionRequest, error) {
	return c.chatRequestOf(c.cfg.ModelFor(req.Stage), req)
}

// chatRequestOf is chatRequest asked of model.
func (c *client) chatRequestOf(model string, req ai.JSONRequest) (oa.ChatCompletionRequest, error) {
	if len(req.Schema) == 0 || !json.Valid(req.Schema) {
		return oa.ChatCompletionRequest{}, errs.Permanent(fmt.Errorf("openai: %s: the JSON schema is missing or invalid", req.Stage))
	}
	creq, err := c.cfg.Profile.chatRequest(model, req.System, req.Prompt, req.SchemaName, req.Schema, req.MaxTokens)
	if err != nil {
		return oa.ChatCompletionRequest{}, errs.Permanent(fmt.Errorf("openai: %s: %w", req.Stage, err))
	}
	return creq, nil
}

// jsonResponse reads a chat completion asked of model: a refusal, including
// an answer the content filter withheld, goes to Refusal and a cut-off
// answer sets Truncated.
func (c *client) jsonResponse(model string, resp oa.ChatCompletionResponse) (ai.JSONResponse, error) {
	usage := c.usage(model, resp.Model, resp.Usage.PromptTokens, resp.Usage.CompletionTokens)
	if len(resp.Choices) == 0 {
		return ai.JSONResponse{Usage: usage}, errors.New("openai: chat completion (" + model + "): the answer has no choices")
	}
	choice := resp.Choices[0]
	out := ai.JSONResponse{
		Content:   []byte(choice.Message.Content),
		Usage:     usage,
		Truncated: choice.FinishReason == oa.FinishReasonLength,
		Refusal:   choice.Message.Refusal,
	}
	if out.Refusal == "" && choice.FinishReason == oa.FinishReasonContentFilter {
		out.Refusal = contentFilterRefusal
	}
	return out, nil
}

// usage values a call's tokens with the price of the model that answered,
// or of the model asked for when the answering one has no price.
func (c *client) usage(asked, answered string, promptTokens, completionTokens int) ai.Usage {
	model := answered
	if model == "" {
		model = asked
	}
	priceModel := model
	if _, ok := c.cfg.Prices.Lookup(priceModel); !ok {
		priceModel = asked
	}
	return ai.Usage{
		Model:            model,
		PromptTokens:     promptTokens,
		CompletionTokens: completionTokens,
		CostUSD:          c.cfg.Prices.Cost(priceModel, promptTokens, completionTokens),
	}
}

var schemaNameBad = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// schemaName makes name acceptable to the API: 1-64 letters, digits, _ or -.
func schemaName(name string) string {
	name = schemaNameBad.ReplaceAllString(name, "_")
	if len(name) > 64 {
		name = name[:64]
	}
	if name == "" {
		return "answer"
	}
	return name
}
