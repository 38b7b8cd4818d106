package httpapi_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/kwimport"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// TestDraftsBatchMode: "mode": "batch" makes draft jobs that wait in the
// state batched, quoted and reserved at half the draft cost (rounded up;
// no catalogue route), listed by state;
// an unknown mode is refused.
func TestDraftsBatchMode(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "batchmode", 100)
	seed := apptest.SeedIdeas(t, h.App.Store, tk.Tenant.ID, 2, "batchmode")
	ids := []int64{seed.Ideas[0].ID, seed.Ideas[1].ID}

	p := callJSON(t, h, tk.OwnerKey, "POST", "/v1/drafts/generate", map[string]any{"idea_ids": ids, "mode": "later"}).problem(t, 400)
	if got := fields(p); len(got) != 1 || got[0] != "mode" {
		t.Errorf("problem fields %v, want [mode]", got)
	}

	var acc jobsAnswer
	callJSON(t, h, tk.OwnerKey, "POST", "/v1/drafts/generate", map[string]any{"idea_ids": ids, "mode": "batch"}).must(t, 202, &acc)
	if len(acc.Jobs) != 2 || acc.CreditsQuoted != 2*((h.App.Config.Costs.Draft+1)/2) {
		t.Fatalf("answer %+v", acc)
	}
	for _, j := range acc.Jobs {
		if got := apptest.Job(t, h.App.Store, tk.Tenant.ID, j.ID); got.State != store.JobBatched || got.CreditsReserved == 0 {
			t.Errorf("job %s: state %s, reserved %d", j.ID, got.State, got.CreditsReserved)
		}
	}
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	callJSON(t, h, tk.OwnerKey, "GET", "/v1/jobs?state=batched", nil).must(t, 200, &page)
	if len(page.Items) != 2 {
		t.Errorf("GET /v1/jobs?state=batched: %d jobs, want 2", len(page.Items))
	}
}

// TestBatchSettings: a tenant's default sends bulks of at least
// batch_min_items drafts to batch mode (half price) unless the request
// says "mode": "ordinary"; smaller bulks run at once; the setting is
// audited and another tenant's is its own.
func TestBatchSettings(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "batchdefault", 100)
	other, _ := h.Tenant(t, "batchother", 100)
	seed := apptest.SeedIdeas(t, h.App.Store, tk.Tenant.ID, 5, "batchdefault")
	idea := func(i int) int64 { return seed.Ideas[i].ID }
	cost := h.App.Config.Costs.Draft

	type settings struct {
		BatchMinItems *int `json:"batch_min_items"`
	}
	var got settings
	call(t, h, tk.OwnerKey, "GET", "/v1/batch-settings", "", nil).must(t, 200, &got)
	if got.BatchMinItems != nil {
		t.Fatalf("default of a new tenant: %d, want null", *got.BatchMinItems)
	}
	callJSON(t, h, tk.OwnerKey, "PUT", "/v1/batch-settings", map[string]any{"batch_min_items": 2}).must(t, 200, &got)
	if got.BatchMinItems == nil || *got.BatchMinItems != 2 {
		t.Fatalf("PUT answered %+v, want 2", got)
	}

	generate := func(mode string, ids ...int64) jobsAnswer {
		body := map[string]any{"idea_ids": ids}
		if mode != "" {
			body["mode"] = mode
		}
		var acc jobsAnswer
		callJSON(t, h, tk.OwnerKey, "POST", "/v1/drafts/generate", body).must(t, 202, &acc)
		return acc
	}
	for _, tc := range []struct {
		name  string
		acc   jobsAnswer
		state string
		quote int64
	}{
		{"a bulk of 2, no mode", generate("", idea(0), idea(1)), store.JobBatched, 2 * ((cost + 1) / 2)},
		{"a single draft", generate("", idea(2)), store.JobQueued, cost},
		{"a bulk of 2, ordinary", generate("ordinary", idea(3), idea(4)), store.JobQueued, 2 * cost},
	} {
		if tc.acc.CreditsQuoted != tc.quote {
			t.Errorf("%s: quoted %d, want %d", tc.name, tc.acc.CreditsQuoted, tc.quote)
		}
		for _, j := range tc.acc.Jobs {
			if got := apptest.Job(t, h.App.Store, tk.Tenant.ID, j.ID); got.State != tc.state {
				t.Errorf("%s: job %s is %s, want %s", tc.name, j.ID, got.State, tc.state)
			}
		}
	}

	// Another tenant's default is its own.
	call(t, h, other.OwnerKey, "GET", "/v1/batch-settings", "", nil).must(t, 200, &got)
	if got.BatchMinItems != nil {
		t.Errorf("another tenant's default: %d, want null", *got.BatchMinItems)
	}
	if !slices.Contains(actions(auditLog(t, h, tk.OwnerKey, "/v1/audit")), "owner batch_settings.set") {
		t.Error("the audit log lacks batch_settings.set")
	}
	// null turns it off.
	callJSON(t, h, tk.OwnerKey, "PUT", "/v1/batch-settings", map[string]any{"batch_min_items": nil}).must(t, 200, &got)
	if got.BatchMinItems != nil {
		t.Errorf("after null: %d, want null", *got.BatchMinItems)
	}
}

