package store_test

import (
	"testing"
	"time"

	"github.com/presswork/presswork/internal/store"
)

// TestUsageCountsEveryAttempt records a failed attempt and a successful
// one with two models: the job's totals and the usage report count both,
// each model on its own row, and the job once, under its model.
func TestUsageCountsEveryAttempt(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 100)
	job := newJob(t, st, tn.ID, typeIdeas, 1, 2)
	startJob(t, st, tn.ID, job.ID)
	chat := store.UsageEntry{Stage: typeIdeas, Model: "gpt-4o-mini", Kind: store.UsageChat, TokensIn: 100, TokensOut: 10, CostUSD: 0.5}
	if err := st.RecordUsage(ctx, tn.ID, job.ID, 1, []store.UsageEntry{chat}); err != nil {
		t.Fatal(err)
	}
	if err := st.RetryLater(ctx, tn.ID, job.ID, store.Failure{Message: "temporary failure"}); err != nil {
		t.Fatal(err)
	}
	startJob(t, st, tn.ID, job.ID)
	if err := st.FinishJob(ctx, store.Outcome{TenantID: tn.ID, JobID: job.ID, Charged: 2, Model: "gpt-4o-mini",
		TokensIn: 100, TokensOut: 10, CostUSD: 0.5}); err != nil {
		t.Fatal(err)
	}
	embed := store.UsageEntry{Stage: typeIdeas, Model: "text-embedding-3-small", Kind: store.UsageEmbedding, TokensIn: 40, CostUSD: 0.25}
	if err := st.RecordUsage(ctx, tn.ID, job.ID, 2, []store.UsageEntry{chat, embed}); err != nil {
		t.Fatal(err)
	}

	j := getJob(t, st, tn.ID, job.ID)
	if j.TokensIn != 240 || j.TokensOut != 20 || j.CostUSD != 1.25 || j.Model == nil || *j.Model != "gpt-4o-mini" {
		t.Errorf("job totals %d in, %d out, %v USD, model %v; want 240, 20, 1.25, gpt-4o-mini",
			j.TokensIn, j.TokensOut, j.CostUSD, j.Model)
	}
	now := time.Now().UTC()
	rows, err := st.Usage(ctx, tn.ID, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	day := now.Format(time.DateOnly)
	want := []store.UsageRow{
		{Day: day, Stage: typeIdeas, Model: "gpt-4o-mini", Jobs: 1, TokensIn: 200, TokensOut: 20, CostUSD: 1, Credits: 2},
		{Day: day, Stage: typeIdeas, Model: "text-embedding-3-small", TokensIn: 40, CostUSD: 0.25},
	}
	if len(rows) != len(want) {
		t.Fatalf("Usage = %+v, want %+v", rows, want)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("Usage[%d] = %+v, want %+v", i, rows[i], want[i])
		}
	}
}
