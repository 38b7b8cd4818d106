package store_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// editWorld is a site with three clusters of two keywords each (the first
// with an idea) and two unclustered keywords.
type editWorld struct {
	tenant   store.Tenant
	site     store.Site
	clusters []store.Cluster
	kw       map[string]int64 // phrase -> id
	ideaID   int64
}

func newEditWorld(t *testing.T, st *store.Store) editWorld {
	t.Helper()
	ctx := t.Context()
	w := editWorld{tenant: newTenant(t, st, 100), kw: map[string]int64{}}
	tid := w.tenant.ID
	w.site = newSite(t, st, tid)
	importKeywords(t, st, tid, w.site.ID, "trail shoes", "trail running shoes", "marathon plan", "marathon pace",
		"foam roller", "massage gun", "ice bath", "sauna")
	for _, k := range keywords(t, st, tid, w.site.ID, store.KeywordFilter{}) {
		w.kw[k.Phrase] = k.ID
	}
	cj := newJob(t, st, tid, typeCluster, w.site.ID, 1)
	startJob(t, st, tid, cj.ID)
	ids := func(p ...string) []int64 {
		out := make([]int64, len(p))
		for i, s := range p {
			out[i] = w.kw[s]
		}
		return out
	}
	if err := st.SaveClusters(ctx, store.Outcome{TenantID: tid, JobID: cj.ID, Charged: 1}, w.site.ID, []store.NewCluster{
		{Name: "Trail shoes", Description: "d", KeywordIDs: ids("trail shoes", "trail running shoes")},
		{Name: "Marathon", Description: "d", KeywordIDs: ids("marathon plan", "marathon pace")},
		{Name: "Recovery", Description: "d", KeywordIDs: ids("foam roller", "massage gun")},
	}); err != nil {
		t.Fatalf("SaveClusters: %v", err)
	}
	var err error
	if w.clusters, err = st.ListClusters(ctx, tid, w.site.ID, store.Page{Limit: 10}); err != nil || len(w.clusters) != 3 {
		t.Fatalf("ListClusters = %v, %v", w.clusters, err)
	}
	ij := newJob(t, st, tid, typeIdeas, w.clusters[1].ID, 1)
	startJob(t, st, tid, ij.ID)
	if err := st.SaveIdeas(ctx, store.Outcome{TenantID: tid, JobID: ij.ID, Charged: 1}, w.clusters[1],
		[]store.NewIdea{{Title: "A marathon plan", ContentType: "guide", Outline: []store.Heading{}}}); err != nil {
		t.Fatalf("SaveIdeas: %v", err)
	}
	ideas, err := st.ListIdeas(ctx, tid, store.IdeaFilter{ClusterID: w.clusters[1].ID}, store.Page{Limit: 10})
	if err != nil || len(ideas) != 1 {
		t.Fatalf("ListIdeas = %v, %v", ideas, err)
	}
	w.ideaID = ideas[0].ID
	return w
}

// phrasesOf returns the phrases in a cluster, sorted.
func (w editWorld) phrasesOf(t *testing.T, st *store.Store, clusterID int64) []string {
	t.Helper()
	kws, err := st.ClusterKeywords(t.Context(), w.tenant.ID, clusterID)
	if err != nil {
		t.Fatalf("ClusterKeywords(%d): %v", clusterID, err)
	}
	out := []string{}
	for _, k := range kws {
		out = append(out, k.Phrase)
	}
	slices.Sort(out)
	return out
}

func wantPhrases(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s holds %q, want %q", what, got, want)
	}
}

// wantInvalid checks err is a validation error naming field.
func wantInvalid(t *testing.T, what string, err error, field string) {
	t.Helper()
	var v *errs.ValidationError
	if !errors.As(err, &v) || !slices.ContainsFunc(v.Problems, func(p errs.FieldProblem) bool { return p.Field == field }) {
		t.Errorf("%s: %v, want a validation error naming %s", what, err, field)
	}
}

