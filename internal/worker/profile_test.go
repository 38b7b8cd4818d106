package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/kwimport"
	"github.com/presswork/presswork/internal/store"
)

// TestStagesReceiveTheProfile: the site's content profile (its own fields
// over the tenant's defaults) reaches the draft, ideas, image prompt and
// cluster naming stages as data,
// in the input and in the rendered prompt, with the cluster's question
// keywords for the FAQ; the draft written from it has the sections asked
// for.
func TestStagesReceiveTheProfile(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	ctx := apptest.Context(t)
	tk, c := h.Tenant(t, "profiled", 100)
	tenant := tk.Tenant.ID
	seed := apptest.SeedIdeas(t, st, tenant, 1, "profiled")

	// A question keyword in the cluster, for the FAQ.
	parsed, err := kwimport.ParseCSV(strings.NewReader("phrase\nhow fine should espresso be ground\n"), 10)
	apptest.Must(t, err, "parse keywords")
	_, err = st.ImportKeywords(ctx, tenant, seed.Site.ID, parsed.Rows)
	apptest.Must(t, err, "import keywords")
	unclustered, err := st.UnclusteredKeywords(ctx, tenant, seed.Site.ID, 10)
	apptest.Must(t, err, "unclustered keywords")
	_, err = st.MoveKeywords(ctx, tenant, seed.Cluster.ID, []int64{unclustered[0].ID}, store.ByUser)
	apptest.Must(t, err, "move the question into the cluster")

	apptest.Must(t, st.SetTenantContentProfile(ctx, tenant,
		[]byte(`{"voice":"Calm and exact.","faq":true,"avoid":["cheap"],"word_targets":{"guide":900,"post":700}}`)), "tenant profile")
	apptest.Must(t, st.SetSiteContentProfile(ctx, tenant, seed.Site.ID,
		[]byte(`{"language":"de-AT","table_of_contents":true,"key_takeaways":true,"word_targets":{"guide":1000}}`)), "site profile")
	want := ai.Profile{Language: "de-AT", Voice: "Calm and exact.", Avoid: []string{"cheap"},
		WordTargets: map[string]int{"guide": 1000, "post": 700}, FAQ: true, TableOfContents: true, KeyTakeaways: true}

	var mu sync.Mutex
	seen := map[ai.Stage][]ai.JSONRequest{}
	model := hooked(func(_ context.Context, req ai.JSONRequest) error {
		mu.Lock()
		defer mu.Unlock()
		seen[req.Stage] = append(seen[req.Stage], req)
		return nil
	})
	h.StartWorker(t, offlineWith(model))

	draftJob := apptest.DraftJobs(t, c, seed.Ideas[0])[0]
	j := apptest.WaitJobState(t, st, tenant, draftJob, store.JobSucceeded)
	ideasJob := apptest.Post(t, c, "/v1/ideas/generate", map[string]any{"cluster_ids": []int64{seed.Cluster.ID}, "count": 1}).Jobs[0].ID
	apptest.WaitJobState(t, st, tenant, ideasJob, store.JobSucceeded)
	drafted, err := st.ListDrafts(ctx, tenant, seed.Site.ID, store.Page{Limit: 10})
	apptest.Must(t, err, "list drafts")
	if len(drafted) != 1 {
		t.Fatalf("%d drafts", len(drafted))
	}
	imageJob := apptest.Post(t, c, "/v1/images/generate", map[string]any{"draft_ids": []int64{drafted[0].ID}}).Jobs[0].ID
	apptest.WaitJobState(t, st, tenant, imageJob, store.JobSucceeded)
	// New keywords of another topic: a clustering names their cluster.
	latte, err := kwimport.ParseCSV(strings.NewReader("phrase\nlatte art milk\nlatte art pitcher\nlatte art for beginners\nlatte art heart\n"), 10)
	apptest.Must(t, err, "parse keywords")
	_, err = st.ImportKeywords(ctx, tenant, seed.Site.ID, latte.Rows)
	apptest.Must(t, err, "import keywords")
	clusterJob := apptest.Post(t, c, "/v1/sites/"+fmt.Sprint(seed.Site.ID)+"/clustering", nil).Jobs[0].ID
	apptest.WaitJobState(t, st, tenant, clusterJob, store.JobSucceeded)

	mu.Lock()
	defer mu.Unlock()
	names := seen[ai.StageClusterName]
	if len(names) == 0 {
		t.Fatal("no cluster naming call")
	}
	if in, ok := names[0].Input.(ai.ClusterNameInput); !ok || !cmp.Equal(want, in.Profile) {
		t.Errorf("the cluster naming stage's input %T has profile %+v", names[0].Input, in.Profile)
	}
	drafts := seen[ai.StageDraft]
	if len(drafts) != 1 {
		t.Fatalf("%d draft calls, want 1 (the offline draft meets its target)", len(drafts))
	}
	in, ok := drafts[0].Input.(ai.DraftInput)
	if !ok {
		t.Fatalf("draft input is %T", drafts[0].Input)
	}
	if diff := cmp.Diff(want, in.Profile); diff != "" {
		t.Errorf("the draft stage's profile (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"how fine should espresso be ground"}, in.FAQQuestions); diff != "" {
		t.Errorf("FAQ questions (-want +got):\n%s", diff)
	}
	for _, s := range []string{"Austrian German (de-AT)", "Voice and tone: Calm and exact.", "Words and claims to avoid: cheap",
		"Length: about 1000 words.", "how fine should espresso be ground"} {
		if !strings.Contains(drafts[0].System+drafts[0].Prompt, s) {
			t.Errorf("the draft prompts lack %q", s)
		}
	}
	ideas := seen[ai.StageIdeas]
	if len(ideas) != 1 {
		t.Fatalf("%d ideas calls, want 1", len(ideas))
	}
	if in, ok := ideas[0].Input.(ai.IdeasInput); !ok || !cmp.Equal(want, in.Profile) {
		t.Errorf("the ideas stage's input %T has profile %+v", ideas[0].Input, in.Profile)
	}
	if !strings.Contains(ideas[0].System, "Write the titles and headings in Austrian German (de-AT)") {
		t.Errorf("the ideas prompt does not ask for the profile's language:\n%s", ideas[0].System)
	}
	images := seen[ai.StageImagePrompt]
	if len(images) != 1 {
		t.Fatalf("%d image prompt calls, want 1", len(images))
	}
	if in, ok := images[0].Input.(ai.ImagePromptInput); !ok || !cmp.Equal(want, in.Profile) {
		t.Errorf("the image prompt stage's input %T has profile %+v", images[0].Input, in.Profile)
	}
	if !strings.Contains(images[0].System, "write the alt text in Austrian German (de-AT)") ||
		!strings.Contains(images[0].System, "the site avoids: cheap") {
		t.Errorf("the image prompt does not carry the profile:\n%s", images[0].System)
	}

	full, err := st.GetDraft(ctx, tenant, drafted[0].ID)
	apptest.Must(t, err, "get draft")
	body := full.BodyHTML
	for _, s := range []string{"<nav>", "<aside>", "How fine should espresso be ground?</h3>", `<h2 id="`} {
		if !strings.Contains(body, s) {
			t.Errorf("the stored draft lacks %q", s)
		}
	}
	if n := drafted[0].WordCount; n < 700 || n > 1300 {
		t.Errorf("the draft has %d words, want 700 to 1300 (1000 ± 30%%); job result %s", n, j.Result)
	}
}

// shortFirstDraft is the offline text model, except that its first draft
// answer loses all but the first paragraph of each section: far below a
// word target. It records the draft requests.
type shortFirstDraft struct {
	inner ai.TextModel
	mu    sync.Mutex
	calls []ai.JSONRequest
}

func (m *shortFirstDraft) Name() string { return "short-first" }

func (m *shortFirstDraft) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	resp, err := m.inner.GenerateJSON(ctx, req)
	if err != nil || req.Stage != ai.StageDraft {
		return resp, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, req)
	if len(m.calls) > 1 {
		return resp, nil
	}
	var d map[string]any
	if err := json.Unmarshal(resp.Content, &d); err != nil {
		return resp, err
	}
	body, _ := d["body_html"].(string)
	var short strings.Builder
	for i, part := range strings.Split(body, "<h") {
		if i > 0 {
			short.WriteString("<h")
		}
		head, _, _ := strings.Cut(part, "</p>")
		short.WriteString(head + "</p>\n")
	}
	d["body_html"] = short.String()
	resp.Content, err = json.Marshal(d)
	return resp, err
}

