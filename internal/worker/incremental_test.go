package worker_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/client"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// csvOf is a keywords CSV of phrases.
func csvOf(phrases ...string) []byte {
	return []byte("phrase\n" + strings.Join(phrases, "\n") + "\n")
}

// clusterSite starts a clustering (or re-cluster) of the site through the
// API and waits for it to succeed.
func clusterSite(t *testing.T, h *apptest.Harness, c *client.Client, tenant, siteID int64, action string) store.Job {
	t.Helper()
	acc := apptest.Post(t, c, fmt.Sprintf("/v1/sites/%d/%s", siteID, action), nil)
	var j store.Job
	apptest.Eventually(t, 30*time.Second, "clustering succeeds", func() (bool, error) {
		j = apptest.Job(t, h.App.Store, tenant, acc.Jobs[0].ID)
		if j.LastError != nil {
			return false, fmt.Errorf("clustering %s: %s", j.State, *j.LastError)
		}
		return j.State == store.JobSucceeded, nil
	})
	return j
}

// siteClusters returns the site's clusters with their keywords' phrases.
func siteClusters(t *testing.T, st *store.Store, tenant, siteID int64) (map[int64]store.Cluster, map[int64][]string) {
	t.Helper()
	cs, err := st.ListClusters(apptest.Context(t), tenant, siteID, store.Page{Limit: 1000})
	apptest.Must(t, err, "list clusters")
	byID, members := map[int64]store.Cluster{}, map[int64][]string{}
	for _, cl := range cs {
		byID[cl.ID] = cl
		kws, err := st.ClusterKeywords(apptest.Context(t), tenant, cl.ID)
		apptest.Must(t, err, "cluster keywords")
		for _, k := range kws {
			members[cl.ID] = append(members[cl.ID], k.Phrase)
		}
	}
	return byID, members
}

// holder returns the cluster holding phrase, or 0.
func holder(members map[int64][]string, phrase string) int64 {
	for id, ps := range members {
		if slices.Contains(ps, phrase) {
			return id
		}
	}
	return 0
}

