package worker_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/kwimport"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// ideasAnswer is a text model that answers the ideas stage with fixed
// ideas and leaves every other stage to the offline model.
type ideasAnswer struct {
	ideas []ai.Idea
	calls int
}

func (m *ideasAnswer) Name() string { return "fixed-ideas" }

func (m *ideasAnswer) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	if req.Stage != ai.StageIdeas {
		return offline.NewTextModel().GenerateJSON(ctx, req)
	}
	m.calls++
	body, err := json.Marshal(ai.IdeaList{Ideas: m.ideas})
	return ai.JSONResponse{Content: body, Usage: ai.Usage{PromptTokens: 100, CompletionTokens: 50}}, err
}

func outline() []ai.Heading {
	return []ai.Heading{{Level: 2, Text: "What to look for"}, {Level: 2, Text: "Step by step"}, {Level: 2, Text: "Common mistakes"}}
}

// TestIdeasRefuseDuplicates: an ideas job for a second cluster of a site
// refuses the ideas that would compete with the site's: one aimed at the
// primary keyword of an idea of another cluster, one whose title means the
// same as an idea kept from the same answer. The refused ones are listed
// with their reasons, and not charged.
func TestIdeasRefuseDuplicates(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	tk, c := h.Tenant(t, "overlap", 100)
	tenant := tk.Tenant.ID
	seed := apptest.SeedIdeas(t, st, tenant, 1, "first") // primary keyword "espresso grinder"
	ctx := apptest.Context(t)

	parsed, err := kwimport.ParseCSV(strings.NewReader("phrase\nclean espresso grinder\nespresso grinder cleaning tablets\n"), 10)
	apptest.Must(t, err, "parse keywords")
	_, err = st.ImportKeywords(ctx, tenant, seed.Site.ID, parsed.Rows)
	apptest.Must(t, err, "import keywords")
	kws, err := st.UnclusteredKeywords(ctx, tenant, seed.Site.ID, 10)
	apptest.Must(t, err, "unclustered keywords")
	ids := make([]int64, len(kws))
	for i, k := range kws {
		ids[i] = k.ID
	}
	apptest.Must(t, st.SaveClusters(ctx, store.Outcome{TenantID: tenant, JobID: apptest.FreeJob(t, st, tenant, tasks.TypeCluster,
		seed.Site.ID, seed.Site.ID)}, seed.Site.ID, []store.NewCluster{{Name: "Grinder Cleaning", KeywordIDs: ids}}), "save cluster")
	clusters, err := st.ListClusters(ctx, tenant, seed.Site.ID, store.Page{Limit: 10})
	apptest.Must(t, err, "list clusters")
	second := clusters[len(clusters)-1]

	model := &ideasAnswer{ideas: []ai.Idea{
		{Title: "The Espresso Grinders Worth Buying", ContentType: "listicle",
			TargetKeywords: []string{"Espresso Grinders", "clean espresso grinder"}, Outline: outline()},
		{Title: "How to Clean an Espresso Grinder", ContentType: "how_to",
			TargetKeywords: []string{"clean espresso grinder"}, Outline: outline()},
		{Title: "How to Clean Your Espresso Grinder", ContentType: "how_to",
			TargetKeywords: []string{"espresso grinder cleaning tablets"}, Outline: outline()},
		// Near-identical to the first cluster's idea.
		{Title: "Choosing an Espresso Grinder (First Idea 0)", ContentType: "guide",
			TargetKeywords: []string{"grinder choice"}, Outline: outline()},
		// Near-identical to a page of the site that Presswork did not make.
		{Title: "Descaling Guide for Espresso Machines", ContentType: "guide",
			TargetKeywords: []string{"descaling espresso machine"}, Outline: outline()},
	}}
	sum := sha256.Sum256([]byte("The Espresso Machine Descaling Guide"))
	_, err = st.ReplaceLinks(ctx, tenant, seed.Site.ID, time.Now(), []store.NewLink{{WPID: 5, Kind: "page",
		URL: "https://seed.example.com/descaling/", Title: "The Espresso Machine Descaling Guide", TitleHash: sum[:]}})
	apptest.Must(t, err, "store the inventory")
	mux := workers(t, h, offlineWith(model))
	acc := apptest.Post(t, c, "/v1/ideas/generate", map[string]any{"cluster_ids": []int64{second.ID}, "count": 5})
	id := acc.Jobs[0].ID
	payload, err := json.Marshal(tasks.Payload{TenantID: tenant, JobID: id, SubjectID: second.ID})
	apptest.Must(t, err, "payload")
	apptest.Must(t, mux.ProcessTask(ctx, asynq.NewTask(tasks.TypeIdeas, payload)), "ideas job")

	j := apptest.Job(t, st, tenant, id)
	var result struct {
		Ideas   int `json:"ideas"`
		Refused int `json:"refused_duplicates"`
	}
	apptest.Must(t, json.Unmarshal(j.Result, &result), "job result")
	if j.State != store.JobSucceeded || result.Ideas != 1 || result.Refused != 4 {
		t.Fatalf("job %s with result %s, want succeeded with 1 idea and 4 refused", j.State, j.Result)
	}
	perIdea := h.App.Config.Costs.Idea
	if j.CreditsCharged != perIdea {
		t.Errorf("job charged %d credits, want %d (one idea kept)", j.CreditsCharged, perIdea)
	}
	ideas, err := st.ListIdeas(ctx, tenant, store.IdeaFilter{ClusterID: second.ID}, store.Page{Limit: 10})
	apptest.Must(t, err, "list ideas")
	if len(ideas) != 1 || ideas[0].Title != "How to Clean an Espresso Grinder" {
		t.Errorf("ideas kept %+v, want only %q", ideas, "How to Clean an Espresso Grinder")
	}

	var page struct {
		Items []store.IdeaConflict `json:"items"`
	}
	apptest.Must(t, c.Do(ctx, "GET", fmt.Sprintf("/v1/sites/%d/idea-conflicts", seed.Site.ID), nil, &page), "list conflicts")
	if len(page.Items) != 4 {
		t.Fatalf("conflicts %+v, want 4", page.Items)
	}
	if c := page.Items[2]; c.Reason != "similar_title" || c.ConflictsWith == nil || *c.ConflictsWith != seed.Ideas[0].ID {
		t.Errorf("third conflict %+v, want a similar title refused for idea %d of the other cluster", c, seed.Ideas[0].ID)
	}
	if c := page.Items[3]; c.Reason != "similar_title" || c.ConflictsWith != nil || c.ConflictingTitle != "The Espresso Machine Descaling Guide" {
		t.Errorf("fourth conflict %+v, want a similar title refused for the site's own page", c)
	}
	first, other := page.Items[0], page.Items[1]
	if first.Title != "The Espresso Grinders Worth Buying" || first.Reason != "same_primary_keyword" ||
		first.ConflictsWith == nil || *first.ConflictsWith != seed.Ideas[0].ID || first.ConflictingTitle != seed.Ideas[0].Title {
		t.Errorf("first conflict %+v, want the plural primary keyword refused for idea %d", first, seed.Ideas[0].ID)
	}
	if other.Title != "How to Clean Your Espresso Grinder" || other.Reason != "similar_title" ||
		other.ConflictsWith != nil || other.ConflictingTitle != "How to Clean an Espresso Grinder" ||
		other.Similarity == nil || *other.Similarity < 0.9 {
		t.Errorf("second conflict %+v, want the similar title refused for the kept idea of the same answer", other)
	}
	if other.ClusterID != second.ID || other.JobID != id {
		t.Errorf("conflict names cluster %d and job %s, want %d and %s", other.ClusterID, other.JobID, second.ID, id)
	}

	// A second delivery of the finished job changes nothing.
	apptest.Must(t, mux.ProcessTask(ctx, asynq.NewTask(tasks.TypeIdeas, payload)), "second delivery")
	again, err := st.ListIdeaConflicts(ctx, tenant, seed.Site.ID, store.Page{Limit: 10})
	apptest.Must(t, err, "list conflicts")
	if len(again) != 4 || model.calls != 1 {
		t.Errorf("after a second delivery: %d conflicts and %d model calls, want 4 and 1", len(again), model.calls)
	}
}

