package providers_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/limited"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/ratelimit"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/testenv"
)

// TestTenantModelsLimitKeys checks that a tenant's models are limited under
// keys of its own, are cached until its settings change, and are gone with
// its key.
func TestTenantModelsLimitKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testenv.Store(t)
	tn, err := st.CreateTenant(ctx, store.NewTenant{Slug: "limits", Name: "Limits", Plan: "free"})
	if err != nil {
		t.Fatal(err)
	}
	id := tn.ID
	box, err := secret.NewBox(1, map[byte][]byte{1: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	models := providers.NewTenantModels(st, box, providers.TenantOpenAI{Config: openai.DefaultConfig(""),
		Limiter: ratelimit.New(rdb, "presswork:ratelimit")}, slog.New(slog.DiscardHandler))

	if _, ok, err := models.ForTenant(ctx, id); ok || err != nil {
		t.Fatalf("ForTenant without a key = %v, %v", ok, err)
	}
	seal := func(key string) {
		t.Helper()
		enc, err := box.Seal([]byte(key), secret.OpenAIKeyAD(id))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.SetTenantOpenAIKey(ctx, id, enc, "…", nil); err != nil {
			t.Fatal(err)
		}
	}
	seal("sk-limits-one-0000000000")
	p, ok, err := models.ForTenant(ctx, id)
	if !ok || err != nil {
		t.Fatalf("ForTenant = %v, %v", ok, err)
	}
	text, isLimited := p.Text.(*limited.TextModel)
	emb, embLimited := p.Embedder.(*limited.Embedder)
	if !isLimited || !embLimited {
		t.Fatalf("the tenant's models are %T and %T, want limited ones", p.Text, p.Embedder)
	}
	prefix := fmt.Sprintf("tenant-%d/", id)
	if got, want := text.Key(ai.StageDraft), prefix+"openai/gpt-4o-mini"; got != want {
		t.Errorf("text key %q, want %q", got, want)
	}
	if got, want := emb.Key(), prefix+"openai/text-embedding-3-small"; got != want {
		t.Errorf("embeddings key %q, want %q", got, want)
	}
	if got := models.TenantSecrets(id); len(got) != 1 || got[0] != "sk-limits-one-0000000000" {
		t.Errorf("TenantSecrets = %q, want the tenant's key", got)
	}

	// Its Batch API (#23) comes from the same key, with the same models.
	batch, ok, err := models.Batcher(ctx, id)
	if !ok || err != nil || batch == nil || batch.Model(ai.StageDraft) != "gpt-4o-mini" {
		t.Fatalf("Batcher = %v, %v, %v", batch, ok, err)
	}

	again, _, _ := models.ForTenant(ctx, id)
	if again.Text != p.Text {
		t.Error("the models were built again without a change")
	}
	seal("sk-limits-two-0000000000")
	changed, _, _ := models.ForTenant(ctx, id)
	if changed.Text == p.Text {
		t.Error("the models were not rebuilt after the key changed")
	}
	if rebuilt, _, _ := models.Batcher(ctx, id); rebuilt == batch {
		t.Error("the Batch API was not rebuilt after the key changed")
	}
	if err := st.ClearTenantOpenAIKey(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := models.ForTenant(ctx, id); ok || err != nil {
		t.Errorf("ForTenant after the key was cleared = %v, %v", ok, err)
	}
	if _, ok, err := models.Batcher(ctx, id); ok || err != nil {
		t.Errorf("Batcher after the key was cleared = %v, %v", ok, err)
	}
}