// TestIncrementalClustering imports keywords into a clustered site and
// clusters again: the keywords that fit existing clusters join them (no
// parallel cluster), the misfits form new clusters or stay outliers, a
// locked cluster takes nothing, and the centroids are kept. Then a
// re-cluster replaces the clusters nobody shaped and keeps the locked,
// the edited and the one with ideas exactly as they are.
func TestIncrementalClustering(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	ctx := apptest.Context(t)
	tk, c := h.Tenant(t, "incremental", 1000)
	tenant := tk.Tenant.ID
	var site store.Site
	apptest.Must(t, c.Do(ctx, http.MethodPost, "/v1/sites", map[string]string{"name": "Incremental site",
		"url": "https://incremental.example.com", "username": "editor", "application_password": "abcd efgh ijkl mnop"}, &site),
		"create site")
	h.StartWorker(t)
	importCSV := func(body []byte) {
		t.Helper()
		apptest.Must(t, c.Do(ctx, http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", site.ID), body, nil,
			"Content-Type", "text/csv"), "import keywords")
	}
	importCSV(sampleKeywords(t, 150))
	clusterSite(t, h, c, tenant, site.ID, "clustering")
	before, members := siteClusters(t, st, tenant, site.ID)

	// Each keyword to import, with a keyword of the cluster it fits.
	fits := map[string]string{
		"trail running shoes for wide feet":  "best trail running shoes",
		"best trail running shoes for women": "best trail running shoes",
		"sourdough starter not rising":       "sourdough starter",
		"how to teach a dog to sit":          "how to teach a dog to heel",
	}
	// The espresso cluster is locked: its fitting keyword goes elsewhere.
	lockedFit := "espresso machine descaling"
	misfits := []string{"acoustic guitar chords", "acoustic guitar strings", "acoustic guitar tuning",
		"acoustic guitar for beginners", "quantum computing explained"}
	locked := holder(members, "home espresso machine")
	for phrase, anchor := range fits {
		if holder(members, anchor) == 0 || holder(members, anchor) == locked {
			t.Fatalf("the first clustering left %q in no cluster (or with espresso): pick another anchor", anchor)
		}
		if holder(members, phrase) != 0 {
			t.Fatalf("%q is already clustered", phrase)
		}
	}
	if locked == 0 {
		t.Fatal("the first clustering made no espresso cluster")
	}
	var cl store.Cluster
	apptest.Must(t, c.Do(ctx, http.MethodPatch, fmt.Sprintf("/v1/clusters/%d", locked), map[string]any{"locked": true}, &cl), "lock")

	added := append([]string{lockedFit}, misfits...)
	for phrase := range fits {
		added = append(added, phrase)
	}
	importCSV(csvOf(added...))
	second := clusterSite(t, h, c, tenant, site.ID, "clustering")
	after, members2 := siteClusters(t, st, tenant, site.ID)

	for phrase, anchor := range fits {
		if got, want := holder(members2, phrase), holder(members, anchor); got != want {
			t.Errorf("%q is in cluster %d (%q), want it to join cluster %d (%q) with %q", phrase, got, after[got].Name,
				want, before[want].Name, anchor)
		}
	}
	if got := holder(members2, lockedFit); got == locked {
		t.Errorf("%q joined the locked cluster %d", lockedFit, locked)
	}
	if !slices.Equal(members2[locked], members[locked]) {
		t.Errorf("the locked cluster changed: %q, was %q", members2[locked], members[locked])
	}
	for _, phrase := range misfits {
		if id := holder(members2, phrase); id != 0 && after[id].JobID != second.ID {
			t.Errorf("misfit %q joined cluster %d (%q) of the first clustering", phrase, id, after[id].Name)
		}
	}
	if id := holder(members2, "acoustic guitar chords"); id == 0 || after[id].JobID != second.ID {
		t.Errorf("the guitar keywords formed no new cluster: %q is in cluster %d", "acoustic guitar chords", id)
	}
	// No parallel cluster: every new cluster is of new keywords, its name
	// unlike the old ones'.
	for id, cl := range after {
		if cl.JobID != second.ID {
			continue
		}
		for _, old := range before {
			a, b := strings.ToLower(cl.Name), strings.ToLower(old.Name)
			if strings.Contains(a, b) || strings.Contains(b, a) {
				t.Errorf("new cluster %q runs parallel to %q: %q", cl.Name, old.Name, members2[id])
			}
		}
		for _, p := range members2[id] {
			if !slices.Contains(added, p) && holder(members, p) != 0 {
				t.Errorf("new cluster %q took %q from an old cluster", cl.Name, p)
			}
		}
	}
	var result struct {
		KeywordsJoined    int   `json:"keywords_joined"`
		ClustersGrown     int   `json:"clusters_grown"`
		KeywordsClustered int64 `json:"keywords_clustered"`
	}
	apptest.Must(t, json.Unmarshal(second.Result, &result), "result")
	joined := 0
	for id := range before {
		joined += len(members2[id]) - len(members[id])
	}
	if result.KeywordsJoined != joined || joined < len(fits) {
		t.Errorf("the result says %d keywords joined existing clusters, they grew by %d (want at least %d): %s",
			result.KeywordsJoined, joined, len(fits), second.Result)
	}
	if want := tasks.ClusterCost(result.KeywordsClustered, h.App.Config.Costs.KeywordsPerCredit); second.CreditsCharged != want {
		t.Errorf("the second clustering charged %d, want %d for %d keywords", second.CreditsCharged, want, result.KeywordsClustered)
	}
	// Centroids are kept, each over all its cluster's members.
	emb := providers.Offline().Embedder
	cents, err := st.ClusterCentroids(ctx, tenant, site.ID, fmt.Sprintf("%s/%d", emb.Name(), emb.Dimensions()))
	apptest.Must(t, err, "centroids")
	for _, cc := range cents {
		if cc.Centroid == nil || cc.Size != len(members2[cc.ClusterID]) {
			t.Errorf("cluster %d keeps a centroid over %d members (nil: %v), it has %d", cc.ClusterID, cc.Size,
				cc.Centroid == nil, len(members2[cc.ClusterID]))
		}
	}

	recluster(t, h, c, tenant, site.ID, locked, members2)
}

