package worker

import (
	"context"
	"sync"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/store"
)

// usageStore records what each attempt of a job spent.
type usageStore interface {
	RecordUsage(ctx context.Context, tenantID int64, jobID string, attempt int, entries []store.UsageEntry) error
}

// meter collects what one attempt of a job spends, by model and kind,
// whether the attempt succeeds or not. The outcome recorder puts one in the
// attempt's context; the stages report each model call's usage to it.
type meter struct {
	stage   string
	mu      sync.Mutex
	entries []store.UsageEntry
}

type meterKey struct{}

// withMeter returns ctx carrying a new meter of a stage's attempt.
func withMeter(ctx context.Context, stage string) (context.Context, *meter) {
	m := &meter{stage: stage}
	return context.WithValue(ctx, meterKey{}, m), m
}

// spent reports to ctx's meter, if any, what a model call of kind
// (store.UsageChat, UsageEmbedding or UsageImage) consumed.
func spent(ctx context.Context, kind string, u ai.Usage) {
	if m, ok := ctx.Value(meterKey{}).(*meter); ok {
		m.add(kind, u)
	}
}

func (m *meter) add(kind string, u ai.Usage) {
	if kind != store.UsageImage && u.PromptTokens == 0 && u.CompletionTokens == 0 && u.CostUSD == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.entries {
		e := &m.entries[i]
		if e.Model == u.Model && e.Kind == kind {
			e.TokensIn += int64(u.PromptTokens)
			e.TokensOut += int64(u.CompletionTokens)
			e.CostUSD += u.CostUSD
			return
		}
	}
	m.entries = append(m.entries, store.UsageEntry{Stage: m.stage, Model: u.Model, Kind: kind,
		TokensIn: int64(u.PromptTokens), TokensOut: int64(u.CompletionTokens), CostUSD: u.CostUSD})
}

// spending returns what the attempt spent, one entry per model and kind.
func (m *meter) spending() []store.UsageEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]store.UsageEntry(nil), m.entries...)
}
