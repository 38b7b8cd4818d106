package web_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/kwimport"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// TestClusterEditingInBrowser does each cluster edit of #21 on the site
// page: open a cluster and see its keywords with volume and intent, split
// a keyword off, move one to another cluster, drop one, assign an
// outlier, lock a cluster, merge two; the store holds each result.
func TestClusterEditingInBrowser(t *testing.T) {
	ctx := browser(t)
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "cluster-ui", 10)
	tid := tk.Tenant.ID
	email, password := "owner@example.com", "owner password 1"
	createUser(t, h, tid, email, password, "owner")
	st := h.App.Store
	site, cl, kw := seedClusters(t, st, tid)
	shoes, marathon, recovery := cl[0], cl[1], cl[2]
	dir := artifactsDir(t)

	phrasesOf := func(clusterID int64) []string {
		t.Helper()
		kws, err := st.ClusterKeywords(t.Context(), tid, clusterID)
		apptest.Must(t, err, "cluster keywords")
		out := []string{}
		for _, k := range kws {
			out = append(out, k.Phrase)
		}
		slices.Sort(out)
		return out
	}
	want := func(what string, clusterID int64, phrases ...string) {
		t.Helper()
		slices.Sort(phrases)
		if got := phrasesOf(clusterID); !slices.Equal(got, phrases) {
			t.Errorf("%s: cluster %d holds %q, want %q", what, clusterID, got, phrases)
		}
	}
	// settled waits until the page has no cluster load in flight: a reload
	// replaces the rows a click would land on.
	settled := poll(`document.body.dataset.loading === "0"`)
	check := func(sel string, id int64) chromedp.Action[chromedp.Void] {
		return chromedp.Click(fmt.Sprintf(`%s .row-select[value="%d"]`, sel, id))
	}
	open := func(id int64, rows int) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx2 context.Context, tg *chromedp.Target) error {
			for _, a := range []chromedp.Action[chromedp.Void]{
				settled,
				chromedp.Click(fmt.Sprintf(`#clusters-table tr[data-id="%d"] .open-cluster`, id)),
				poll(fmt.Sprintf(`document.querySelector("#cluster-detail-h").textContent.includes(%q) &&
					document.querySelectorAll("#cluster-keywords .row-select").length === %d`, clusterName(t, st, tid, id), rows)),
				settled,
			} {
				if _, err := a(ctx2, tg); err != nil {
					return err
				}
			}
			return nil
		})
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	step("open the site and a cluster",
		signInBrowser(h.URL, email, password),
		chromedp.Navigate(fmt.Sprintf("%s/ui/sites/%d", h.URL, site.ID)),
		poll(`document.querySelectorAll("#clusters-table .row-select").length === 3`),
		poll(`document.querySelectorAll("#outliers-table .row-select").length === 1`),
		settled,
		open(shoes.ID, 3),
		// Volume and intent beside each keyword.
		poll(`[...document.querySelectorAll("#cluster-keywords tr")].some(tr => tr.textContent.includes("trail shoes") &&
			tr.textContent.includes("900") && tr.textContent.includes("commercial"))`),
		screenshot(dir, "cluster-keywords"))

	step("split a keyword off",
		check("#cluster-keywords", kw["waterproof trail shoes"]),
		chromedp.SendKeys("#split-name", "Waterproof shoes"),
		chromedp.Click("#split"),
		poll(`document.querySelectorAll("#clusters-table .row-select").length === 4`),
		poll(`document.querySelector("#messages").textContent.includes("Split 1 keyword(s) off into Waterproof shoes")`))
	split := clusterNamed(t, st, tid, site.ID, "Waterproof shoes")
	want("split", split.ID, "waterproof trail shoes")
	want("split", shoes.ID, "trail shoes", "trail running shoes")

	step("move a keyword to another cluster",
		open(shoes.ID, 2),
		check("#cluster-keywords", kw["trail running shoes"]),
		chromedp.SetValue("#move-target", fmt.Sprint(marathon.ID)),
		chromedp.Click("#move"),
		poll(`document.querySelector("#messages").textContent.includes("Moved 1 keyword(s)")`),
		poll(`document.querySelectorAll("#cluster-keywords .row-select").length === 1`))
	want("move", marathon.ID, "marathon plan", "marathon pace", "trail running shoes")

	step("drop a keyword",
		open(marathon.ID, 3),
		check("#cluster-keywords", kw["trail running shoes"]),
		chromedp.Click("#drop"),
		poll(`document.querySelectorAll("#outliers-table .row-select").length === 2`),
		poll(`document.querySelectorAll("#cluster-keywords .row-select").length === 2`))
	want("drop", marathon.ID, "marathon plan", "marathon pace")

	step("assign an outlier",
		settled,
		check("#outliers-table", kw["sauna"]),
		chromedp.SetValue("#assign-target", fmt.Sprint(recovery.ID)),
		chromedp.Click("#assign"),
		poll(`document.querySelectorAll("#outliers-table .row-select").length === 1`))
	want("assign", recovery.ID, "foam roller", "massage gun", "sauna")

	step("lock a cluster",
		settled,
		chromedp.Click(fmt.Sprintf(`#clusters-table tr[data-id="%d"] .lock`, recovery.ID)),
		poll(`document.querySelector("#messages").textContent.includes("Locked ")`),
		poll(fmt.Sprintf(`document.querySelector('#clusters-table tr[data-id="%d"] .lock').checked`, recovery.ID)))
	if c, err := st.GetCluster(t.Context(), tid, recovery.ID); err != nil || !c.Locked {
		t.Errorf("after locking in the page: %+v, %v", c, err)
	}

	step("merge two clusters",
		settled,
		check("#clusters-table", marathon.ID),
		check("#clusters-table", split.ID),
		chromedp.Click("#merge-clusters"),
		poll(`document.querySelectorAll("#clusters-table .row-select").length === 3`),
		screenshot(dir, "clusters-edited"))
	want("merge", marathon.ID, "marathon plan", "marathon pace", "waterproof trail shoes")
	if _, err := st.GetCluster(t.Context(), tid, split.ID); err == nil {
		t.Error("the cluster merged away is still there")
	}
}