// recluster edits two clusters (a keyword moved between them), has ideas
// written for a third, re-clusters the site and checks that the locked,
// the edited and the one with ideas keep their keywords, and that the
// others are replaced.
func recluster(t *testing.T, h *apptest.Harness, c *client.Client, tenant, siteID, locked int64, members map[int64][]string) {
	t.Helper()
	st := h.App.Store
	ctx := apptest.Context(t)
	withIdeas := holder(members, "profit first for freelancers")
	// A keyword moves from the dog-training cluster to another (neither
	// locked nor the one given ideas): both become edited.
	from, into := holder(members, "how to teach a dog to heel"), int64(0)
	ids := slices.Sorted(maps.Keys(members))
	for _, id := range ids {
		if id != from && id != locked && id != withIdeas && id != 0 {
			into = id
			break
		}
	}
	kws, err := st.ClusterKeywords(ctx, tenant, from)
	apptest.Must(t, err, "keywords")
	if len(kws) < 2 || into == 0 {
		t.Fatalf("cluster %d has %d keywords and no other cluster to move one to (%d)", from, len(kws), into)
	}
	moved := kws[len(kws)-1].ID
	var cl store.Cluster
	apptest.Must(t, c.Do(ctx, http.MethodPost, fmt.Sprintf("/v1/clusters/%d/keywords", into),
		map[string]any{"keyword_ids": []int64{moved}}, &cl), "move a keyword")
	acc := apptest.Post(t, c, "/v1/ideas/generate", map[string]any{"cluster_ids": []int64{withIdeas}, "count": 1})
	apptest.WaitJobState(t, st, tenant, acc.Jobs[0].ID, store.JobSucceeded)
	before, members := siteClusters(t, st, tenant, siteID)
	kept := []int64{locked, from, into}

	job := clusterSite(t, h, c, tenant, siteID, "recluster")
	after, members2 := siteClusters(t, st, tenant, siteID)
	for _, id := range kept {
		if _, ok := after[id]; !ok || !slices.Equal(members2[id], members[id]) {
			t.Errorf("re-cluster changed cluster %d (%q): %q, was %q", id, before[id].Name, members2[id], members[id])
		}
	}
	if _, ok := after[withIdeas]; !ok {
		t.Errorf("re-cluster deleted cluster %d, which has ideas", withIdeas)
	}
	for _, p := range members[withIdeas] {
		if holder(members2, p) != withIdeas {
			t.Errorf("re-cluster took %q out of cluster %d, which has ideas", p, withIdeas)
		}
	}
	replaced := 0
	for id := range before {
		if slices.Contains(kept, id) || id == withIdeas {
			continue
		}
		replaced++
		if _, ok := after[id]; ok {
			t.Errorf("re-cluster kept cluster %d (%q), neither locked, edited nor with ideas", id, before[id].Name)
		}
	}
	for id, cl := range after {
		if _, old := before[id]; !old && cl.JobID != job.ID {
			t.Errorf("cluster %d is of job %s, want the re-cluster's", id, cl.JobID)
		}
	}
	var result struct {
		Replaced  int   `json:"clusters_replaced"`
		Clustered int64 `json:"keywords_clustered"`
	}
	apptest.Must(t, json.Unmarshal(job.Result, &result), "result")
	if result.Replaced != replaced || result.Clustered == 0 {
		t.Errorf("re-cluster result %s, want %d clusters replaced", job.Result, replaced)
	}
}
