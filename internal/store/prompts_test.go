package store_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

func newKey(t *testing.T, st *store.Store, tenantID int64) int64 {
	t.Helper()
	k, err := st.CreateAPIKey(t.Context(), tenantID, "owner", "test", "pw_test", []byte(fmt.Sprintf("hash-%d", next())))
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	return k.ID
}

// versionsOf lists a stage's versions as "3:override:s3 2:revert 1:override:s1*",
// newest first, the active one starred.
func versionsOf(t *testing.T, st *store.Store, tenantID int64, stage string) string {
	t.Helper()
	vs, err := st.PromptVersions(t.Context(), tenantID, stage, store.Page{Limit: 100})
	if err != nil {
		t.Fatalf("PromptVersions: %v", err)
	}
	var b bytes.Buffer
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d:%s", v.Version, v.Kind)
		if v.System != nil {
			fmt.Fprintf(&b, ":%s", *v.System)
		}
		if v.Active {
			b.WriteByte('*')
		}
	}
	return b.String()
}

func TestPromptVersions(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 0)
	other := newTenant(t, st, 0)
	key := newKey(t, st, tn.ID)

	// Nothing to revert at first.
	v, created, err := st.RevertPrompt(ctx, tn.ID, key, "draft")
	if err != nil || created || v.Version != 0 {
		t.Fatalf("RevertPrompt with no versions = %+v, %v, %v", v, created, err)
	}
	_, err = st.ActivePrompt(ctx, tn.ID, "draft")
	wantErrIs(t, "ActivePrompt with no versions", err, errs.ErrNotFound)

	v, created, err = st.SavePromptOverride(ctx, tn.ID, key, "draft", "s1", "u1")
	if err != nil || !created || v.Version != 1 || !v.Active || *v.CreatedByKeyID != key || *v.User != "u1" {
		t.Fatalf("first override = %+v, %v, %v", v, created, err)
	}
	// The same templates again: no new version.
	v, created, err = st.SavePromptOverride(ctx, tn.ID, key, "draft", "s1", "u1")
	if err != nil || created || v.Version != 1 {
		t.Fatalf("same override again = %+v, %v, %v", v, created, err)
	}
	if _, created, _ = st.SavePromptOverride(ctx, tn.ID, 0, "draft", "s2", "u2"); !created {
		t.Fatal("second override not created")
	}
	active, err := st.ActivePrompt(ctx, tn.ID, "draft")
	if err != nil || active.Version != 2 || *active.System != "s2" || active.CreatedByKeyID != nil {
		t.Fatalf("ActivePrompt = %+v, %v", active, err)
	}
	if v, created, err = st.RevertPrompt(ctx, tn.ID, key, "draft"); err != nil || !created || v.Version != 3 || v.Kind != store.PromptRevert {
		t.Fatalf("revert = %+v, %v, %v", v, created, err)
	}
	if v, created, err = st.RevertPrompt(ctx, tn.ID, key, "draft"); err != nil || created || v.Version != 3 {
		t.Fatalf("second revert = %+v, %v, %v", v, created, err)
	}
	_, err = st.ActivePrompt(ctx, tn.ID, "draft")
	wantErrIs(t, "ActivePrompt after a revert", err, errs.ErrNotFound)
	// Overriding after a revert with the templates of before is a new version.
	if v, created, _ = st.SavePromptOverride(ctx, tn.ID, key, "draft", "s2", "u2"); !created || v.Version != 4 {
		t.Fatalf("override after revert = %+v, %v", v, created)
	}
	if _, _, err := st.SavePromptOverride(ctx, tn.ID, key, "ideas", "i1", "iu1"); err != nil {
		t.Fatal(err)
	}
	if got, want := versionsOf(t, st, tn.ID, "draft"), "4:override:s2* 3:revert 2:override:s2 1:override:s1"; got != want {
		t.Errorf("versions %q, want %q", got, want)
	}

	// Paging: newest first, after a version number.
	page, err := st.PromptVersions(ctx, tn.ID, "draft", store.Page{After: 3, Limit: 1})
	if err != nil || len(page) != 1 || page[0].Version != 2 || page[0].Active {
		t.Errorf("page after 3 = %+v, %v", page, err)
	}
	if _, err := st.PromptVersions(ctx, tn.ID, "draft", store.Page{After: 1 << 62, Limit: 1}); err != nil {
		t.Errorf("a huge cursor: %v", err)
	}

	all, err := st.ActivePrompts(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range all {
		got = append(got, fmt.Sprintf("%s:%d:%s", a.Stage, a.Version, *a.System))
	}
	if diff := cmp.Diff([]string{"draft:4:s2", "ideas:1:i1"}, got); diff != "" {
		t.Errorf("ActivePrompts (-want +got):\n%s", diff)
	}

	// Another tenant sees none of it.
	if got := versionsOf(t, st, other.ID, "draft"); got != "" {
		t.Errorf("another tenant's versions: %q", got)
	}
	if all, err := st.ActivePrompts(ctx, other.ID); err != nil || len(all) != 0 {
		t.Errorf("another tenant's active prompts: %+v, %v", all, err)
	}
	_, err = st.ActivePrompt(ctx, other.ID, "draft")
	wantErrIs(t, "another tenant's ActivePrompt", err, errs.ErrNotFound)
}