// TestShortDraftIsExpanded: a draft far below its profile's word target is
// sent back once, as a repair carrying the previous answer and the
// sections to expand, not written again; the job records the fix.
func TestShortDraftIsExpanded(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	tk, c := h.Tenant(t, "short-draft", 100)
	tenant := tk.Tenant.ID
	seed := apptest.SeedIdeas(t, st, tenant, 1, "short")
	apptest.Must(t, st.SetSiteContentProfile(apptest.Context(t), tenant, seed.Site.ID,
		[]byte(`{"word_targets":{"guide":800}}`)), "site profile")
	model := &shortFirstDraft{inner: offline.NewTextModel()}
	h.StartWorker(t, offlineWith(model))

	id := apptest.DraftJobs(t, c, seed.Ideas[0])[0]
	j := apptest.WaitJobState(t, st, tenant, id, store.JobSucceeded)
	model.mu.Lock()
	defer model.mu.Unlock()
	if len(model.calls) != 2 {
		t.Fatalf("%d draft calls, want 2 (the answer and one repair)", len(model.calls))
	}
	repair := model.calls[1].Prompt
	for _, s := range []string{"outside the 560 to 1040 words expected of a guide (the target is about 800)", "expand it by about",
		"(the shortest)", "<previous_answer>", "Return the whole document corrected"} {
		if !strings.Contains(repair, s) {
			t.Errorf("the second call is not the length repair: it lacks %q", s)
		}
	}
	var result struct {
		WordCount int                 `json:"word_count"`
		Fixes     []map[string]string `json:"fixes"`
		Warnings  []map[string]string `json:"warnings"`
	}
	apptest.Must(t, json.Unmarshal(j.Result, &result), "job result")
	if result.WordCount < 560 || result.WordCount > 1040 || len(result.Warnings) != 0 {
		t.Errorf("job result %s: want 560 to 1040 words and no warning", j.Result)
	}
	fixed := false
	for _, f := range result.Fixes {
		fixed = fixed || strings.Contains(f["problem"], "the model expanded or trimmed it to")
	}
	if !fixed {
		t.Errorf("the job result records no length fix: %s", j.Result)
	}
}
