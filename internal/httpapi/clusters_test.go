package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// TestRenameCluster: PATCH /v1/clusters/{id} sets the name, the
// description or both, trimmed, and marks the cluster named by a user; bad
// bodies are 400 naming the field and change nothing; another tenant's
// cluster is 404.
func TestRenameCluster(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	a := newFixtureLite(t, h, "rename-a")
	b := newFixtureLite(t, h, "rename-b")
	seeded := apptest.SeedIdeas(t, h.App.Store, a.TenantID, 1, "rename")
	path := fmt.Sprintf("/v1/clusters/%d", seeded.Cluster.ID)
	if seeded.Cluster.NameSource != store.NameByModel {
		t.Fatalf("a seeded cluster is named by %q, want model", seeded.Cluster.NameSource)
	}

	var got store.Cluster
	callJSON(t, h, a.Key, "PATCH", path, map[string]any{"name": "  Grinders for espresso  "}).must(t, 200, &got)
	if got.Name != "Grinders for espresso" || got.Description != seeded.Cluster.Description || got.NameSource != store.NameByUser {
		t.Errorf("after renaming: %+v", got)
	}
	callJSON(t, h, a.Key, "PATCH", path, map[string]any{"description": "Burr grinders, hand and electric."}).must(t, 200, &got)
	if got.Name != "Grinders for espresso" || got.Description != "Burr grinders, hand and electric." {
		t.Errorf("after describing: %+v", got)
	}

	for _, c := range []struct {
		body  any
		field string
	}{
		{map[string]any{}, "name"},
		{map[string]any{"name": " "}, "name"},
		{map[string]any{"name": strings.Repeat("a", 81)}, "name"},
		{map[string]any{"description": ""}, "description"},
		{map[string]any{"name": "x", "colour": "red"}, "colour"},
	} {
		ans := callJSON(t, h, a.Key, "PATCH", path, c.body)
		if ans.Status != 400 {
			t.Errorf("PATCH %v: %d %s, want 400", c.body, ans.Status, clipBody(ans.Body))
			continue
		}
		if got := fields(ans.problem(t, 400)); !slices.Contains(got, c.field) {
			t.Errorf("PATCH %v: the problem names %v, want %s", c.body, got, c.field)
		}
	}
	callJSON(t, h, b.Key, "PATCH", path, map[string]any{"name": "Mine now"}).must(t, 404, nil)
	callJSON(t, h, a.Key, "GET", path, nil).must(t, 200, &got)
	if got.Name != "Grinders for espresso" {
		t.Errorf("a refused rename changed the cluster: %+v", got)
	}
}

