package store_test

import (
	"errors"
	"testing"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// TestRecordBacklink: a pair is recorded once however often it is
// recorded; a draft of another tenant, or the post itself, is not found;
// another tenant sees none of it.
func TestRecordBacklink(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	w := newWorld(t, st)
	tid, sid := w.tenant.ID, w.site.ID
	ij := newJob(t, st, tid, typeIdeas, w.cluster.ID, 1)
	startJob(t, st, tid, ij.ID)
	if err := st.SaveIdeas(ctx, store.Outcome{TenantID: tid, JobID: ij.ID, Charged: 1}, w.cluster,
		[]store.NewIdea{{Title: "Trail shoes", ContentType: "guide", TargetKeywords: []string{"trail shoes"},
			Outline: []store.Heading{{Level: 2, Text: "Why"}}}}); err != nil {
		t.Fatalf("SaveIdeas: %v", err)
	}
	ideas, err := st.ListIdeas(ctx, tid, store.IdeaFilter{ClusterID: w.cluster.ID}, store.Page{Limit: 10})
	if err != nil || len(ideas) != 2 {
		t.Fatalf("ListIdeas = %v, %v", ideas, err)
	}
	dj := newJob(t, st, tid, typeDraft, ideas[1].ID, 3)
	startJob(t, st, tid, dj.ID)
	if err := st.SaveDraft(ctx, store.Outcome{TenantID: tid, JobID: dj.ID, Charged: 3}, ideas[1],
		store.Draft{Title: "Trail shoes", Slug: "trail-shoes", BodyHTML: "<p>hi</p>", WordCount: 1}); err != nil {
		t.Fatalf("SaveDraft: %v", err)
	}
	ds, err := st.ListDrafts(ctx, tid, sid, store.Page{Limit: 10})
	if err != nil || len(ds) != 2 {
		t.Fatalf("ListDrafts = %v, %v", ds, err)
	}
	from, to := ds[0].ID, ds[1].ID

	for range 2 {
		if err := st.RecordBacklink(ctx, tid, sid, from, to, 41); err != nil {
			t.Fatalf("RecordBacklink: %v", err)
		}
	}
	got, err := st.BacklinksTo(ctx, tid, to)
	if err != nil || len(got) != 1 || got[0].FromDraftID != from || got[0].WPPostID != 41 {
		t.Fatalf("BacklinksTo = %+v, %v; want the one pair", got, err)
	}
	if err := st.RecordBacklink(ctx, tid, sid, to, to, 42); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("a post linked from itself: %v, want not found", err)
	}

	other := newWorld(t, st)
	if err := st.RecordBacklink(ctx, other.tenant.ID, other.site.ID, other.draft.ID, to, 43); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("another tenant linking to this draft: %v, want not found", err)
	}
	if err := st.RecordBacklink(ctx, other.tenant.ID, sid, from, to, 43); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("another tenant recording this pair: %v, want not found", err)
	}
	if got, err := st.BacklinksTo(ctx, other.tenant.ID, to); err != nil || len(got) != 0 {
		t.Errorf("another tenant's BacklinksTo = %+v, %v; want none", got, err)
	}
}