// TestBatchModeNeedsTheServersModel: a tenant whose drafts a model of the
// catalogue writes (its own choice) cannot have them batched: asking for
// batch mode is a 400 naming mode and the model, and its default sends
// them the ordinary way at the ordinary quote, never a batch quote for
// work run the ordinary way.
func TestBatchModeNeedsTheServersModel(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "batchrouted", 100)
	seed := apptest.SeedIdeas(t, h.App.Store, tk.Tenant.ID, 3, "batchrouted")
	writer, err := h.App.Store.FindModel(t.Context(), "offline", "offline-writer-v1", store.ModelKindChat)
	apptest.Must(t, err, "offline writer")
	callJSON(t, h, tk.OwnerKey, "PUT", "/v1/stage-models", map[string]any{"draft": writer.ID}).must(t, 200, nil)
	callJSON(t, h, tk.OwnerKey, "PUT", "/v1/batch-settings", map[string]any{"batch_min_items": 2}).must(t, 200, nil)

	a := callJSON(t, h, tk.OwnerKey, "POST", "/v1/drafts/generate",
		map[string]any{"idea_ids": []int64{seed.Ideas[0].ID}, "mode": "batch"})
	if a.Status != 400 || !strings.Contains(string(a.Body), `"field":"mode"`) ||
		!strings.Contains(string(a.Body), "offline/offline-writer-v1") {
		t.Errorf("batch mode with a chosen model: %d %s, want a 400 naming mode and the model", a.Status, a.Body)
	}
	var acc jobsAnswer
	callJSON(t, h, tk.OwnerKey, "POST", "/v1/drafts/generate",
		map[string]any{"idea_ids": []int64{seed.Ideas[1].ID, seed.Ideas[2].ID}}).must(t, 202, &acc)
	if cost := h.App.Config.Costs.Draft; acc.CreditsQuoted != 2*cost {
		t.Errorf("the default sent 2 drafts quoted %d, want the ordinary %d", acc.CreditsQuoted, 2*cost)
	}
	for _, j := range acc.Jobs {
		if got := apptest.Job(t, h.App.Store, tk.Tenant.ID, j.ID); got.State != store.JobQueued {
			t.Errorf("job %s is %s, want queued (ordinary)", j.ID, got.State)
		}
	}
}

