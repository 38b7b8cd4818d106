package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/packages/param"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
)

// providerName starts every Name and limit key of the provider.
const providerName = "anthropic"

// defaultRefusal is the refusal reported when the model refused without
// saying why.
const defaultRefusal = "the model declined to answer"

// TextModel is an ai.TextModel on the Messages API, with the answer forced
// into a tool call whose input schema is the stage's JSON schema. It is safe
// for concurrent use.
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

// Name names the API and the default model, like "anthropic/claude-haiku-4-5".
func (m *TextModel) Name() string { return providerName + "/" + m.c.cfg.Model }

// GenerateJSON asks the stage's model for a JSON object that matches
// req.Schema, as the input of the one tool the model must call. A refusal
// is reported in Refusal and an answer cut off (at max_tokens or the end of
// the context window) in Truncated;
// checking that Content is valid is left to the caller. An answer without
// the tool call is a (retryable) error.
func (m *TextModel) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	model := m.c.cfg.ModelFor(req.Stage)
	op := "messages (" + model + ")"
	params, err := m.params(model, req)
	if err != nil {
		return ai.JSONResponse{}, errs.Permanent(fmt.Errorf("anthropic: %s: %s: %w", op, req.Stage, err))
	}
	msg, err := m.c.api.Messages.New(ctx, params)
	if err != nil {
		return ai.JSONResponse{}, m.c.classify(ctx, op, err)
	}
	out := ai.JSONResponse{Usage: m.c.usage(model, msg)}
	tool := params.ToolChoice.OfTool.Name
	input, found := toolInput(msg, tool)
	switch msg.StopReason {
	case sdk.StopReasonMaxTokens, sdk.StopReasonModelContextWindowExceeded:
		out.Content, out.Truncated = input, true
		return out, nil
	case sdk.StopReasonRefusal:
		out.Refusal = refusal(msg)
		return out, nil
	}
	if !found {
		return out, fmt.Errorf("anthropic: %s: the answer has no call of the tool %q (stop reason %q)", op, tool, msg.StopReason)
	}
	out.Content = input
	return out, nil
}

// params builds the request: the system prompt as a cached text block, the
// prompt as the user's message, and one tool, named after the schema, that
// the model must call.
func (m *TextModel) params(model string, req ai.JSONRequest) (sdk.MessageNewParams, error) {
	schema, err := inputSchema(req.Schema)
	if err != nil {
		return sdk.MessageNewParams{}, err
	}
	name := toolName(req.SchemaName)
	tool := sdk.ToolParam{
		Name:        name,
		Description: param.NewOpt("Give the answer: call this tool once, with the whole answer as its input."),
		InputSchema: schema,
	}
	if m.c.cfg.StrictTools {
		tool.Strict = param.NewOpt(true)
	}
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	p := sdk.MessageNewParams{
		Model:      model,
		MaxTokens:  int64(maxTokens),
		Messages:   []sdk.MessageParam{sdk.NewUserMessage(sdk.NewTextBlock(req.Prompt))},
		Tools:      []sdk.ToolUnionParam{{OfTool: &tool}},
		ToolChoice: sdk.ToolChoiceParamOfTool(name),
	}
	if req.System != "" {
		// The prompt cache holds the tools and the system prompt: the
		// stage's fixed part, the same for every call of the stage.
		p.System = []sdk.TextBlockParam{{Text: req.System, CacheControl: sdk.NewCacheControlEphemeralParam()}}
	}
	return p, nil
}

// inputSchema turns a JSON schema into a tool's input_schema, which must
// describe an object.
func inputSchema(raw json.RawMessage) (sdk.ToolInputSchemaParam, error) {
	var fields map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &fields) != nil || fields == nil {
		return sdk.ToolInputSchemaParam{}, errors.New("the JSON schema is missing or invalid")
	}
	if t, ok := fields["type"]; ok && t != "object" {
		return sdk.ToolInputSchemaParam{}, fmt.Errorf("the JSON schema's root is of type %v; a tool's input must be an object", t)
	}
	s := sdk.ToolInputSchemaParam{Properties: fields["properties"]}
	if req, ok := fields["required"].([]any); ok {
		for _, r := range req {
			if name, ok := r.(string); ok {
				s.Required = append(s.Required, name)
			}
		}
	}
	delete(fields, "type")
	delete(fields, "properties")
	delete(fields, "required")
	if len(fields) > 0 {
		s.ExtraFields = fields
	}
	return s, nil
}

// toolInput returns the input of the answer's call of tool (of its first
// tool call if none names tool); found is false when it has none.
func toolInput(msg *sdk.Message, tool string) (input []byte, found bool) {
	for _, b := range msg.Content {
		if b.Type != "tool_use" {
			continue
		}
		if !found || b.Name == tool {
			input, found = []byte(b.Input), true
		}
		if b.Name == tool {
			break
		}
	}
	if found && input == nil {
		input = []byte{}
	}
	return input, found
}

// refusal is the model's reason for refusing: the API's explanation, else
// the text the model wrote, else defaultRefusal.
func refusal(msg *sdk.Message) string {
	if e := strings.TrimSpace(msg.StopDetails.Explanation); e != "" {
		return e
	}
	var text []string
	for _, b := range msg.Content {
		if b.Type == "text" && strings.TrimSpace(b.Text) != "" {
			text = append(text, strings.TrimSpace(b.Text))
		}
	}
	if len(text) > 0 {
		return strings.Join(text, " ")
	}
	return defaultRefusal
}

// usage counts a call's tokens, the cache's with the input's, and values
// them with the price of the model that answered, or of the model asked for
// when the answering one has no price.
func (c *client) usage(asked string, msg *sdk.Message) ai.Usage {
	model := msg.Model
	if model == "" {
		model = asked
	}
	priceModel := model
	if _, ok := c.cfg.Prices.Lookup(priceModel); !ok {
		priceModel = asked
	}
	u := msg.Usage
	t := Tokens{Input: int(u.InputTokens), Output: int(u.OutputTokens),
		CacheWrite: int(u.CacheCreationInputTokens), CacheRead: int(u.CacheReadInputTokens)}
	return ai.Usage{
		Model:            model,
		PromptTokens:     t.Input + t.CacheWrite + t.CacheRead,
		CompletionTokens: t.Output,
		CostUSD:          c.cfg.Prices.Cost(priceModel, t),
	}
}

var toolNameBad = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// toolName makes name acceptable to the API: 1-64 letters, digits, _ or -.
func toolName(name string) string {
	name = toolNameBad.ReplaceAllString(name, "_")
	if len(name) > 64 {
		name = name[:64]
	}
	if name == "" {
		return "answer"
	}
	return name
}