func TestMergeClusters(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	w := newEditWorld(t, st)
	tid, trail, marathon, recovery := w.tenant.ID, w.clusters[0], w.clusters[1], w.clusters[2]

	got, err := st.MergeClusters(ctx, tid, trail.ID, []int64{marathon.ID}, "Running", store.ByUser)
	if err != nil {
		t.Fatalf("MergeClusters: %v", err)
	}
	if got.Name != "Running" || got.NameSource != store.NameByUser || got.KeywordCount != 4 || !got.Edited {
		t.Errorf("merged cluster %+v, want Running by user, 4 keywords, edited", got)
	}
	wantPhrases(t, "the merged cluster", w.phrasesOf(t, st, trail.ID), "trail shoes", "trail running shoes", "marathon plan", "marathon pace")
	if _, err := st.GetCluster(ctx, tid, marathon.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("the merged-away cluster: %v, want it gone", err)
	}
	idea, err := st.GetIdea(ctx, tid, w.ideaID)
	if err != nil || idea.ClusterID != trail.ID {
		t.Errorf("the merged-away cluster's idea: %+v, %v; want it moved to cluster %d", idea, err, trail.ID)
	}

	// Repeating it: the cluster merged away is not found, and says which.
	_, err = st.MergeClusters(ctx, tid, trail.ID, []int64{marathon.ID}, "", store.ByUser)
	if !errors.Is(err, errs.ErrNotFound) || !strings.Contains(err.Error(), "no cluster") {
		t.Errorf("merging again: %v, want not found naming the cluster", err)
	}
	if _, err := st.MergeClusters(ctx, tid, recovery.ID, []int64{999999999}, "", store.ByUser); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("merging a missing cluster: %v, want not found", err)
	}
	// Another tenant cannot merge these clusters.
	stranger := newTenant(t, st, 0)
	if _, err := st.MergeClusters(ctx, stranger.ID, recovery.ID, []int64{trail.ID}, "", store.ByUser); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("another tenant's merge: %v, want not found", err)
	}
}

func TestClusterNamesUnique(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	w := newEditWorld(t, st)
	tid := w.tenant.ID
	var taken *store.NameTakenError
	_, err := st.UpdateCluster(ctx, tid, w.clusters[0].ID, store.ClusterPatch{Name: ptr("MARATHON")}, store.ByUser)
	if !errors.As(err, &taken) || !errors.Is(err, errs.ErrConflict) || taken.ClusterID != w.clusters[1].ID {
		t.Errorf("renaming to another cluster's name: %v, want a conflict naming cluster %d", err, w.clusters[1].ID)
	}
	// Its own name, in another case, is fine.
	if c, err := st.UpdateCluster(ctx, tid, w.clusters[0].ID, store.ClusterPatch{Name: ptr("Trail Shoes")}, store.ByUser); err != nil || c.Name != "Trail Shoes" {
		t.Errorf("renaming to its own name: %+v, %v", c, err)
	}
	_, err = st.SplitCluster(ctx, tid, w.clusters[0].ID, []int64{w.kw["trail shoes"]}, "recovery", "", store.ByUser)
	if !errors.As(err, &taken) {
		t.Errorf("splitting under a taken name: %v, want a conflict", err)
	}
	_, err = st.MergeClusters(ctx, tid, w.clusters[0].ID, []int64{w.clusters[1].ID}, "Recovery", store.ByUser)
	if !errors.As(err, &taken) {
		t.Errorf("merging under a taken name: %v, want a conflict", err)
	}
	// Merging under the name of a cluster merged away is fine: it goes.
	if c, err := st.MergeClusters(ctx, tid, w.clusters[0].ID, []int64{w.clusters[1].ID}, "Marathon", store.ByUser); err != nil || c.Name != "Marathon" {
		t.Errorf("merging under a merged cluster's name: %+v, %v", c, err)
	}
}

