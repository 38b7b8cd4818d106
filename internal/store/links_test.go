package store_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// linkSummary is what a test compares of an inventory entry.
type linkSummary struct {
	WPID          int64
	Kind, URL     string
	Title, Source string
	Draft         bool
}

func summarize(links []store.Link) []linkSummary {
	out := []linkSummary{}
	for _, l := range links {
		out = append(out, linkSummary{l.WPID, l.Kind, l.URL, l.Title, l.Source, l.DraftID != nil})
	}
	return out
}

func siteLinks(t *testing.T, st *store.Store, tenantID, siteID int64) []store.Link {
	t.Helper()
	links, err := st.SiteLinks(t.Context(), tenantID, siteID)
	if err != nil {
		t.Fatalf("SiteLinks: %v", err)
	}
	return links
}

func TestReplaceLinks(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	w := newWorld(t, st)
	tid, sid := w.tenant.ID, w.site.ID
	if err := st.RecordPost(ctx, tid, w.draft.ID, store.WPPost{ID: 7, Slug: "best", Link: "https://blog.example.com/best/", Status: "publish"}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	first := []store.NewLink{
		{WPID: 7, Kind: "post", URL: "https://blog.example.com/best/", Title: "Best running shoes", TitleHash: []byte("h7")},
		{WPID: 2, Kind: "page", URL: "https://blog.example.com/about/", Title: "About", TitleHash: []byte("h2")},
		{WPID: 9, Kind: "post", URL: "https://blog.example.com/old/", Title: "Old", TitleHash: []byte("h9")},
	}
	res, err := st.ReplaceLinks(ctx, tid, sid, t0, first)
	if err != nil || res != (store.LinkRefresh{Entries: 3}) {
		t.Fatalf("ReplaceLinks = %+v, %v", res, err)
	}
	want := []linkSummary{
		{7, "post", "https://blog.example.com/best/", "Best running shoes", store.LinkPresswork, true},
		{2, "page", "https://blog.example.com/about/", "About", store.LinkWordPress, false},
		{9, "post", "https://blog.example.com/old/", "Old", store.LinkWordPress, false},
	}
	if diff := cmp.Diff(want, summarize(siteLinks(t, st, tid, sid))); diff != "" {
		t.Fatalf("inventory (-want +got):\n%s", diff)
	}
	// The same refresh again changes nothing.
	if res, err := st.ReplaceLinks(ctx, tid, sid, t0, first); err != nil || res != (store.LinkRefresh{Entries: 3}) {
		t.Fatalf("ReplaceLinks again = %+v, %v", res, err)
	}
	ids := map[int64]int64{}
	for _, l := range siteLinks(t, st, tid, sid) {
		ids[l.WPID] = l.ID
	}

	// A publish adds its post after the next refresh read WordPress: the
	// refresh keeps it.
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	if err := st.AddLink(ctx, tid, sid, t2, store.NewLink{WPID: 11, Kind: "post", URL: "https://blog.example.com/new/", Title: "New", TitleHash: []byte("h11")}); err != nil {
		t.Fatalf("AddLink: %v", err)
	}
	second := []store.NewLink{first[0], {WPID: 2, Kind: "page", URL: "https://blog.example.com/about-us/", Title: "About us", TitleHash: []byte("h2b")}}
	res, err = st.ReplaceLinks(ctx, tid, sid, t1, second)
	if err != nil || res != (store.LinkRefresh{Entries: 3, Removed: 1}) {
		t.Fatalf("second ReplaceLinks = %+v, %v", res, err)
	}
	got := siteLinks(t, st, tid, sid)
	want = []linkSummary{
		{7, "post", "https://blog.example.com/best/", "Best running shoes", store.LinkPresswork, true},
		{2, "page", "https://blog.example.com/about-us/", "About us", store.LinkWordPress, false},
		{11, "post", "https://blog.example.com/new/", "New", store.LinkWordPress, false},
	}
	if diff := cmp.Diff(want, summarize(got)); diff != "" {
		t.Fatalf("inventory after the second refresh (-want +got):\n%s", diff)
	}
	if got[0].ID != ids[7] || got[1].ID != ids[2] {
		t.Errorf("ids changed across refreshes: %d, %d; want %d, %d", got[0].ID, got[1].ID, ids[7], ids[2])
	}

	// A refresh that read WordPress before the last one stored is stale.
	res, err = st.ReplaceLinks(ctx, tid, sid, t0, nil)
	if err != nil || !res.Stale {
		t.Fatalf("stale ReplaceLinks = %+v, %v", res, err)
	}
	if n := len(siteLinks(t, st, tid, sid)); n != 3 {
		t.Errorf("a stale refresh left %d entries, want 3", n)
	}

	// Paging.
	page1, err := st.ListLinks(ctx, tid, sid, store.Page{Limit: 2})
	if err != nil || len(page1) != 2 {
		t.Fatalf("ListLinks page 1 = %d, %v", len(page1), err)
	}
	page2, err := st.ListLinks(ctx, tid, sid, store.Page{After: page1[1].ID, Limit: 2})
	if err != nil || len(page2) != 1 || page2[0].WPID != 11 {
		t.Fatalf("ListLinks page 2 = %+v, %v", page2, err)
	}

	// An empty site empties the inventory.
	if res, err := st.ReplaceLinks(ctx, tid, sid, t2.Add(time.Hour), nil); err != nil || res.Entries != 0 || res.Removed != 3 {
		t.Fatalf("empty ReplaceLinks = %+v, %v", res, err)
	}
}

func TestLinksScoping(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	a := newWorld(t, st)
	b := newTenant(t, st, 10)
	now := time.Now()
	l := store.NewLink{WPID: 1, Kind: "post", URL: "https://blog.example.com/x/", Title: "X", TitleHash: []byte("x")}
	if _, err := st.ReplaceLinks(ctx, a.tenant.ID, a.site.ID, now, []store.NewLink{l}); err != nil {
		t.Fatal(err)
	}
	_, err := st.ReplaceLinks(ctx, b.ID, a.site.ID, now.Add(time.Minute), nil)
	wantErrIs(t, "ReplaceLinks of another tenant's site", err, errs.ErrNotFound)
	err = st.AddLink(ctx, b.ID, a.site.ID, now, l)
	wantErrIs(t, "AddLink to another tenant's site", err, errs.ErrNotFound)
	if got, err := st.ListLinks(ctx, b.ID, a.site.ID, store.Page{Limit: 10}); err != nil || len(got) != 0 {
		t.Fatalf("ListLinks of another tenant's site = %d, %v", len(got), err)
	}
	if got := siteLinks(t, st, b.ID, a.site.ID); len(got) != 0 {
		t.Fatalf("SiteLinks of another tenant's site = %d", len(got))
	}
	if got := siteLinks(t, st, a.tenant.ID, a.site.ID); len(got) != 1 {
		t.Fatalf("the owner's inventory has %d entries, want 1", len(got))
	}
}

func TestSitesDueForLinks(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 10)
	fresh, stale, never := newSite(t, st, tn.ID), newSite(t, st, tn.ID), newSite(t, st, tn.ID)
	off := newSite(t, st, tn.ID)
	if _, err := st.UpdateSite(ctx, tn.ID, off.ID, store.SiteFields{Enabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for site, at := range map[int64]time.Time{fresh.ID: now, stale.ID: now.Add(-48 * time.Hour)} {
		if _, err := st.ReplaceLinks(ctx, tn.ID, site, at, nil); err != nil {
			t.Fatal(err)
		}
	}
	due, err := st.SitesDueForLinks(ctx, now.Add(-24*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	mine := map[int64]bool{}
	for _, d := range due {
		if d.TenantID == tn.ID {
			mine[d.SiteID] = true
		}
	}
	if want := map[int64]bool{stale.ID: true, never.ID: true}; !cmp.Equal(mine, want) {
		t.Errorf("due sites = %v, want %v (the stale and the never refreshed, not %d fresh or %d disabled)", mine, want, fresh.ID, off.ID)
	}
}
