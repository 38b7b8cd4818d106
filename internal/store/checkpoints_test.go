package store_test

import (
	"slices"
	"testing"

	"github.com/presswork/presswork/internal/store"
)

// TestCheckpoints: a job's checkpoints are read back by prefix, replaced by
// step, hidden from other tenants, and gone once the job ends; a job that
// resumes from them and spends nothing itself still finishes with the
// usage of its earlier attempts.
func TestCheckpoints(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn, other := newTenant(t, st, 100), newTenant(t, st, 100)
	job := newJob(t, st, tn.ID, typeCluster, 1, 2)
	startJob(t, st, tn.ID, job.ID)
	for step, v := range map[string]any{"grouping": []int{1, 2}, "name/0": "first", "name/1": "second"} {
		if err := st.SaveCheckpoint(ctx, tn.ID, job.ID, step, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SaveCheckpoint(ctx, tn.ID, job.ID, "name/0", "again"); err != nil {
		t.Fatal(err)
	}
	names, err := st.Checkpoints(ctx, tn.ID, job.ID, "name/")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 || string(names["name/0"]) != `"again"` || string(names["name/1"]) != `"second"` {
		t.Errorf("Checkpoints(name/) = %s", names)
	}
	if got, _ := st.Checkpoints(ctx, other.ID, job.ID, ""); len(got) != 0 {
		t.Errorf("another tenant reads %d checkpoints of the job", len(got))
	}

	chat := store.UsageEntry{Stage: typeCluster, Model: "m", Kind: store.UsageChat, TokensIn: 70, TokensOut: 7, CostUSD: 0.5}
	if err := st.RecordUsage(ctx, tn.ID, job.ID, 1, []store.UsageEntry{chat}); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishJob(ctx, store.Outcome{TenantID: tn.ID, JobID: job.ID, Charged: 2}); err != nil {
		t.Fatal(err)
	}
	if j := getJob(t, st, tn.ID, job.ID); j.TokensIn != 70 || j.TokensOut != 7 || j.CostUSD != 0.5 {
		t.Errorf("a job finished by an attempt that spent nothing shows %d in, %d out, %v USD; want its earlier 70, 7, 0.5",
			j.TokensIn, j.TokensOut, j.CostUSD)
	}
	if left, _ := st.Checkpoints(ctx, tn.ID, job.ID, ""); len(left) != 0 {
		t.Errorf("%d checkpoints left after the job ended", len(left))
	}
}

// TestEmbeddingCache: vectors come back as stored, by tenant and model; a
// vector already cached is kept.
func TestEmbeddingCache(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn, other := newTenant(t, st, 0), newTenant(t, st, 0)
	h1, h2 := []byte("hash-one"), []byte("hash-two")
	if err := st.CacheEmbeddings(ctx, tn.ID, "openai/e/3", [][]byte{h1, h2},
		[][]float32{{0.5, -1, 3.25}, {0, 0, 1e-7}}); err != nil {
		t.Fatal(err)
	}
	if err := st.CacheEmbeddings(ctx, tn.ID, "openai/e/3", [][]byte{h1}, [][]float32{{9, 9, 9}}); err != nil {
		t.Fatal(err)
	}
	got, err := st.CachedEmbeddings(ctx, tn.ID, "openai/e/3", [][]byte{h1, h2, []byte("absent")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !slices.Equal(got[string(h1)], []float32{0.5, -1, 3.25}) || !slices.Equal(got[string(h2)], []float32{0, 0, 1e-7}) {
		t.Errorf("CachedEmbeddings = %v", got)
	}
	for _, c := range []struct {
		tenant int64
		model  string
	}{{other.ID, "openai/e/3"}, {tn.ID, "openai/e/4"}} {
		if got, _ := st.CachedEmbeddings(ctx, c.tenant, c.model, [][]byte{h1, h2}); len(got) != 0 {
			t.Errorf("tenant %d, model %s reads %d cached vectors", c.tenant, c.model, len(got))
		}
	}
	if err := st.CacheEmbeddings(ctx, tn.ID, "m", [][]byte{h1}, nil); err == nil {
		t.Error("one hash and no vector were accepted")
	}
}