// TestEditClusters walks the cluster edits through the API: split, move
// back, drop, assign the outlier, lock, merge; each answers the cluster
// and leaves one audit entry; the refusals name their field and change
// nothing.
func TestEditClusters(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	a := newFixtureLite(t, h, "edit-a")
	seeded := apptest.SeedIdeas(t, h.App.Store, a.TenantID, 1, "edit")
	cl := seeded.Cluster
	var kws struct{ Items []store.Keyword }
	callJSON(t, h, a.Key, "GET", fmt.Sprintf("/v1/clusters/%d/keywords?limit=500", cl.ID), nil).must(t, 200, &kws)
	if len(kws.Items) != 4 || kws.Items[0].Volume == nil {
		t.Fatalf("the seeded cluster's keywords: %+v, want 4 with volumes", kws.Items)
	}
	k := func(i int) int64 { return kws.Items[i].ID }
	path := func(f string, args ...any) string {
		return fmt.Sprintf("/v1/clusters/%d", cl.ID) + fmt.Sprintf(f, args...)
	}
	refuse := func(what string, status int, field, method, p string, body any) {
		t.Helper()
		pr := callJSON(t, h, a.Key, method, p, body).problem(t, status)
		if field != "" && !slices.Contains(fields(pr), field) {
			t.Errorf("%s: the problem names %v, want %s (%s)", what, fields(pr), field, pr.Detail)
		}
		if field == "" && pr.Detail == "" {
			t.Errorf("%s: the problem says nothing", what)
		}
	}
	other := apptest.SeedIdeas(t, h.App.Store, a.TenantID, 1, "other") // another site of the same tenant
	before := state(t, h, a.Key, path(""))

	refuse("splitting off every keyword", 400, "keyword_ids", "POST", path("/split"), map[string]any{
		"keyword_ids": []int64{k(0), k(1), k(2), k(3)}, "name": "Everything"})
	refuse("splitting under the cluster's own name", 409, "name", "POST", path("/split"), map[string]any{
		"keyword_ids": []int64{k(3)}, "name": strings.ToUpper(cl.Name)})
	refuse("merging into itself", 400, "cluster_ids", "POST", "/v1/clusters/merge", map[string]any{
		"cluster_ids": []int64{cl.ID}, "into": cl.ID})
	refuse("moving a missing keyword", 404, "", "POST", path("/keywords"), map[string]any{"keyword_ids": []int64{999999999}})
	refuse("merging a cluster of another site", 400, "cluster_ids", "POST", "/v1/clusters/merge", map[string]any{
		"cluster_ids": []int64{other.Cluster.ID}, "into": cl.ID})
	otherKws, err := h.App.Store.ClusterKeywords(t.Context(), a.TenantID, other.Cluster.ID)
	apptest.Must(t, err, "other keywords")
	refuse("moving a keyword of another site", 400, "keyword_ids", "POST", path("/keywords"), map[string]any{
		"keyword_ids": []int64{otherKws[0].ID}})
	sameState(t, "refused edits", before, state(t, h, a.Key, path("")))

	// Split two keywords off, move one back, drop the other, assign it again.
	var split, got store.Cluster
	ans := callJSON(t, h, a.Key, "POST", path("/split"), map[string]any{"keyword_ids": []int64{k(2), k(3)}, "name": " Hand grinders "})
	ans.must(t, 201, &split)
	if split.Name != "Hand grinders" || split.KeywordCount != 2 || !split.Edited || ans.Header.Get("Location") != fmt.Sprintf("/v1/clusters/%d", split.ID) {
		t.Errorf("split: %+v (Location %q)", split, ans.Header.Get("Location"))
	}
	callJSON(t, h, a.Key, "POST", path("/keywords"), map[string]any{"keyword_ids": []int64{k(2)}}).must(t, 200, &got)
	if got.KeywordCount != 3 {
		t.Errorf("after moving one back: %d keywords, want 3", got.KeywordCount)
	}
	callJSON(t, h, a.Key, "POST", path("/keywords"), map[string]any{"keyword_ids": []int64{k(2)}}).must(t, 200, &got)
	if got.KeywordCount != 3 {
		t.Errorf("moving it again: %d keywords, want still 3", got.KeywordCount)
	}
	splitPath := fmt.Sprintf("/v1/clusters/%d", split.ID)
	callJSON(t, h, a.Key, "POST", splitPath+"/keywords/remove", map[string]any{"keyword_ids": []int64{k(3)}}).must(t, 200, &got)
	if got.KeywordCount != 0 {
		t.Errorf("after dropping its last keyword: %+v", got)
	}
	var outliers struct{ Items []store.Keyword }
	callJSON(t, h, a.Key, "GET", fmt.Sprintf("/v1/sites/%d/keywords?unclustered=true", seeded.Site.ID), nil).must(t, 200, &outliers)
	if len(outliers.Items) != 1 || outliers.Items[0].ID != k(3) || !outliers.Items[0].Outlier {
		t.Errorf("unclustered after the drop: %+v, want keyword %d as an outlier", outliers.Items, k(3))
	}
	callJSON(t, h, a.Key, "POST", splitPath+"/keywords", map[string]any{"keyword_ids": []int64{k(3)}}).must(t, 200, &got)
	if got.KeywordCount != 1 {
		t.Errorf("after assigning the outlier: %+v", got)
	}

	// Lock, and merge the split cluster (with the seeded ideas' cluster as
	// the one kept): a user may edit a locked cluster.
	callJSON(t, h, a.Key, "PATCH", splitPath, map[string]any{"locked": true}).must(t, 200, &got)
	if !got.Locked || got.Name != "Hand grinders" {
		t.Errorf("after locking: %+v", got)
	}
	callJSON(t, h, a.Key, "POST", "/v1/clusters/merge", map[string]any{"cluster_ids": []int64{cl.ID}, "into": split.ID,
		"name": "Espresso grinders at home"}).must(t, 200, &got)
	if got.KeywordCount != 4 || got.Name != "Espresso grinders at home" {
		t.Errorf("after merging: %+v", got)
	}
	callJSON(t, h, a.Key, "GET", path(""), nil).problem(t, 404)
	idea := seeded.Ideas[0]
	callJSON(t, h, a.Key, "GET", fmt.Sprintf("/v1/ideas/%d", idea.ID), nil).must(t, 200, &idea)
	if idea.ClusterID != split.ID {
		t.Errorf("the idea of the merged-away cluster is in cluster %d, want %d", idea.ClusterID, split.ID)
	}

	var audit struct{ Items []store.AuditEntry }
	callJSON(t, h, a.Key, "GET", "/v1/audit?limit=50", nil).must(t, 200, &audit)
	var actions []string
	for _, e := range audit.Items {
		if strings.HasPrefix(e.Action, "cluster.") {
			actions = append(actions, e.Action)
		}
	}
	slices.Reverse(actions)
	want := []string{"cluster.split", "cluster.keywords.add", "cluster.keywords.add", "cluster.keywords.remove",
		"cluster.keywords.add", "cluster.lock", "cluster.merge"}
	if !slices.Equal(actions, want) {
		t.Errorf("audit actions %v, want %v", actions, want)
	}
}