// TestBatchModeCatalogueModels: a tenant whose drafts an OpenAI model of
// the catalogue writes (its own choice) gets batch mode, quoted at that
// model's batch price times its credit multiplier; one whose drafts an
// Anthropic model writes gets a 400 naming mode, the model and why.
func TestBatchModeCatalogueModels(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	ctx := t.Context()
	st := h.App.Store
	gpt, err := st.FindModel(ctx, "openai", "gpt-4o", store.ModelKindChat)
	apptest.Must(t, err, "gpt-4o")
	// Batch prices 1 + 4 over the standard 2.5 + 10: 0.4; times 3.
	in, out, mult, on := 1.0, 4.0, 3.0, true
	gpt, err = st.UpdateModel(ctx, gpt.ID, store.ModelFields{Enabled: &on, CreditMultiplier: &mult,
		BatchPriceInputPerMTok: store.Null(&in), BatchPriceOutputPerMTok: store.Null(&out)})
	apptest.Must(t, err, "price gpt-4o")
	provider, model, kind, name := "anthropic", "claude-sonnet-4-5", store.ModelKindChat, "Claude Sonnet 4.5"
	claude, err := st.CreateModel(ctx, store.ModelFields{Provider: &provider, Model: &model, Kind: &kind,
		DisplayName: &name, Enabled: &on})
	apptest.Must(t, err, "claude")

	tk, _ := h.Tenant(t, "batchgpt", 100)
	seed := apptest.SeedIdeas(t, st, tk.Tenant.ID, 2, "batchgpt")
	callJSON(t, h, tk.OwnerKey, "PUT", "/v1/stage-models", map[string]any{"draft": gpt.ID}).must(t, 200, nil)
	var acc jobsAnswer
	callJSON(t, h, tk.OwnerKey, "POST", "/v1/drafts/generate",
		map[string]any{"idea_ids": []int64{seed.Ideas[0].ID, seed.Ideas[1].ID}, "mode": "batch"}).must(t, 202, &acc)
	cost := h.App.Config.Costs.Draft
	want := int64(math.Ceil(float64(cost) * 0.4 * 3))
	if want == cost*3 || want == (cost+1)/2 {
		t.Fatalf("the test's prices do not tell the quotes apart: %d", want)
	}
	if len(acc.Jobs) != 2 || acc.CreditsQuoted != 2*want {
		t.Errorf("batch mode with gpt-4o: %+v, want 2 jobs quoted %d", acc, 2*want)
	}
	for _, j := range acc.Jobs {
		if got := apptest.Job(t, st, tk.Tenant.ID, j.ID); got.State != store.JobBatched || got.CreditsQuoted != want {
			t.Errorf("job %s: %s, quoted %d; want batched, %d", j.ID, got.State, got.CreditsQuoted, want)
		}
	}

	other, _ := h.Tenant(t, "batchclaude", 100)
	seed = apptest.SeedIdeas(t, st, other.Tenant.ID, 1, "batchclaude")
	callJSON(t, h, other.OwnerKey, "PUT", "/v1/stage-models", map[string]any{"draft": claude.ID}).must(t, 200, nil)
	p := callJSON(t, h, other.OwnerKey, "POST", "/v1/drafts/generate",
		map[string]any{"idea_ids": []int64{seed.Ideas[0].ID}, "mode": "batch"}).problem(t, 400)
	if got := fields(p); len(got) != 1 || got[0] != "mode" {
		t.Errorf("problem fields %v, want [mode]", got)
	}
	if body := fmt.Sprint(p); !strings.Contains(body, "anthropic/claude-sonnet-4-5") || !strings.Contains(body, "Batch API") {
		t.Errorf("problem %s: want the model and why", body)
	}
}