// seedClusters gives the tenant a site with three clusters of keywords with
// volume and intent (trail shoes, marathon, recovery) and one unclustered
// keyword, written to the store as a clustering job would.
func seedClusters(t *testing.T, st *store.Store, tenantID int64) (store.Site, []store.Cluster, map[string]int64) {
	t.Helper()
	ctx := t.Context()
	name, url, user := "Running blog", "https://running.example.com", "editor"
	site, err := st.CreateSite(ctx, tenantID, store.SiteFields{Name: &name, URL: &url, WPUser: &user, AppPasswordEnc: []byte("sealed")})
	apptest.Must(t, err, "create site")
	parsed, err := kwimport.ParseCSV(strings.NewReader("phrase,volume,intent\n"+
		"trail shoes,900,commercial\ntrail running shoes,700,commercial\nwaterproof trail shoes,300,commercial\n"+
		"marathon plan,800,informational\nmarathon pace,200,informational\n"+
		"foam roller,500,commercial\nmassage gun,400,transactional\nsauna,100,informational\n"), 100)
	apptest.Must(t, err, "parse keywords")
	_, err = st.ImportKeywords(ctx, tenantID, site.ID, parsed.Rows)
	apptest.Must(t, err, "import keywords")
	kws, err := st.ListKeywords(ctx, tenantID, site.ID, store.KeywordFilter{}, store.Page{Limit: 100})
	apptest.Must(t, err, "list keywords")
	kw := map[string]int64{}
	for _, k := range kws {
		kw[k.Phrase] = k.ID
	}
	ids := func(p ...string) []int64 {
		out := make([]int64, len(p))
		for i, s := range p {
			out[i] = kw[s]
		}
		return out
	}
	job := apptest.FreeJob(t, st, tenantID, tasks.TypeCluster, site.ID, site.ID)
	apptest.Must(t, st.SaveClusters(ctx, store.Outcome{TenantID: tenantID, JobID: job}, site.ID, []store.NewCluster{
		{Name: "Trail shoes", Description: "Shoes for trails.", KeywordIDs: ids("trail shoes", "trail running shoes", "waterproof trail shoes")},
		{Name: "Marathon training", Description: "Plans and pace.", KeywordIDs: ids("marathon plan", "marathon pace")},
		{Name: "Recovery", Description: "After the run.", KeywordIDs: ids("foam roller", "massage gun")},
	}), "save clusters")
	cs, err := st.ListClusters(ctx, tenantID, site.ID, store.Page{Limit: 10})
	apptest.Must(t, err, "list clusters")
	return site, cs, kw
}

func clusterName(t *testing.T, st *store.Store, tenantID, id int64) string {
	t.Helper()
	c, err := st.GetCluster(t.Context(), tenantID, id)
	apptest.Must(t, err, "get cluster")
	return c.Name
}

func clusterNamed(t *testing.T, st *store.Store, tenantID, siteID int64, name string) store.Cluster {
	t.Helper()
	cs, err := st.ListClusters(t.Context(), tenantID, siteID, store.Page{Limit: 100})
	apptest.Must(t, err, "list clusters")
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no cluster named %q among %+v", name, cs)
	return store.Cluster{}
}