func TestSplitCluster(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	w := newEditWorld(t, st)
	tid, marathon := w.tenant.ID, w.clusters[1]

	_, err := st.SplitCluster(ctx, tid, marathon.ID, []int64{w.kw["marathon plan"], w.kw["marathon pace"]}, "All", "", store.ByUser)
	wantInvalid(t, "splitting off every keyword", err, "keyword_ids")
	_, err = st.SplitCluster(ctx, tid, marathon.ID, []int64{w.kw["foam roller"]}, "Rollers", "", store.ByUser)
	wantInvalid(t, "splitting off another cluster's keyword", err, "keyword_ids")
	_, err = st.SplitCluster(ctx, tid, marathon.ID, []int64{999999999}, "Nothing", "", store.ByUser)
	if !errors.Is(err, errs.ErrNotFound) || !strings.Contains(err.Error(), "no keyword 999999999") {
		t.Errorf("splitting off a missing keyword: %v, want not found naming it", err)
	}

	c, err := st.SplitCluster(ctx, tid, marathon.ID, []int64{w.kw["marathon pace"]}, "Marathon pace", "Pace.", store.ByUser)
	if err != nil {
		t.Fatalf("SplitCluster: %v", err)
	}
	if c.SiteID != w.site.ID || c.Name != "Marathon pace" || c.Description != "Pace." || c.KeywordCount != 1 ||
		c.NameSource != store.NameByUser || !c.Edited || c.JobID != marathon.JobID {
		t.Errorf("the new cluster %+v", c)
	}
	wantPhrases(t, "the new cluster", w.phrasesOf(t, st, c.ID), "marathon pace")
	wantPhrases(t, "the cluster split", w.phrasesOf(t, st, marathon.ID), "marathon plan")
	src, _ := st.GetCluster(ctx, tid, marathon.ID)
	if src.KeywordCount != 1 || !src.Edited {
		t.Errorf("the cluster split: %+v, want 1 keyword, edited", src)
	}
	if idea, _ := st.GetIdea(ctx, tid, w.ideaID); idea.ClusterID != marathon.ID {
		t.Errorf("the idea went to cluster %d, want it to stay in %d", idea.ClusterID, marathon.ID)
	}
}

func TestMoveAndRemoveKeywords(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	w := newEditWorld(t, st)
	tid, trail, marathon, recovery := w.tenant.ID, w.clusters[0], w.clusters[1], w.clusters[2]

	// One from another cluster, one outlier.
	c, err := st.MoveKeywords(ctx, tid, recovery.ID, []int64{w.kw["trail running shoes"], w.kw["ice bath"]}, store.ByUser)
	if err != nil {
		t.Fatalf("MoveKeywords: %v", err)
	}
	if c.KeywordCount != 4 || !c.Edited {
		t.Errorf("after moving in: %+v, want 4 keywords, edited", c)
	}
	wantPhrases(t, "recovery", w.phrasesOf(t, st, recovery.ID), "foam roller", "massage gun", "trail running shoes", "ice bath")
	if from, _ := st.GetCluster(ctx, tid, trail.ID); from.KeywordCount != 1 || !from.Edited {
		t.Errorf("the cluster moved from: %+v, want 1 keyword, edited", from)
	}
	// Moving again changes nothing.
	again, err := st.MoveKeywords(ctx, tid, recovery.ID, []int64{w.kw["ice bath"]}, store.ByUser)
	if err != nil || again != c {
		t.Errorf("moving again: %+v, %v; want %+v unchanged", again, err, c)
	}

	// Removing makes them outliers; removing an unclustered one again is a
	// no-op; one in another cluster is refused.
	c, err = st.RemoveKeywords(ctx, tid, recovery.ID, []int64{w.kw["ice bath"], w.kw["sauna"]}, store.ByUser)
	if err != nil || c.KeywordCount != 3 {
		t.Fatalf("RemoveKeywords: %+v, %v; want 3 keywords left", c, err)
	}
	out := keywords(t, st, tid, w.site.ID, store.KeywordFilter{Unclustered: true})
	for _, k := range out {
		if k.Phrase == "ice bath" && !k.Outlier {
			t.Errorf("a removed keyword is no outlier: %+v", k)
		}
	}
	_, err = st.RemoveKeywords(ctx, tid, recovery.ID, []int64{w.kw["marathon plan"]}, store.ByUser)
	wantInvalid(t, "removing another cluster's keyword", err, "keyword_ids")

	// Keywords of another site are refused; ids of none are not found.
	other := newSite(t, st, tid)
	importKeywords(t, st, tid, other.ID, "elsewhere")
	elsewhere := keywords(t, st, tid, other.ID, store.KeywordFilter{})[0].ID
	_, err = st.MoveKeywords(ctx, tid, marathon.ID, []int64{elsewhere}, store.ByUser)
	wantInvalid(t, "moving another site's keyword", err, "keyword_ids")
	stranger := newTenant(t, st, 0)
	if _, err := st.MoveKeywords(ctx, stranger.ID, marathon.ID, []int64{w.kw["sauna"]}, store.ByUser); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("another tenant's move: %v, want not found", err)
	}
	wantPhrases(t, "marathon", w.phrasesOf(t, st, marathon.ID), "marathon plan", "marathon pace")
}

