package worker

import (
	"context"
	"slices"
	"testing"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/store"
)

func TestMeterSumsByModelAndKind(t *testing.T) {
	ctx, m := withMeter(context.Background(), "keywords:cluster")
	spent(ctx, store.UsageEmbedding, ai.Usage{Model: "text-embedding-3-small", PromptTokens: 40, CostUSD: 0.1})
	spent(ctx, store.UsageChat, ai.Usage{Model: "gpt-4o-mini", PromptTokens: 100, CompletionTokens: 10, CostUSD: 0.2})
	spent(ctx, store.UsageChat, ai.Usage{Model: "gpt-4o-mini", PromptTokens: 50, CompletionTokens: 5, CostUSD: 0.3})
	spent(ctx, store.UsageChat, ai.Usage{}) // a call that failed before any answer
	spent(ctx, store.UsageImage, ai.Usage{Model: "flux-schnell"})
	spent(context.Background(), store.UsageChat, ai.Usage{Model: "gpt-4o-mini", PromptTokens: 7}) // no meter: ignored

	want := []store.UsageEntry{
		{Stage: "keywords:cluster", Model: "text-embedding-3-small", Kind: store.UsageEmbedding, TokensIn: 40, CostUSD: 0.1},
		{Stage: "keywords:cluster", Model: "gpt-4o-mini", Kind: store.UsageChat, TokensIn: 150, TokensOut: 15, CostUSD: 0.5},
		{Stage: "keywords:cluster", Model: "flux-schnell", Kind: store.UsageImage},
	}
	if got := m.spending(); !slices.Equal(got, want) {
		t.Errorf("spending = %+v\nwant %+v", got, want)
	}
}