// TestIdeasBatchMode: "mode": "batch" makes ideas jobs that wait batched,
// quoted at half the ideas' cost (no catalogue route); the tenant's
// default counts the clusters of a request; an unknown mode is refused.
func TestIdeasBatchMode(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "ideasbatch", 100)
	cluster := apptest.SeedIdeas(t, h.App.Store, tk.Tenant.ID, 0, "ideasbatch").Cluster.ID
	body := func(mode string) map[string]any {
		b := map[string]any{"cluster_ids": []int64{cluster}, "count": 3}
		if mode != "" {
			b["mode"] = mode
		}
		return b
	}
	p := callJSON(t, h, tk.OwnerKey, "POST", "/v1/ideas/generate", body("later")).problem(t, 400)
	if got := fields(p); len(got) != 1 || got[0] != "mode" {
		t.Errorf("problem fields %v, want [mode]", got)
	}
	half := (3*h.App.Config.Costs.Idea + 1) / 2
	check := func(name string, acc jobsAnswer, state string, quote int64) {
		t.Helper()
		if len(acc.Jobs) != 1 || acc.CreditsQuoted != quote {
			t.Fatalf("%s: %+v, want one job quoted %d", name, acc, quote)
		}
		if j := apptest.Job(t, h.App.Store, tk.Tenant.ID, acc.Jobs[0].ID); j.State != state {
			t.Errorf("%s: job is %s, want %s", name, j.State, state)
		}
		_, err := h.App.Store.CancelJob(t.Context(), tk.Tenant.ID, acc.Jobs[0].ID)
		apptest.Must(t, err, "cancel")
	}
	var acc jobsAnswer
	callJSON(t, h, tk.OwnerKey, "POST", "/v1/ideas/generate", body("batch")).must(t, 202, &acc)
	check("mode batch", acc, store.JobBatched, half)

	callJSON(t, h, tk.OwnerKey, "PUT", "/v1/batch-settings", map[string]any{"batch_min_items": 1}).must(t, 200, nil)
	callJSON(t, h, tk.OwnerKey, "POST", "/v1/ideas/generate", body("")).must(t, 202, &acc)
	check("the default for one cluster", acc, store.JobBatched, half)
	callJSON(t, h, tk.OwnerKey, "POST", "/v1/ideas/generate", body("ordinary")).must(t, 202, &acc)
	check("mode ordinary", acc, store.JobQueued, 3*h.App.Config.Costs.Idea)

	callJSON(t, h, tk.OwnerKey, "PUT", "/v1/batch-settings", map[string]any{"batch_min_items": 2}).must(t, 200, nil)
	callJSON(t, h, tk.OwnerKey, "POST", "/v1/ideas/generate", body("")).must(t, 202, &acc)
	check("the default for more clusters", acc, store.JobQueued, 3*h.App.Config.Costs.Idea)
}