// TestLockedCluster: a locked cluster refuses automatic edits (its own and
// moves out of it) and accepts its user's.
func TestLockedCluster(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	w := newEditWorld(t, st)
	tid, trail, marathon := w.tenant.ID, w.clusters[0], w.clusters[1]

	c, err := st.UpdateCluster(ctx, tid, trail.ID, store.ClusterPatch{Locked: ptr(true)}, store.ByUser)
	if err != nil || !c.Locked || c.NameSource != trail.NameSource || c.Edited {
		t.Fatalf("locking: %+v, %v; want locked, name and edited flag unchanged", c, err)
	}
	conflict := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, errs.ErrConflict) || !strings.Contains(err.Error(), "locked") {
			t.Errorf("%s by automation: %v, want a conflict saying it is locked", what, err)
		}
	}
	_, err = st.UpdateCluster(ctx, tid, trail.ID, store.ClusterPatch{Name: ptr("Shoes")}, store.ByAutomation)
	conflict("renaming", err)
	_, err = st.MergeClusters(ctx, tid, marathon.ID, []int64{trail.ID}, "", store.ByAutomation)
	conflict("merging away", err)
	_, err = st.MoveKeywords(ctx, tid, marathon.ID, []int64{w.kw["trail shoes"]}, store.ByAutomation)
	conflict("moving a keyword out", err)
	_, err = st.MoveKeywords(ctx, tid, trail.ID, []int64{w.kw["sauna"]}, store.ByAutomation)
	conflict("moving a keyword in", err)
	wantPhrases(t, "the locked cluster", w.phrasesOf(t, st, trail.ID), "trail shoes", "trail running shoes")

	// Automation may still edit unlocked clusters, and the user the locked one.
	if _, err := st.MoveKeywords(ctx, tid, marathon.ID, []int64{w.kw["sauna"]}, store.ByAutomation); err != nil {
		t.Errorf("automation moving into an unlocked cluster: %v", err)
	}
	if _, err := st.MoveKeywords(ctx, tid, trail.ID, []int64{w.kw["ice bath"]}, store.ByUser); err != nil {
		t.Errorf("the user moving into a locked cluster: %v", err)
	}
	if c, err := st.UpdateCluster(ctx, tid, trail.ID, store.ClusterPatch{Locked: ptr(false)}, store.ByUser); err != nil || c.Locked {
		t.Errorf("unlocking: %+v, %v", c, err)
	}
}

func TestClusterKeywordsPage(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	w := newEditWorld(t, st)
	first, err := st.ClusterKeywordsPage(ctx, w.tenant.ID, w.clusters[0].ID, store.Page{Limit: 1})
	if err != nil || len(first) != 1 {
		t.Fatalf("first page: %v, %v", first, err)
	}
	rest, err := st.ClusterKeywordsPage(ctx, w.tenant.ID, w.clusters[0].ID, store.Page{After: first[0].ID, Limit: 10})
	if err != nil || len(rest) != 1 || rest[0].ID <= first[0].ID {
		t.Errorf("second page: %v, %v", rest, err)
	}
	if _, err := st.ClusterKeywordsPage(ctx, newTenant(t, st, 0).ID, w.clusters[0].ID, store.Page{Limit: 1}); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("another tenant's cluster: %v, want not found", err)
	}
}