// TestClusterEditRetried: a split or a merge sent again with the same
// Idempotency-Key answers as the first did and changes nothing more.
func TestClusterEditRetried(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	a := newFixtureLite(t, h, "edit-retry")
	seeded := apptest.SeedIdeas(t, h.App.Store, a.TenantID, 1, "retry")
	kws, err := h.App.Store.ClusterKeywords(t.Context(), a.TenantID, seeded.Cluster.ID)
	apptest.Must(t, err, "keywords")
	split := fmt.Sprintf("/v1/clusters/%d/split", seeded.Cluster.ID)
	body := map[string]any{"keyword_ids": []int64{kws[0].ID}, "name": "Split once"}
	var first, again store.Cluster
	callJSON(t, h, a.Key, "POST", split, body, "Idempotency-Key", "split-1").must(t, 201, &first)
	callJSON(t, h, a.Key, "POST", split, body, "Idempotency-Key", "split-1").must(t, 201, &again)
	if first.ID != again.ID {
		t.Errorf("the retried split made cluster %d, the first %d", again.ID, first.ID)
	}
	merge := map[string]any{"cluster_ids": []int64{first.ID}, "into": seeded.Cluster.ID}
	callJSON(t, h, a.Key, "POST", "/v1/clusters/merge", merge, "Idempotency-Key", "merge-1").must(t, 200, &first)
	callJSON(t, h, a.Key, "POST", "/v1/clusters/merge", merge, "Idempotency-Key", "merge-1").must(t, 200, &again)
	// Without the key, the merge is not found: the cluster merged away is gone.
	if p := callJSON(t, h, a.Key, "POST", "/v1/clusters/merge", merge).problem(t, 404); !strings.Contains(p.Detail, fmt.Sprint(merge["cluster_ids"].([]int64)[0])) {
		t.Errorf("a merge of a cluster merged away: %q, want it named", p.Detail)
	}
	cs, err := h.App.Store.ListClusters(t.Context(), a.TenantID, seeded.Site.ID, store.Page{Limit: 10})
	apptest.Must(t, err, "clusters")
	if len(cs) != 1 || cs[0].KeywordCount != 4 || first.KeywordCount != 4 || again.KeywordCount != 4 {
		t.Errorf("after the retries: %+v (answers %+v, %+v), want the one cluster with its 4 keywords", cs, first, again)
	}
}

// TestReclusterRequest: POST /v1/sites/{id}/recluster is quoted on the
// unclustered keywords and those of the clusters it would replace, not on
// clusters with ideas, locked or edited ones; with nothing to re-cluster,
// or a clustering of the site already queued, it is a 409.
func TestReclusterRequest(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	a := newFixtureLite(t, h, "recluster-a")
	seeded := apptest.SeedIdeas(t, st, a.TenantID, 1, "recluster")
	path := fmt.Sprintf("/v1/sites/%d/recluster", seeded.Site.ID)
	if pr := callJSON(t, h, a.Key, "POST", path, nil).problem(t, 409); !strings.Contains(pr.Detail, "nothing to re-cluster") {
		t.Errorf("re-clustering a site whose one cluster has ideas: %q", pr.Detail)
	}

	// Two clusters without ideas, one of them locked, and one keyword unclustered.
	importCSV(t, h, a.Key, seeded.Site.ID, "phrase\nmoka pot\nmoka pot size\nstovetop espresso\nsteam wand\nmilk frothing\n")
	kws, err := st.UnclusteredKeywords(t.Context(), a.TenantID, seeded.Site.ID, 100)
	apptest.Must(t, err, "keywords")
	job := apptest.FreeJob(t, st, a.TenantID, tasks.TypeCluster, seeded.Site.ID, seeded.Site.ID)
	apptest.Must(t, st.SaveClusters(t.Context(), store.Outcome{TenantID: a.TenantID, JobID: job}, seeded.Site.ID, []store.NewCluster{
		{Name: "Moka Pots", Description: "d", KeywordIDs: []int64{kws[0].ID, kws[1].ID, kws[2].ID}},
		{Name: "Milk", Description: "d", KeywordIDs: []int64{kws[3].ID}},
	}), "save clusters")
	cs, err := st.ListClusters(t.Context(), a.TenantID, seeded.Site.ID, store.Page{Limit: 10})
	apptest.Must(t, err, "clusters")
	callJSON(t, h, a.Key, "PATCH", fmt.Sprintf("/v1/clusters/%d", cs[2].ID), map[string]any{"locked": true}).must(t, 200, nil)

	var acc apptest.Accepted
	callJSON(t, h, a.Key, "POST", path, nil).must(t, 202, &acc)
	if want := tasks.ClusterCost(4, h.App.Config.Costs.KeywordsPerCredit); acc.CreditsQuoted != want || len(acc.Jobs) != 1 {
		t.Errorf("re-cluster quoted %d credits for %d jobs, want %d for the 3 keywords of Moka Pots and 1 unclustered",
			acc.CreditsQuoted, len(acc.Jobs), want)
	}
	j := apptest.Job(t, st, a.TenantID, acc.Jobs[0].ID)
	if j.Type != tasks.TypeCluster || string(j.Params) != `{"recluster": true}` {
		t.Errorf("re-cluster job %s with params %s", j.Type, j.Params)
	}
	callJSON(t, h, a.Key, "POST", path, nil).problem(t, 409)
	callJSON(t, h, a.Key, "POST", fmt.Sprintf("/v1/sites/%d/clustering", seeded.Site.ID), nil).problem(t, 409)
}
