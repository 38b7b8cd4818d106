package jobs_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/client"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/kwimport"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// bg returns a context that ends with the test's deadline budget.
func bg(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// seeded is a site with one cluster and ideas, written straight to the store
// by free (zero-quote) jobs, so a test can start at the draft stage.
type seeded struct {
	Site    store.Site
	Cluster store.Cluster
	Ideas   []store.Idea
}

// seedIdeas creates a site, a cluster and n ideas for a tenant without a
// worker and without touching the tenant's credits. Titles are
// "<prefix> idea <i>: ..." so a test can tell ideas apart.
func seedIdeas(t testing.TB, st *store.Store, tenantID int64, n int, prefix string) seeded {
	t.Helper()
	ctx := bg(t)
	name, url, user := "Seed Coffee Blog", "https://seed.example.com", "editor"
	site, err := st.CreateSite(ctx, tenantID, store.SiteFields{Name: &name, URL: &url, WPUser: &user, AppPasswordEnc: []byte("sealed")})
	apptest.Must(t, err, "create site")
	parsed, err := kwimport.ParseCSV(strings.NewReader(
		"phrase,volume\nespresso grinder,1000\nbest espresso grinder,800\nburr grinder for espresso,300\nhand espresso grinder,200\n"), 100)
	apptest.Must(t, err, "parse keywords")
	_, err = st.ImportKeywords(ctx, tenantID, site.ID, parsed.Rows)
	apptest.Must(t, err, "import keywords")
	kws, err := st.UnclusteredKeywords(ctx, tenantID, site.ID, 100)
	apptest.Must(t, err, "list keywords")
	ids := make([]int64, len(kws))
	for i, k := range kws {
		ids[i] = k.ID
	}

	clusterJob := freeJob(t, st, tenantID, tasks.TypeCluster, site.ID, site.ID)
	apptest.Must(t, st.SaveClusters(ctx, store.Outcome{TenantID: tenantID, JobID: clusterJob}, site.ID,
		[]store.NewCluster{{Name: "Espresso grinders", Description: "Choosing and using a grinder for espresso at home.", KeywordIDs: ids}}),
		"save cluster")
	clusters, err := st.ListClusters(ctx, tenantID, site.ID, store.Page{Limit: 10})
	apptest.Must(t, err, "list clusters")
	if len(clusters) != 1 {
		t.Fatalf("seeded %d clusters, want 1", len(clusters))
	}

	ideasJob := freeJob(t, st, tenantID, tasks.TypeIdeas, site.ID, clusters[0].ID)
	rows := make([]store.NewIdea, n)
	for i := range rows {
		rows[i] = store.NewIdea{
			Title:          fmt.Sprintf("%s idea %d: choosing an espresso grinder", prefix, i),
			ContentType:    "guide",
			TargetKeywords: []string{"espresso grinder", "burr grinder for espresso"},
			Outline: []store.Heading{{Level: 2, Text: "Why grind size matters"}, {Level: 3, Text: "Burrs versus blades"},
				{Level: 2, Text: "How to choose an espresso grinder"}},
		}
	}
	apptest.Must(t, st.SaveIdeas(ctx, store.Outcome{TenantID: tenantID, JobID: ideasJob}, clusters[0], rows), "save ideas")
	ideas, err := st.ListIdeas(ctx, tenantID, store.IdeaFilter{SiteID: site.ID}, store.Page{Limit: 10000})
	apptest.Must(t, err, "list ideas")
	if len(ideas) != n {
		t.Fatalf("seeded %d ideas, want %d", len(ideas), n)
	}
	return seeded{Site: site, Cluster: clusters[0], Ideas: ideas}
}

// freeJob creates a zero-quote job and starts it, as a worker would.
func freeJob(t testing.TB, st *store.Store, tenantID int64, typ string, siteID, subjectID int64) string {
	t.Helper()
	ctx := bg(t)
	id := uuid.NewString()
	_, err := st.CreateJobs(ctx, tenantID, "", []store.NewJob{{ID: id, Type: typ, Queue: jobs.QueueDefault,
		SiteID: siteID, SubjectID: subjectID}})
	apptest.Must(t, err, "create ", typ, " job")
	_, err = st.StartJob(ctx, tenantID, id, 0, "seeding")
	apptest.Must(t, err, "start ", typ, " job")
	return id
}

func ideaIDs(ideas []store.Idea) []int64 {
	ids := make([]int64, len(ideas))
	for i, idea := range ideas {
		ids[i] = idea.ID
	}
	return ids
}

type accepted struct {
	BatchID       string `json:"batch_id"`
	CreditsQuoted int64  `json:"credits_quoted"`
	Jobs          []struct {
		ID        string `json:"id"`
		SubjectID int64  `json:"subject_id"`
	} `json:"jobs"`
}

// post calls the API and fails the test on an error answer.
func post(t testing.TB, c *client.Client, path string, body any) accepted {
	t.Helper()
	var acc accepted
	apptest.Must(t, c.Do(bg(t), http.MethodPost, path, body, &acc), "POST ", path)
	return acc
}

// draftJobs asks the API for drafts of ideas and returns the job ids.
func draftJobs(t testing.TB, c *client.Client, ideas ...store.Idea) []string {
	t.Helper()
	acc := post(t, c, "/v1/drafts/generate", map[string]any{"idea_ids": ideaIDs(ideas)})
	if len(acc.Jobs) != len(ideas) {
		t.Fatalf("asked for %d drafts, got %d jobs", len(ideas), len(acc.Jobs))
	}
	ids := make([]string, len(acc.Jobs))
	for i, j := range acc.Jobs {
		ids[i] = j.ID
	}
	return ids
}

func getJob(t testing.TB, st *store.Store, tenantID int64, id string) store.Job {
	t.Helper()
	j, err := st.GetJob(bg(t), tenantID, id)
	apptest.Must(t, err, "get job ", id)
	return j
}

// waitJobState waits until a job reaches state and returns it.
func waitJobState(t testing.TB, st *store.Store, tenantID int64, id, state string) store.Job {
	t.Helper()
	var j store.Job
	apptest.Eventually(t, 30*time.Second, "job "+id+" becomes "+state, func() (bool, error) {
		j = getJob(t, st, tenantID, id)
		if j.Final() && j.State != state {
			return false, fmt.Errorf("job ended %s (error %v), want %s", j.State, deref(j.LastError), state)
		}
		return j.State == state, nil
	})
	return j
}

// ledger returns a tenant's whole ledger, oldest first.
func ledger(t testing.TB, st *store.Store, tenantID int64) []store.LedgerEntry {
	t.Helper()
	var all []store.LedgerEntry
	after := int64(0)
	for {
		page, err := st.Ledger(bg(t), tenantID, store.Page{After: after, Limit: 500})
		apptest.Must(t, err, "read ledger")
		all = append(all, page...)
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].ID
	}
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	return all
}