func TestPromptVersionsUnderConcurrency(t *testing.T) {
	st := newStore(t)
	tn := newTenant(t, st, 0)
	const writers = 12
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			_, created, err := st.SavePromptOverride(t.Context(), tn.ID, 0, "ideas", fmt.Sprintf("s%d", i), "u")
			if err == nil && !created {
				err = fmt.Errorf("writer %d created nothing", i)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	vs, err := st.PromptVersions(t.Context(), tn.ID, "ideas", store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != writers || vs[0].Version != writers || !vs[0].Active {
		t.Fatalf("%d versions, newest %d (active %v); want %d", len(vs), vs[0].Version, vs[0].Active, writers)
	}
	for i, v := range vs {
		if v.Version != writers-i || (i > 0 && v.Active) {
			t.Errorf("version %d at position %d (active %v)", v.Version, i, v.Active)
		}
	}
}

func TestTenantAISettings(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 0)
	other := newTenant(t, st, 0)

	_, err := st.GetTenantAISettings(ctx, tn.ID)
	wantErrIs(t, "settings never set", err, errs.ErrNotFound)
	if err := st.ClearTenantOpenAIKey(ctx, tn.ID); err != nil {
		t.Fatalf("clearing what is not set: %v", err)
	}

	url := "https://llm.example.com/v1"
	a1, err := st.SetTenantOpenAIKey(ctx, tn.ID, []byte("sealed-1"), "…abcd", &url)
	if err != nil || !bytes.Equal(a1.OpenAIKeyEnc, []byte("sealed-1")) || a1.OpenAIKeyHint != "…abcd" || *a1.OpenAIBaseURL != url {
		t.Fatalf("SetTenantOpenAIKey = %+v, %v", a1, err)
	}
	a2, err := st.SetTenantOpenAIKey(ctx, tn.ID, []byte("sealed-2"), "…efgh", nil)
	if err != nil || a2.OpenAIBaseURL != nil || !a2.UpdatedAt.After(a1.UpdatedAt) {
		t.Fatalf("second SetTenantOpenAIKey = %+v, %v (first updated at %v)", a2, err, a1.UpdatedAt)
	}
	got, err := st.GetTenantAISettings(ctx, tn.ID)
	if err != nil || !bytes.Equal(got.OpenAIKeyEnc, []byte("sealed-2")) || !got.UpdatedAt.Equal(a2.UpdatedAt) {
		t.Fatalf("GetTenantAISettings = %+v, %v", got, err)
	}
	_, err = st.GetTenantAISettings(ctx, other.ID)
	wantErrIs(t, "another tenant's settings", err, errs.ErrNotFound)

	if err := st.ClearTenantOpenAIKey(ctx, tn.ID); err != nil {
		t.Fatal(err)
	}
	got, err = st.GetTenantAISettings(ctx, tn.ID)
	if err != nil || got.OpenAIKeyEnc != nil || got.OpenAIKeyHint != "" || got.OpenAIBaseURL != nil || !got.UpdatedAt.After(a2.UpdatedAt) {
		t.Fatalf("after clearing: %+v, %v", got, err)
	}
}
