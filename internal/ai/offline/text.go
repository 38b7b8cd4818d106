package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
)

// TextModelName is the name of the offline text model; it is also the Model
// reported in Usage.
const TextModelName = "offline-writer-v1"

// Bounds of the offline writer's output.
const (
	maxIdeas        = 100 // more ideas than this are never written
	maxKeywordRunes = 200 // keywords are cut to this length
	topicRunes      = 60  // a keyword used as a topic in a title or heading
	// maxMetaTitleRunes and maxMetaDescriptionRunes are the draft stage's
	// limits (internal/ai/limits.go).
	maxMetaTitleRunes       = 60
	maxMetaDescriptionRunes = 160
	draftMinWords           = 600 // the draft length aimed for
	draftMaxWords           = 1200
	draftMaxAttempts        = 4
)

// TextModel is the offline ai.TextModel: it writes its answers from the
// keyword data with templates, deterministically (the same input gives the
// same answer). It needs no network and is safe for concurrent use.
type TextModel struct{}

var _ ai.TextModel = (*TextModel)(nil)

// NewTextModel returns the offline text model. It is deterministic and names
// itself offline.
func NewTextModel() *TextModel { return &TextModel{} }

// Name returns the model name, "offline-writer-v1".
func (m *TextModel) Name() string { return TextModelName }

// GenerateJSON writes the answer for req.Input, which must be an
// ai.ClusterNameInput, ai.IdeasInput, ai.DraftInput or ai.ImagePromptInput
// (or a pointer to one); anything else is a permanent error.
func (m *TextModel) GenerateJSON(ctx context.Context, req ai.JSONRequest) (resp ai.JSONResponse, err error) {
	if err := ctx.Err(); err != nil {
		return ai.JSONResponse{}, err
	}
	defer func() {
		if r := recover(); r != nil {
			resp = ai.JSONResponse{}
			err = errs.Permanent(fmt.Errorf("offline writer: internal error: %v", r))
		}
	}()
	var answer any
	switch in := req.Input.(type) {
	case ai.ClusterNameInput:
		answer = nameCluster(in, newRand(in))
	case *ai.ClusterNameInput:
		if in != nil {
			answer = nameCluster(*in, newRand(*in))
		}
	case ai.IdeasInput:
		answer = writeIdeas(in, newRand(in))
	case *ai.IdeasInput:
		if in != nil {
			answer = writeIdeas(*in, newRand(*in))
		}
	case ai.DraftInput:
		answer = writeDraft(in)
	case *ai.DraftInput:
		if in != nil {
			answer = writeDraft(*in)
		}
	case ai.ImagePromptInput:
		answer = writeImagePrompt(in)
	case *ai.ImagePromptInput:
		if in != nil {
			answer = writeImagePrompt(*in)
		}
	}
	if answer == nil {
		return ai.JSONResponse{}, errs.Permanent(fmt.Errorf(
			"offline writer: stage %q: unsupported input %T", req.Stage, req.Input))
	}
	content, err := json.Marshal(answer)
	if err != nil {
		return ai.JSONResponse{}, errs.Permanent(fmt.Errorf("offline writer: %w", err))
	}
	if err := ctx.Err(); err != nil {
		return ai.JSONResponse{}, err
	}
	return ai.JSONResponse{
		Content: content,
		Usage: ai.Usage{
			Model:            TextModelName,
			PromptTokens:     len(strings.Fields(req.System)) + len(strings.Fields(req.Prompt)),
			CompletionTokens: len(strings.Fields(string(content))),
		},
	}, nil
}

// newRand seeds a PCG from the FNV-1a hash of v's JSON, so that the same
// input always gives the same answer.
func newRand(v any) *rand.Rand {
	b, _ := json.Marshal(v)
	h := fnv.New64a()
	h.Write(b)
	seed := h.Sum64()
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}
