package worker_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// inventingModel is the offline model, which links to the pages it is
// given, with one made-up link to the site added to every draft; it
// records the pages each draft request offered.
type inventingModel struct {
	inner   ai.TextModel
	invent  string
	mu      sync.Mutex
	offered [][]ai.LinkTarget
}

func (m *inventingModel) Name() string { return "inventing" }

func (m *inventingModel) GenerateJSON(ctx context.Context, req ai.JSONRequest) (ai.JSONResponse, error) {
	resp, err := m.inner.GenerateJSON(ctx, req)
	in, ok := req.Input.(ai.DraftInput)
	if err != nil || !ok {
		return resp, err
	}
	m.mu.Lock()
	m.offered = append(m.offered, in.InternalLinks)
	m.mu.Unlock()
	var d map[string]any
	if err := json.Unmarshal(resp.Content, &d); err != nil {
		return resp, err
	}
	d["body_html"] = d["body_html"].(string) + `<p>Read <a href="` + m.invent + `">our gear list</a> too.</p>`
	resp.Content, err = json.Marshal(d)
	return resp, err
}

// TestDraftInternalLinks: a draft is offered the site's pages closest to
// its idea from the link inventory (a fake model checks what it received),
// links to them, and a made-up link to the site is removed (its words
// kept) and reported, not published.
func TestDraftInternalLinks(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	tk, c := h.Tenant(t, "draft-links", 100)
	tenant := tk.Tenant.ID
	seed := apptest.SeedIdeas(t, st, tenant, 1, "links")
	ctx := apptest.Context(t)
	pages := []store.NewLink{
		{WPID: 1, Kind: "post", URL: "https://seed.example.com/espresso-grinder-settings/", Title: "Espresso grinder settings"},
		{WPID: 2, Kind: "post", URL: "https://seed.example.com/burr-grinders-compared/", Title: "Burr grinders compared"},
		{WPID: 3, Kind: "page", URL: "https://seed.example.com/about/", Title: "About us"},
		{WPID: 4, Kind: "post", URL: "https://seed.example.com/sourdough-starter/", Title: "Sourdough starter from scratch"},
	}
	for i := range pages {
		h := sha256.Sum256([]byte(pages[i].Title))
		pages[i].TitleHash = h[:]
	}
	_, err := st.ReplaceLinks(ctx, tenant, seed.Site.ID, time.Now(), pages)
	apptest.Must(t, err, "store the inventory")

	invented := "https://seed.example.com/best-gear-2026/"
	model := &inventingModel{inner: offline.NewTextModel(), invent: invented}
	mux := workers(t, h, offlineWith(model))
	id := apptest.DraftJobs(t, c, seed.Ideas[0])[0]
	payload, err := json.Marshal(tasks.Payload{TenantID: tenant, JobID: id, SubjectID: seed.Ideas[0].ID})
	apptest.Must(t, err, "payload")
	apptest.Must(t, mux.ProcessTask(ctx, asynq.NewTask(tasks.TypeDraft, payload)), "draft job")

	if len(model.offered) != 1 || len(model.offered[0]) != len(pages) {
		t.Fatalf("the model was offered %+v, want the %d pages once", model.offered, len(pages))
	}
	// Closest to "choosing an espresso grinder" first; the sourdough page last.
	if got := model.offered[0]; !strings.Contains(got[0].Title, "grinder") || got[len(got)-1].Title == "Espresso grinder settings" {
		t.Errorf("pages offered in the order %+v, want the grinder pages first", got)
	}
	j := apptest.Job(t, st, tenant, id)
	var result struct {
		InternalLinks int `json:"internal_links"`
		Removed       []struct {
			Href string `json:"href"`
			Text string `json:"text"`
		} `json:"links_removed"`
	}
	apptest.Must(t, json.Unmarshal(j.Result, &result), "job result")
	if j.State != store.JobSucceeded || result.InternalLinks != len(pages) || len(result.Removed) != 1 ||
		result.Removed[0].Href != invented || result.Removed[0].Text != "our gear list" {
		t.Fatalf("job %s with result %s, want %d internal links and the made-up one removed", j.State, j.Result, len(pages))
	}
	drafts, err := st.ListDrafts(ctx, tenant, seed.Site.ID, store.Page{Limit: 10})
	apptest.Must(t, err, "list drafts")
	d, err := st.GetDraft(ctx, tenant, drafts[0].ID)
	apptest.Must(t, err, "get draft")
	body := d.BodyHTML
	if strings.Contains(body, invented) || !strings.Contains(body, "Read our gear list too.") {
		t.Errorf("the stored body keeps the made-up link or lost its words:\n%s", body)
	}
	for _, p := range pages {
		if !strings.Contains(body, `href="`+p.URL+`"`) {
			t.Errorf("the stored body does not link to %s", p.URL)
		}
	}
}