// TestCatalogueMultiplierClusteringAndImages: the credit multiplier of the
// catalogue model a tenant chose for cluster naming and for images is in
// the quotes of its clusterings and image jobs, and in what they charge.
func TestCatalogueMultiplierClusteringAndImages(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	ctx := t.Context()
	st := h.App.Store
	multiply := func(model, kind string, mult float64) store.AIModel {
		m, err := st.FindModel(ctx, "offline", model, kind)
		apptest.Must(t, err, model)
		m, err = st.UpdateModel(ctx, m.ID, store.ModelFields{CreditMultiplier: &mult})
		apptest.Must(t, err, "multiplier of "+model)
		return m
	}
	writer := multiply("offline-writer-v1", store.ModelKindChat, 1.5)
	image := multiply("offline-image-v1", store.ModelKindImage, 2)
	tk, _ := h.Tenant(t, "multiplier", 1000)
	seed := apptest.SeedIdeas(t, st, tk.Tenant.ID, 1, "multiplier")
	callJSON(t, h, tk.OwnerKey, "PUT", "/v1/stage-models",
		map[string]any{"cluster_name": writer.ID, "images": image.ID}).must(t, 200, nil)

	parsed, err := kwimport.ParseCSV(strings.NewReader("phrase,volume\nmilk frother,500\nbest milk frother,300\nelectric milk frother,200\n"), 100)
	apptest.Must(t, err, "parse keywords")
	_, err = st.ImportKeywords(ctx, tk.Tenant.ID, seed.Site.ID, parsed.Rows)
	apptest.Must(t, err, "import keywords")
	var clustering jobsAnswer
	callJSON(t, h, tk.OwnerKey, "POST", fmt.Sprintf("/v1/sites/%d/clustering", seed.Site.ID), nil).must(t, 202, &clustering)
	base := tasks.ClusterCost(3, h.App.Config.Costs.KeywordsPerCredit)
	if want := writer.Credits(base); want == base || clustering.CreditsQuoted != want {
		t.Errorf("clustering quoted %d, want %d (%d x 1.5, rounded up)", clustering.CreditsQuoted, want, base)
	}

	draftJob := apptest.FreeJob(t, st, tk.Tenant.ID, tasks.TypeDraft, seed.Site.ID, seed.Ideas[0].ID)
	idea, err := st.GetIdea(ctx, tk.Tenant.ID, seed.Ideas[0].ID)
	apptest.Must(t, err, "idea")
	apptest.Must(t, st.SaveDraft(ctx, store.Outcome{TenantID: tk.Tenant.ID, JobID: draftJob}, idea, store.Draft{
		Title: idea.Title, Slug: "multiplier", BodyHTML: "<h2>One</h2><p>Two words</p>", WordCount: 2}), "save draft")
	drafts, err := st.ListDrafts(ctx, tk.Tenant.ID, seed.Site.ID, store.Page{Limit: 10})
	apptest.Must(t, err, "drafts")
	var images jobsAnswer
	callJSON(t, h, tk.OwnerKey, "POST", "/v1/images/generate", map[string]any{"draft_ids": []int64{drafts[0].ID}}).must(t, 202, &images)
	perImage := image.Credits(h.App.Config.Costs.Image)
	count := int64(1 + seed.Site.InlineImages)
	if images.CreditsQuoted != count*perImage {
		t.Errorf("images quoted %d, want %d images at %d", images.CreditsQuoted, count, perImage)
	}

	h.StartWorker(t)
	if j := apptest.WaitJobState(t, st, tk.Tenant.ID, clustering.Jobs[0].ID, store.JobSucceeded); j.CreditsCharged != clustering.CreditsQuoted {
		t.Errorf("clustering charged %d, want %d: %s", j.CreditsCharged, clustering.CreditsQuoted, j.Result)
	}
	j := apptest.WaitJobState(t, st, tk.Tenant.ID, images.Jobs[0].ID, store.JobSucceeded)
	made, err := st.ListImages(ctx, tk.Tenant.ID, drafts[0].ID)
	apptest.Must(t, err, "images")
	if want := int64(len(made)) * perImage; len(made) == 0 || j.CreditsCharged != want {
		t.Errorf("images: %d made, charged %d; want %d", len(made), j.CreditsCharged, want)
	}
}

// TestBatchModeOwnKey: a tenant whose work its own OpenAI key serves may
// ask for batch mode (its key's Batch API runs it): drafts and ideas wait
// batched at the batch quote; with batch_min_items, a bulk that names no
// mode goes to batch mode too.
func TestBatchModeOwnKey(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "batchownkey", 100)
	seed := apptest.SeedIdeas(t, h.App.Store, tk.Tenant.ID, 2, "batchownkey")
	callJSON(t, h, tk.OwnerKey, "PUT", "/v1/ai-settings/openai",
		map[string]string{"api_key": "sk-own-0123456789abcdef", "base_url": "https://llm.example.com/v1"}).must(t, 200, nil)
	callJSON(t, h, tk.OwnerKey, "PUT", "/v1/batch-settings", map[string]any{"batch_min_items": 1}).must(t, 200, nil)
	costs := h.App.Config.Costs
	for _, tt := range []struct {
		path string
		body map[string]any
		want int64
	}{
		{"/v1/drafts/generate", map[string]any{"idea_ids": []int64{seed.Ideas[0].ID}, "mode": "batch"}, (costs.Draft + 1) / 2},
		{"/v1/drafts/generate", map[string]any{"idea_ids": []int64{seed.Ideas[1].ID}}, (costs.Draft + 1) / 2},
		{"/v1/ideas/generate", map[string]any{"cluster_ids": []int64{seed.Cluster.ID}, "count": 2, "mode": "batch"}, (2*costs.Idea + 1) / 2},
	} {
		var acc jobsAnswer
		callJSON(t, h, tk.OwnerKey, "POST", tt.path, tt.body).must(t, 202, &acc)
		if len(acc.Jobs) != 1 || acc.CreditsQuoted != tt.want {
			t.Fatalf("%s %v with the tenant's own key: %+v, want one job quoted %d", tt.path, tt.body, acc, tt.want)
		}
		if j := apptest.Job(t, h.App.Store, tk.Tenant.ID, acc.Jobs[0].ID); j.State != store.JobBatched {
			t.Errorf("%s %v: job %s, want batched", tt.path, tt.body, j.State)
		}
	}
}

