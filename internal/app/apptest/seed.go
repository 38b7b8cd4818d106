package apptest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/kwimport"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// Context returns a context that ends two minutes on or when the test ends,
// whichever comes first.
func Context(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Seeded is a site with one cluster and ideas, written straight to the store
// by free (zero-quote) jobs, so a test can start at the draft stage.
type Seeded struct {
	Site    store.Site
	Cluster store.Cluster
	Ideas   []store.Idea
}

// SeedIdeas creates a site, a cluster and n ideas for a tenant without a
// worker and without touching the tenant's credits. Titles are
// "<prefix> idea <i>: ..." so a test can tell ideas apart.
func SeedIdeas(t testing.TB, st *store.Store, tenantID int64, n int, prefix string) Seeded {
	t.Helper()
	ctx := Context(t)
	name, url, user := "Seed Coffee Blog", "https://seed.example.com", "editor"
	site, err := st.CreateSite(ctx, tenantID, store.SiteFields{Name: &name, URL: &url, WPUser: &user, AppPasswordEnc: []byte("sealed")})
	Must(t, err, "create site")
	parsed, err := kwimport.ParseCSV(strings.NewReader(
		"phrase,volume\nespresso grinder,1000\nbest espresso grinder,800\nburr grinder for espresso,300\nhand espresso grinder,200\n"), 100)
	Must(t, err, "parse keywords")
	_, err = st.ImportKeywords(ctx, tenantID, site.ID, parsed.Rows)
	Must(t, err, "import keywords")
	kws, err := st.UnclusteredKeywords(ctx, tenantID, site.ID, 100)
	Must(t, err, "list keywords")
	ids := make([]int64, len(kws))
	for i, k := range kws {
		ids[i] = k.ID
	}

	clusterJob := FreeJob(t, st, tenantID, tasks.TypeCluster, site.ID, site.ID)
	Must(t, st.SaveClusters(ctx, store.Outcome{TenantID: tenantID, JobID: clusterJob}, site.ID,
		[]store.NewCluster{{Name: "Espresso grinders", Description: "Choosing and using a grinder for espresso at home.", KeywordIDs: ids}}),
		"save cluster")
	clusters, err := st.ListClusters(ctx, tenantID, site.ID, store.Page{Limit: 10})
	Must(t, err, "list clusters")
	if len(clusters) != 1 {
		t.Fatalf("seeded %d clusters, want 1", len(clusters))
	}

	ideasJob := FreeJob(t, st, tenantID, tasks.TypeIdeas, site.ID, clusters[0].ID)
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
	Must(t, st.SaveIdeas(ctx, store.Outcome{TenantID: tenantID, JobID: ideasJob}, clusters[0], rows), "save ideas")
	ideas, err := st.ListIdeas(ctx, tenantID, store.IdeaFilter{SiteID: site.ID}, store.Page{Limit: 10000})
	Must(t, err, "list ideas")
	if len(ideas) != n {
		t.Fatalf("seeded %d ideas, want %d", len(ideas), n)
	}
	return Seeded{Site: site, Cluster: clusters[0], Ideas: ideas}
}

// FreeJob creates a zero-quote job and starts it, as a worker would, and
// returns its id.
func FreeJob(t testing.TB, st *store.Store, tenantID int64, typ string, siteID, subjectID int64) string {
	t.Helper()
	ctx := Context(t)
	id := uuid.NewString()
	_, err := st.CreateJobs(ctx, tenantID, "", []store.NewJob{{ID: id, Type: typ, Queue: jobs.QueueDefault,
		SiteID: siteID, SubjectID: subjectID}})
	Must(t, err, "create ", typ, " job")
	_, err = st.StartJob(ctx, tenantID, id, "seeding")
	Must(t, err, "start ", typ, " job")
	return id
}