// jobLedger returns the kinds and deltas of a job's ledger entries, oldest
// first, as "reserve:-3 refund:3".
func jobLedger(entries []store.LedgerEntry, jobID string) string {
	var parts []string
	for _, e := range entries {
		if e.JobID != nil && *e.JobID == jobID {
			parts = append(parts, fmt.Sprintf("%s:%d", e.Kind, e.Delta))
		}
	}
	return strings.Join(parts, " ")
}

// checkCredits checks the ledger invariants of a tenant: the deltas add up
// to the balance, no entry leaves the balance negative, and the balance is
// want. It returns the ledger.
func checkCredits(t testing.TB, st *store.Store, tenantID, want int64) []store.LedgerEntry {
	t.Helper()
	entries := ledger(t, st, tenantID)
	var sum int64
	for _, e := range entries {
		sum += e.Delta
		if e.BalanceAfter < 0 || sum != e.BalanceAfter {
			t.Errorf("ledger entry %d (%s %d, job %v) leaves balance %d; running sum %d", e.ID, e.Kind, e.Delta,
				deref(e.JobID), e.BalanceAfter, sum)
		}
	}
	tenant, err := st.GetTenant(bg(t), tenantID)
	apptest.Must(t, err, "get tenant")
	if tenant.CreditBalance != sum {
		t.Errorf("balance %d, ledger adds up to %d", tenant.CreditBalance, sum)
	}
	if tenant.CreditBalance != want {
		t.Errorf("balance %d, want %d", tenant.CreditBalance, want)
	}
	return entries
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// inspector returns an asynq inspector on the harness's Redis database.
func inspector(t testing.TB, h *apptest.Harness) *asynq.Inspector {
	t.Helper()
	in := asynq.NewInspector(h.App.Redis)
	t.Cleanup(func() { in.Close() })
	return in
}

// taskInfo returns the asynq state of a job's task, or nil if asynq does not
// hold it.
func taskInfo(t testing.TB, in *asynq.Inspector, queue, id string) *asynq.TaskInfo {
	t.Helper()
	info, err := in.GetTaskInfo(queue, id)
	if err != nil {
		return nil
	}
	return info
}
