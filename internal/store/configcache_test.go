package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// TestConfigCacheFollowsChanges (#24): what a job reads of its tenant's
// configuration (link inventory, AI settings, prompt override, routes) is
// kept under the versions its start returned: a job that started before a
// change may be served what it read then, and every job started after the
// change reads the change.
func TestConfigCacheFollowsChanges(t *testing.T) {
	st := newStore(t)
	w := newWorld(t, st)
	tid := w.tenant.ID
	// job starts a job, as the worker does: with an attempt in its context.
	jobs := int64(0)
	job := func() context.Context {
		t.Helper()
		ctx := store.WithAttempt(t.Context(), &store.Attempt{})
		jobs++
		j := newJob(t, st, tid, typeDraft, 1000+jobs, 0)
		if _, err := st.StartJob(ctx, tid, j.ID, "working"); err != nil {
			t.Fatal(err)
		}
		return ctx
	}
	links := func(ctx context.Context) int {
		t.Helper()
		got, err := st.SiteLinks(ctx, tid, w.site.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	before := job()
	if n := links(before); n != 0 {
		t.Fatalf("links before = %d", n)
	}
	if err := st.AddLink(t.Context(), tid, w.site.ID, time.Now(),
		store.NewLink{WPID: 7, Kind: "post", URL: "https://blog.example.com/a/", Title: "A", TitleHash: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	if n := links(before); n != 0 {
		t.Errorf("a job started before the change read %d links again; want what it read (0) kept", n)
	}
	if n := links(t.Context()); n != 1 {
		t.Errorf("a read outside a job = %d links, want 1", n)
	}
	after := job()
	if n := links(after); n != 1 {
		t.Errorf("a job started after the change reads %d links, want 1", n)
	}

	if _, err := st.GetTenantAISettings(after, tid); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("AI settings before = %v, want none", err)
	}
	if _, err := st.ActivePrompt(after, tid, "draft"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("prompt before = %v, want none", err)
	}
	if _, err := st.SetTenantOpenAIKey(t.Context(), tid, []byte("sealed"), "…abcd", nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.SavePromptOverride(t.Context(), tid, 0, "draft", "You write {{.Title}}.", "Write {{.Title}}."); err != nil {
		t.Fatal(err)
	}
	later := job()
	if a, err := st.GetTenantAISettings(later, tid); err != nil || string(a.OpenAIKeyEnc) != "sealed" {
		t.Errorf("AI settings after the change = %+v, %v", a, err)
	}
	if p, err := st.ActivePrompt(later, tid, "draft"); err != nil || p.System == nil {
		t.Errorf("prompt after the change = %+v, %v", p, err)
	}

	// The catalogue is shared: a route set by the operator reaches every tenant's next job.
	chains, err := st.RoutedChainsFor(later, tid, []string{"ideas"})
	if err != nil || len(chains) != 0 {
		t.Fatalf("routes before = %v, %v", chains, err)
	}
	writer := seeded(t, st, "offline", "offline-writer-v1", "chat")
	if _, err := st.SetRoute(t.Context(), store.StageRoute{Stage: "ideas", ModelID: writer.ID}); err != nil {
		t.Fatal(err)
	}
	if chains, err := st.RoutedChainsFor(job(), tid, []string{"ideas"}); err != nil || len(chains) != 1 {
		t.Errorf("routes after the operator's change = %v, %v", chains, err)
	}
}