// barrierIdeas answers every ideas request with the same idea, once all
// of want requests have arrived: the jobs' answers are all in before any
// of them compares and saves.
type barrierIdeas struct {
	want    int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func (m *barrierIdeas) Name() string { return "barrier-ideas" }

func (m *barrierIdeas) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	if req.Stage != ai.StageIdeas {
		return offline.NewTextModel().GenerateJSON(ctx, req)
	}
	m.mu.Lock()
	if m.arrived++; m.arrived == m.want {
		close(m.all)
	}
	m.mu.Unlock()
	select {
	case <-m.all:
	case <-ctx.Done():
		return ai.JSONResponse{}, ctx.Err()
	}
	body, err := json.Marshal(ai.IdeaList{Ideas: []ai.Idea{{Title: "How to Clean an Espresso Grinder", ContentType: "how_to",
		TargetKeywords: []string{"clean espresso grinder"}, Outline: outline()}}})
	return ai.JSONResponse{Content: body, Usage: ai.Usage{PromptTokens: 10, CompletionTokens: 10}}, err
}

// TestConcurrentIdeasKeepOneDuplicate: two ideas jobs of one site, for two
// clusters, whose answers are the same idea and arrive together: the site
// keeps it once, and the other job refuses it, whichever saves first.
func TestConcurrentIdeasKeepOneDuplicate(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	tk, c := h.Tenant(t, "overlap-race", 100)
	tenant := tk.Tenant.ID
	seed := apptest.SeedIdeas(t, st, tenant, 0, "race")
	ctx := apptest.Context(t)
	parsed, err := kwimport.ParseCSV(strings.NewReader("phrase\nclean espresso grinder\ndescale espresso grinder\n"), 10)
	apptest.Must(t, err, "parse keywords")
	_, err = st.ImportKeywords(ctx, tenant, seed.Site.ID, parsed.Rows)
	apptest.Must(t, err, "import keywords")
	kws, err := st.UnclusteredKeywords(ctx, tenant, seed.Site.ID, 10)
	apptest.Must(t, err, "unclustered keywords")
	apptest.Must(t, st.SaveClusters(ctx, store.Outcome{TenantID: tenant, JobID: apptest.FreeJob(t, st, tenant, tasks.TypeCluster,
		seed.Site.ID, seed.Site.ID)}, seed.Site.ID, []store.NewCluster{{Name: "Grinder Cleaning", KeywordIDs: []int64{kws[0].ID}},
		{Name: "Grinder Descaling", KeywordIDs: []int64{kws[1].ID}}}), "save clusters")
	clusters, err := st.ListClusters(ctx, tenant, seed.Site.ID, store.Page{Limit: 10})
	apptest.Must(t, err, "list clusters")
	if len(clusters) != 3 {
		t.Fatalf("%d clusters, want 3", len(clusters))
	}

	mux := workers(t, h, offlineWith(&barrierIdeas{want: 2, all: make(chan struct{})}))
	var wg sync.WaitGroup
	for _, cl := range clusters[1:] {
		id := apptest.Post(t, c, "/v1/ideas/generate", map[string]any{"cluster_ids": []int64{cl.ID}, "count": 1}).Jobs[0].ID
		payload, err := json.Marshal(tasks.Payload{TenantID: tenant, JobID: id, SubjectID: cl.ID})
		apptest.Must(t, err, "payload")
		wg.Go(func() {
			if err := mux.ProcessTask(ctx, asynq.NewTask(tasks.TypeIdeas, payload)); err != nil {
				t.Errorf("ideas job of cluster %d: %v", cl.ID, err)
			}
		})
	}
	wg.Wait()
	ideas, err := st.ListIdeas(ctx, tenant, store.IdeaFilter{SiteID: seed.Site.ID}, store.Page{Limit: 10})
	apptest.Must(t, err, "list ideas")
	refused, err := st.ListIdeaConflicts(ctx, tenant, seed.Site.ID, store.Page{Limit: 10})
	apptest.Must(t, err, "list conflicts")
	if len(ideas) != 1 || len(refused) != 1 || refused[0].ConflictsWith == nil || *refused[0].ConflictsWith != ideas[0].ID {
		t.Errorf("the site keeps %d ideas and refused %+v, want the idea once and its duplicate refused for it", len(ideas), refused)
	}
}
