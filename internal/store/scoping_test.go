package store_test

import (
	"testing"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// TestTenantScoping: everything of tenant A is invisible to, and
// untouchable by, tenant B.
func TestTenantScoping(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	a := newWorld(t, st)
	aid := a.tenant.ID
	b := newTenant(t, st, 10)
	bid := b.ID
	newSite(t, st, bid) // B has a site of its own, so its listings are not trivially empty by accident

	key, err := st.CreateAPIKey(ctx, aid, "editor", "ci", "pw_abc", []byte("hash-a"))
	if err != nil {
		t.Fatal(err)
	}
	bk, err := st.CreateAPIKey(ctx, bid, "owner", "b", "pw_def", []byte("hash-b"))
	if err != nil {
		t.Fatal(err)
	}
	batch, err := st.CreateJobs(ctx, aid, "batch-a", []store.NewJob{nj(typeDraft, 9001, 1), nj(typeDraft, 9002, 1)})
	if err != nil {
		t.Fatal(err)
	}
	running := batch.Created[0]
	startJob(t, st, aid, running.ID)
	queued := batch.Created[1]
	aBalance := balance(t, st, aid)

	notFound := func(what string, err error) {
		t.Helper()
		wantErrIs(t, what, err, errs.ErrNotFound)
	}
	empty := func(what string, n int, err error) {
		t.Helper()
		if err != nil || n != 0 {
			t.Fatalf("%s with another tenant: %d rows, %v", what, n, err)
		}
	}

	// Reads.
	_, err = st.GetSite(ctx, bid, a.site.ID)
	notFound("GetSite", err)
	_, err = st.SitePassword(ctx, bid, a.site.ID)
	notFound("SitePassword", err)
	_, err = st.GetCluster(ctx, bid, a.cluster.ID)
	notFound("GetCluster", err)
	_, err = st.GetIdea(ctx, bid, a.idea.ID)
	notFound("GetIdea", err)
	_, err = st.GetDraft(ctx, bid, a.draft.ID)
	notFound("GetDraft", err)
	_, err = st.GetJob(ctx, bid, running.ID)
	notFound("GetJob", err)
	_, err = st.GetBatch(ctx, bid, "batch-a")
	notFound("GetBatch", err)
	_, err = st.GetAPIKey(ctx, bid, key.ID)
	notFound("GetAPIKey", err)

	sites, err := st.ListSites(ctx, bid, store.Page{Limit: 100})
	if err != nil || len(sites) != 1 || sites[0].TenantID != bid {
		t.Fatalf("ListSites(B) = %+v, %v", sites, err)
	}
	cs, err := st.ListClusters(ctx, bid, a.site.ID, store.Page{Limit: 100})
	empty("ListClusters", len(cs), err)
	cs, err = st.ClustersByIDs(ctx, bid, []int64{a.cluster.ID})
	empty("ClustersByIDs", len(cs), err)
	ks, err := st.ClusterKeywords(ctx, bid, a.cluster.ID)
	empty("ClusterKeywords", len(ks), err)
	ks, err = st.ListKeywords(ctx, bid, a.site.ID, store.KeywordFilter{}, store.Page{Limit: 100})
	empty("ListKeywords", len(ks), err)
	ks, err = st.UnclusteredKeywords(ctx, bid, a.site.ID, 100)
	empty("UnclusteredKeywords", len(ks), err)
	n, err := st.CountUnclustered(ctx, bid, a.site.ID)
	empty("CountUnclustered", int(n), err)
	is, err := st.ListIdeas(ctx, bid, store.IdeaFilter{}, store.Page{Limit: 100})
	empty("ListIdeas", len(is), err)
	is, err = st.ListIdeas(ctx, bid, store.IdeaFilter{SiteID: a.site.ID, ClusterID: a.cluster.ID}, store.Page{Limit: 100})
	empty("ListIdeas(site, cluster)", len(is), err)
	refs, err := st.IdeaRefs(ctx, bid, []int64{a.idea.ID})
	empty("IdeaRefs", len(refs), err)
	ts, err := st.IdeaTitles(ctx, bid, a.cluster.ID)
	empty("IdeaTitles", len(ts), err)
	ds, err := st.ListDrafts(ctx, bid, 0, store.Page{Limit: 100})
	empty("ListDrafts", len(ds), err)
	ds, err = st.ListDrafts(ctx, bid, a.site.ID, store.Page{Limit: 100})
	empty("ListDrafts(site)", len(ds), err)
	js, err := st.ListJobs(ctx, bid, store.JobFilter{}, "", 100)
	empty("ListJobs", len(js), err)
	js, err = st.ListJobs(ctx, bid, store.JobFilter{BatchID: "batch-a"}, "", 100)
	empty("ListJobs(batch)", len(js), err)
	js, err = st.ListJobs(ctx, bid, store.JobFilter{}, running.ID, 100)
	empty("ListJobs(after A's job)", len(js), err)
	keys, err := st.ListAPIKeys(ctx, bid)
	if err != nil || len(keys) != 1 || keys[0].ID != bk.ID {
		t.Fatalf("ListAPIKeys(B) = %+v, %v", keys, err)
	}
	for _, e := range ledger(t, st, bid) {
		if e.JobID != nil || e.Kind != "grant" {
			t.Fatalf("B's ledger has %+v", e)
		}
	}
	if c, err := st.Credits(ctx, bid); err != nil || c.Balance != 10 || c.Reserved != 0 {
		t.Fatalf("Credits(B) = %+v, %v", c, err)
	}

	// Writes.
	_, err = st.UpdateSite(ctx, bid, a.site.ID, store.SiteFields{Name: ptr("hijacked")})
	notFound("UpdateSite", err)
	notFound("DeleteSite", st.DeleteSite(ctx, bid, a.site.ID))
	_, err = st.RevokeAPIKey(ctx, bid, key.ID)
	notFound("RevokeAPIKey", err)
	_, err = st.CancelJob(ctx, bid, queued.ID)
	notFound("CancelJob", err)
	_, err = st.StartJob(ctx, bid, queued.ID, "x")
	notFound("StartJob", err)
	wantErrIs(t, "FailJob", st.FailJob(ctx, bid, running.ID, store.Failure{Message: "x"}), store.ErrJobFinished)
	if err := st.RetryLater(ctx, bid, running.ID, store.Failure{Message: "x"}); err != nil {
		t.Fatal(err)
	}
	err = st.SaveIdeas(ctx, store.Outcome{TenantID: bid, JobID: running.ID, Charged: 1}, a.cluster,
		[]store.NewIdea{{Title: "planted", ContentType: "x"}})
	wantErrIs(t, "SaveIdeas with another tenant's job", err, store.ErrJobFinished)

	// Tenant A's things are as they were.
	if s, err := st.GetSite(ctx, aid, a.site.ID); err != nil || s.Name != a.site.Name {
		t.Fatalf("A's site = %+v, %v", s, err)
	}
	if k, err := st.GetAPIKey(ctx, aid, key.ID); err != nil || k.RevokedAt != nil {
		t.Fatalf("A's key = %+v, %v", k, err)
	}
	if p, err := st.PrincipalByKeyHash(ctx, []byte("hash-a")); err != nil || p.TenantID != aid || p.Role != "editor" || p.TenantStatus != "active" {
		t.Fatalf("PrincipalByKeyHash = %+v, %v", p, err)
	}
	if j := getJob(t, st, aid, running.ID); j.State != store.JobRunning || j.LastError != nil {
		t.Fatalf("A's running job = %+v", j)
	}
	if j := getJob(t, st, aid, queued.ID); j.State != store.JobQueued || j.Attempts != 0 {
		t.Fatalf("A's queued job = %+v", j)
	}
	if titles, _ := st.IdeaTitles(ctx, aid, a.cluster.ID); len(titles) != 1 {
		t.Fatalf("A's idea titles = %v", titles)
	}
	if got := balance(t, st, aid); got != aBalance {
		t.Fatalf("A's balance %d, want %d", got, aBalance)
	}
	if got := balance(t, st, bid); got != 10 {
		t.Fatalf("B's balance %d, want 10", got)
	}
	checkBooks(t, st, aid)
	checkBooks(t, st, bid)
}

func TestSitesAndAPIKeys(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 0)
	s := newSite(t, st, tn.ID)
	if s.TenantID != tn.ID || s.Name != "Blog" || s.WPUser != "admin" {
		t.Fatalf("site = %+v", s)
	}
	up, err := st.UpdateSite(ctx, tn.ID, s.ID, store.SiteFields{Name: ptr("News"), AppPasswordEnc: []byte("new")})
	if err != nil || up.Name != "News" || up.URL != s.URL || up.WPUser != "admin" {
		t.Fatalf("UpdateSite = %+v, %v", up, err)
	}
	if pw, err := st.SitePassword(ctx, tn.ID, s.ID); err != nil || string(pw) != "new" {
		t.Fatalf("SitePassword = %q, %v", pw, err)
	}
	if err := st.DeleteSite(ctx, tn.ID, s.ID); err != nil {
		t.Fatal(err)
	}
	wantErrIs(t, "second DeleteSite", st.DeleteSite(ctx, tn.ID, s.ID), errs.ErrNotFound)

	k, err := st.CreateAPIKey(ctx, tn.ID, "viewer", "ro", "pw_x", []byte("h1"))
	if err != nil || k.TenantID == nil || *k.TenantID != tn.ID {
		t.Fatalf("CreateAPIKey = %+v, %v", k, err)
	}
	_, err = st.CreateAPIKey(ctx, tn.ID, "viewer", "dup", "pw_y", []byte("h1"))
	wantErrIs(t, "duplicate key hash", err, errs.ErrConflict)
	op, err := st.CreateAPIKey(ctx, 0, "operator", "ops", "pw_o", []byte("h-op"))
	if err != nil || op.TenantID != nil {
		t.Fatalf("operator key = %+v, %v", op, err)
	}
	if p, err := st.PrincipalByKeyHash(ctx, []byte("h-op")); err != nil || p.TenantID != 0 || p.Role != "operator" || p.TenantStatus != "" {
		t.Fatalf("operator principal = %+v, %v", p, err)
	}
	r1, err := st.RevokeAPIKey(ctx, tn.ID, k.ID)
	if err != nil || r1.RevokedAt == nil {
		t.Fatalf("RevokeAPIKey = %+v, %v", r1, err)
	}
	r2, err := st.RevokeAPIKey(ctx, tn.ID, k.ID)
	if err != nil || r2.RevokedAt == nil || !r2.RevokedAt.Equal(*r1.RevokedAt) {
		t.Fatalf("second RevokeAPIKey = %+v, %v", r2, err)
	}
	_, err = st.PrincipalByKeyHash(ctx, []byte("h1"))
	wantErrIs(t, "revoked key", err, errs.ErrNotFound)
	_, err = st.PrincipalByKeyHash(ctx, []byte("unknown"))
	wantErrIs(t, "unknown key", err, errs.ErrNotFound)
	if err := st.Audit(ctx, tn.ID, op.ID, "key.revoke", "key:1"); err != nil {
		t.Fatal(err)
	}
	if err := st.Audit(ctx, 0, 0, "tenant.create", "tenant:1"); err != nil {
		t.Fatal(err)
	}
}
