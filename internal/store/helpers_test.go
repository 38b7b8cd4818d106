package store_test

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/kwimport"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/testenv"
)

// Job types used by the tests; the store treats them as opaque strings.
const (
	typeCluster = "cluster"
	typeIdeas   = "ideas"
	typeDraft   = "draft"
)

var seq atomic.Int64

// next returns a number unique within the test binary.
func next() int64 { return seq.Add(1) }

func newStore(t *testing.T) *store.Store {
	t.Helper()
	t.Parallel()
	return testenv.Store(t)
}

func newTenant(t *testing.T, st *store.Store, credits int64) store.Tenant {
	t.Helper()
	n := next()
	tn, err := st.CreateTenant(t.Context(), store.NewTenant{
		Slug: fmt.Sprintf("tenant-%d", n), Name: fmt.Sprintf("Tenant %d", n), Plan: "pro", Credits: credits})
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	return tn
}

func ptr[T any](v T) *T { return &v }

func newSite(t *testing.T, st *store.Store, tenantID int64) store.Site {
	t.Helper()
	s, err := st.CreateSite(t.Context(), tenantID, store.SiteFields{
		Name: ptr("Blog"), URL: ptr("https://blog.example.com"), WPUser: ptr("admin"),
		AppPasswordEnc: []byte("ciphertext")})
	if err != nil {
		t.Fatalf("CreateSite: %v", err)
	}
	return s
}

func jobID() string { return fmt.Sprintf("job-%d", next()) }

// newJob creates one queued job and returns it.
func newJob(t *testing.T, st *store.Store, tenantID int64, typ string, subject, quote int64) store.Job {
	t.Helper()
	b, err := st.CreateJobs(t.Context(), tenantID, "", []store.NewJob{{
		ID: jobID(), Type: typ, Queue: "default", SiteID: 1, SubjectID: subject, Quote: quote}})
	if err != nil {
		t.Fatalf("CreateJobs: %v", err)
	}
	if len(b.Created) != 1 {
		t.Fatalf("CreateJobs created %d jobs, want 1 (skipped %v)", len(b.Created), b.Skipped)
	}
	return b.Created[0]
}

func getJob(t *testing.T, st *store.Store, tenantID int64, id string) store.Job {
	t.Helper()
	j, err := st.GetJob(t.Context(), tenantID, id)
	if err != nil {
		t.Fatalf("GetJob(%s): %v", id, err)
	}
	return j
}

// startJob starts a job with its quote reserved.
func startJob(t *testing.T, st *store.Store, tenantID int64, id string) store.Job {
	t.Helper()
	j, err := st.StartJob(t.Context(), tenantID, id, "working")
	if err != nil {
		t.Fatalf("StartJob(%s): %v", id, err)
	}
	return j
}

// startJobCosting starts a job whose cost is decided as it starts.
func startJobCosting(t *testing.T, st *store.Store, tenantID int64, id string, cost int64) store.Job {
	t.Helper()
	j, err := st.StartJobCosting(t.Context(), tenantID, id, cost, "working")
	if err != nil {
		t.Fatalf("StartJobCosting(%s): %v", id, err)
	}
	return j
}

func balance(t *testing.T, st *store.Store, tenantID int64) int64 {
	t.Helper()
	tn, err := st.GetTenant(t.Context(), tenantID)
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	return tn.CreditBalance
}

// ledger returns a tenant's whole ledger, oldest first.
func ledger(t *testing.T, st *store.Store, tenantID int64) []store.LedgerEntry {
	t.Helper()
	var all []store.LedgerEntry
	page := store.Page{Limit: 500}
	for {
		got, err := st.Ledger(t.Context(), tenantID, page)
		if err != nil {
			t.Fatalf("Ledger: %v", err)
		}
		all = append(all, got...)
		if len(got) < page.Limit {
			break
		}
		page.After = got[len(got)-1].ID
	}
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	return all
}

// jobLedger returns the ledger rows of one job, oldest first.
func jobLedger(t *testing.T, st *store.Store, tenantID int64, id string) []store.LedgerEntry {
	t.Helper()
	var out []store.LedgerEntry
	for _, e := range ledger(t, st, tenantID) {
		if e.JobID != nil && *e.JobID == id {
			out = append(out, e)
		}
	}
	return out
}

func kinds(entries []store.LedgerEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = fmt.Sprintf("%s%+d", e.Kind, e.Delta)
	}
	return out
}

// checkBooks asserts the credit invariants of a tenant: the balance is not
// negative, equals the sum of the ledger, and every ledger row's
// balance_after is the running sum; each job has at most one row per kind.
func checkBooks(t *testing.T, st *store.Store, tenantID int64) int64 {
	t.Helper()
	c, err := st.Credits(t.Context(), tenantID)
	if err != nil {
		t.Fatalf("Credits: %v", err)
	}
	if c.Balance < 0 {
		t.Errorf("balance %d is negative", c.Balance)
	}
	if c.Balance != c.LedgerSum {
		t.Errorf("balance %d != ledger sum %d", c.Balance, c.LedgerSum)
	}
	var sum int64
	seen := map[string]bool{}
	for _, e := range ledger(t, st, tenantID) {
		sum += e.Delta
		if e.BalanceAfter != sum {
			t.Errorf("ledger row %d (%s %+d): balance_after %d, running sum %d", e.ID, e.Kind, e.Delta, e.BalanceAfter, sum)
		}
		if e.JobID != nil {
			k := *e.JobID + "/" + e.Kind
			if seen[k] {
				t.Errorf("job %s has two %s rows", *e.JobID, e.Kind)
			}
			seen[k] = true
		}
	}
	if sum != c.Balance {
		t.Errorf("ledger rows sum to %d, balance %d", sum, c.Balance)
	}
	return c.Balance
}

func wantErrIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}

func wantInsufficient(t *testing.T, what string, err error, needed, available int64) {
	t.Helper()
	var ic *errs.InsufficientCreditsError
	if !errors.As(err, &ic) {
		t.Fatalf("%s: err = %v, want *errs.InsufficientCreditsError", what, err)
	}
	if ic.Needed != needed || ic.Available != available {
		t.Fatalf("%s: needed %d available %d, want needed %d available %d", what, ic.Needed, ic.Available, needed, available)
	}
}

// kw makes an import row the way kwimport does.
func kw(phrase string) kwimport.Row {
	return kwimport.Row{Phrase: phrase, Norm: kwimport.Normalize(phrase)}
}

func importKeywords(t *testing.T, st *store.Store, tenantID, siteID int64, phrases ...string) store.ImportResult {
	t.Helper()
	rows := make([]kwimport.Row, len(phrases))
	for i, p := range phrases {
		rows[i] = kw(p)
	}
	res, err := st.ImportKeywords(t.Context(), tenantID, siteID, rows)
	if err != nil {
		t.Fatalf("ImportKeywords: %v", err)
	}
	return res
}

func keywords(t *testing.T, st *store.Store, tenantID, siteID int64, f store.KeywordFilter) []store.Keyword {
	t.Helper()
	got, err := st.ListKeywords(t.Context(), tenantID, siteID, f, store.Page{Limit: 1000})
	if err != nil {
		t.Fatalf("ListKeywords: %v", err)
	}
	return got
}

// world is one tenant with content at every stage: a site, keywords, a
// cluster, an idea and a draft, each made by a finished job.
type world struct {
	tenant  store.Tenant
	site    store.Site
	cluster store.Cluster
	idea    store.Idea
	draft   store.Draft
	jobs    []string
}

func newWorld(t *testing.T, st *store.Store) world {
	t.Helper()
	ctx := t.Context()
	w := world{tenant: newTenant(t, st, 100)}
	tid := w.tenant.ID
	w.site = newSite(t, st, tid)
	importKeywords(t, st, tid, w.site.ID, "running shoes", "trail shoes", "hiking boots")
	kws := keywords(t, st, tid, w.site.ID, store.KeywordFilter{})

	cj := newJob(t, st, tid, typeCluster, w.site.ID, 1)
	startJob(t, st, tid, cj.ID)
	err := st.SaveClusters(ctx, store.Outcome{TenantID: tid, JobID: cj.ID, Charged: 1}, w.site.ID,
		[]store.NewCluster{{Name: "Shoes", Description: "shoes", KeywordIDs: []int64{kws[0].ID, kws[1].ID}}})
	if err != nil {
		t.Fatalf("SaveClusters: %v", err)
	}
	cs, err := st.ListClusters(ctx, tid, w.site.ID, store.Page{Limit: 10})
	if err != nil || len(cs) != 1 {
		t.Fatalf("ListClusters = %v, %v", cs, err)
	}
	w.cluster = cs[0]

	ij := newJob(t, st, tid, typeIdeas, w.cluster.ID, 1)
	startJob(t, st, tid, ij.ID)
	err = st.SaveIdeas(ctx, store.Outcome{TenantID: tid, JobID: ij.ID, Charged: 1}, w.cluster,
		[]store.NewIdea{{Title: "Best running shoes", ContentType: "listicle", TargetKeywords: []string{"running shoes"},
			Outline: []store.Heading{{Level: 2, Text: "Why"}}}})
	if err != nil {
		t.Fatalf("SaveIdeas: %v", err)
	}
	ideas, err := st.ListIdeas(ctx, tid, store.IdeaFilter{ClusterID: w.cluster.ID}, store.Page{Limit: 10})
	if err != nil || len(ideas) != 1 {
		t.Fatalf("ListIdeas = %v, %v", ideas, err)
	}
	w.idea = ideas[0]

	dj := newJob(t, st, tid, typeDraft, w.idea.ID, 3)
	startJob(t, st, tid, dj.ID)
	err = st.SaveDraft(ctx, store.Outcome{TenantID: tid, JobID: dj.ID, Charged: 3}, w.idea,
		store.Draft{Title: "Best running shoes", Slug: "best-running-shoes", BodyHTML: "<p>hi</p>", WordCount: 1})
	if err != nil {
		t.Fatalf("SaveDraft: %v", err)
	}
	ds, err := st.ListDrafts(ctx, tid, w.site.ID, store.Page{Limit: 10})
	if err != nil || len(ds) != 1 {
		t.Fatalf("ListDrafts = %v, %v", ds, err)
	}
	w.draft = ds[0]
	w.jobs = []string{cj.ID, ij.ID, dj.ID}
	return w
}
