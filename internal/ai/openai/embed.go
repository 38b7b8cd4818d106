package openai

import (
	"context"
	"fmt"
	"strings"

	oa "github.com/sashabaranov/go-openai"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
)

// Batch limits of the embeddings endpoint: at most 2,048 inputs and 300,000
// tokens per request. Tokens are estimated, not counted, so the budget
// keeps a margin.
const (
	MaxBatchInputs = 2048
	MaxBatchTokens = 240_000
)

// EstimateTokens is the token estimate batches are split by: one token per
// three bytes, rounded up, plus one. English averages about four bytes a
// token.
func EstimateTokens(s string) int { return (len(s)+2)/3 + 1 }

// Embedder is an ai.Embedder on the embeddings endpoint. It is safe for
// concurrent use.
type Embedder struct {
	c *client
}

var _ ai.Embedder = (*Embedder)(nil)

// NewEmbedder returns the embedder for cfg, which it validates.
func NewEmbedder(cfg Config, opts ...Option) (*Embedder, error) {
	c, err := newClient(cfg, opts)
	if err != nil {
		return nil, err
	}
	return &Embedder{c: c}, nil
}

// Name names the API and the model, like "openai/text-embedding-3-small".
func (e *Embedder) Name() string { return e.c.providerName() + "/" + e.c.cfg.EmbeddingModel }

// Dimensions returns the configured vector length, which every request asks
// for.
func (e *Embedder) Dimensions() int { return e.c.cfg.EmbeddingDimensions }

// Embed returns one vector per text, in order, in batches of at most
// MaxBatchInputs texts and MaxBatchTokens estimated tokens. A text that is
// empty or only spaces gets a zero vector without being sent (the API
// rejects empty inputs). On an error the usage of the batches that
// succeeded is returned with it.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, ai.Usage, error) {
	out := make([][]float32, len(texts))
	var usage ai.Usage
	var batch []string
	var index []int // index[i] is the position in texts of batch[i]
	tokens := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		u, err := e.embedBatch(ctx, batch, index, out)
		usage.Add(u)
		batch, index, tokens = batch[:0], index[:0], 0
		return err
	}
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			continue
		}
		n := EstimateTokens(t)
		if len(batch) == MaxBatchInputs || (len(batch) > 0 && tokens+n > MaxBatchTokens) {
			if err := flush(); err != nil {
				return nil, usage, err
			}
		}
		batch = append(batch, t)
		index = append(index, i)
		tokens += n
	}
	if err := flush(); err != nil {
		return nil, usage, err
	}
	dims := e.Dimensions()
	for i := range out {
		if out[i] == nil {
			out[i] = make([]float32, dims)
		}
	}
	return out, usage, nil
}

// embedBatch embeds batch and stores vector i at out[index[i]], checking
// that the answer has one vector of the configured length per input.
func (e *Embedder) embedBatch(ctx context.Context, batch []string, index []int, out [][]float32) (ai.Usage, error) {
	model, dims := e.c.cfg.EmbeddingModel, e.Dimensions()
	op := "embeddings (" + model + ")"
	var resp oa.EmbeddingResponse
	err := e.c.do(ctx, op, func(ctx context.Context) error {
		var err error
		resp, err = e.c.api.CreateEmbeddings(ctx, oa.EmbeddingRequestStrings{
			Input:          batch,
			Model:          oa.EmbeddingModel(model),
			Dimensions:     dims,
			EncodingFormat: oa.EmbeddingEncodingFormatFloat,
		})
		return err
	})
	if err != nil {
		return ai.Usage{}, err
	}
	usage := e.c.usage(model, string(resp.Model), resp.Usage.PromptTokens, 0)
	if len(resp.Data) != len(batch) {
		return usage, fmt.Errorf("openai: %s: %d vectors for %d inputs", op, len(resp.Data), len(batch))
	}
	seen := make([]bool, len(batch))
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= len(batch) || seen[d.Index] {
			return usage, fmt.Errorf("openai: %s: the answer has a bad or repeated index %d", op, d.Index)
		}
		if len(d.Embedding) != dims {
			// The model ignores or does not support "dimensions": only a
			// configuration change helps.
			return usage, errs.Permanent(fmt.Errorf(
				"openai: %s: the model returned %d dimensions, want %d; check OPENAI_EMBEDDING_DIMENSIONS",
				op, len(d.Embedding), dims))
		}
		seen[d.Index] = true
		out[index[d.Index]] = d.Embedding
	}
	return usage, nil
}