// TestImagesBatchMode: "mode": "batch" on an images request makes jobs
// that wait batched (their prompt call goes through the Batch API), quoted
// as ordinary images; the tenant's default does not send images to batch
// mode; a catalogue model of another provider for image prompts is a 400.
func TestImagesBatchMode(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	ctx := t.Context()
	st := h.App.Store
	tk, _ := h.Tenant(t, "imagesbatch", 100)
	seed := apptest.SeedIdeas(t, st, tk.Tenant.ID, 3, "imagesbatch")
	drafts := make([]int64, len(seed.Ideas))
	for i, idea := range seed.Ideas {
		job := apptest.FreeJob(t, st, tk.Tenant.ID, tasks.TypeDraft, seed.Site.ID, idea.ID)
		apptest.Must(t, st.SaveDraft(ctx, store.Outcome{TenantID: tk.Tenant.ID, JobID: job}, idea, store.Draft{
			Title: idea.Title, Slug: fmt.Sprintf("imagesbatch-%d", i), BodyHTML: "<h2>One</h2><p>Two words</p>",
			WordCount: 2}), "save draft")
	}
	list, err := st.ListDrafts(ctx, tk.Tenant.ID, seed.Site.ID, store.Page{Limit: 10})
	apptest.Must(t, err, "drafts")
	for i, d := range list {
		drafts[i] = d.ID
	}
	images := func(id int64, mode string) answer {
		body := map[string]any{"draft_ids": []int64{id}}
		if mode != "" {
			body["mode"] = mode
		}
		return callJSON(t, h, tk.OwnerKey, "POST", "/v1/images/generate", body)
	}
	if got := fields(images(drafts[0], "later").problem(t, 400)); len(got) != 1 || got[0] != "mode" {
		t.Errorf("problem fields %v, want [mode]", got)
	}
	callJSON(t, h, tk.OwnerKey, "PUT", "/v1/batch-settings", map[string]any{"batch_min_items": 1}).must(t, 200, nil)
	quote := int64(1+seed.Site.InlineImages) * h.App.Config.Costs.Image
	for _, tt := range []struct {
		draft int64
		mode  string
		state string
	}{{drafts[0], "", store.JobQueued}, {drafts[1], "batch", store.JobBatched}} {
		var acc jobsAnswer
		images(tt.draft, tt.mode).must(t, 202, &acc)
		if len(acc.Jobs) != 1 || acc.CreditsQuoted != quote {
			t.Fatalf("images in mode %q: %+v, want one job quoted %d", tt.mode, acc, quote)
		}
		if j := apptest.Job(t, st, tk.Tenant.ID, acc.Jobs[0].ID); j.State != tt.state {
			t.Errorf("images in mode %q: job %s, want %s", tt.mode, j.State, tt.state)
		}
	}

	m, err := st.FindModel(ctx, "offline", "offline-writer-v1", store.ModelKindChat)
	apptest.Must(t, err, "offline writer")
	callJSON(t, h, tk.OwnerKey, "PUT", "/v1/stage-models", map[string]any{"image_prompt": m.ID}).must(t, 200, nil)
	p := images(drafts[2], "batch").problem(t, 400)
	if got := fields(p); len(got) != 1 || got[0] != "mode" || !strings.Contains(fmt.Sprint(p), "image prompts") {
		t.Errorf("images in batch mode with image prompts routed offline: %+v, want a 400 naming mode", p)
	}
}
