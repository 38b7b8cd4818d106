package worker_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai/offline"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
	"github.com/presswork/presswork/internal/worker"
)

// refreshLinks runs one site:links job through the wrapped handler and
// returns it as recorded.
func refreshLinks(t *testing.T, r *publishRig, mux *asynq.ServeMux) store.Job {
	t.Helper()
	id := uuid.NewString()
	_, err := r.st.CreateJobs(apptest.Context(t), r.tenant, "", []store.NewJob{jobs.LinksJob(id, r.site.ID)})
	apptest.Must(t, err, "create links job")
	payload, err := json.Marshal(tasks.Payload{TenantID: r.tenant, JobID: id, SubjectID: r.site.ID})
	apptest.Must(t, err, "payload")
	if err := mux.ProcessTask(apptest.Context(t), asynq.NewTask(tasks.TypeLinks, payload)); err != nil {
		t.Fatalf("links job: %v", err)
	}
	return r.job(t, id)
}

type invEntry struct {
	Kind, URL, Title, Source string
}

func inventory(t *testing.T, r *publishRig) ([]invEntry, []store.Link) {
	t.Helper()
	ls, err := r.st.SiteLinks(apptest.Context(t), r.tenant, r.site.ID)
	apptest.Must(t, err, "site links")
	out := []invEntry{}
	for _, l := range ls {
		out = append(out, invEntry{l.Kind, l.URL, l.Title, l.Source})
	}
	return out, ls
}

// TestLinkInventory: a publish adds its post to the site's inventory at
// once; a refresh reads the site's other posts and pages (made there, not
// by Presswork), leaves out what is not on the site's host, embeds the
// titles, and gives the same inventory when run again; the draft stage's
// helpers choose among it and check a body against it.
func TestLinkInventory(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	r := newPublishRig(t, h, "links-inv", fakewp.Config{}, "", nil)
	embedder := offline.NewEmbedder(0)
	mux := asynq.NewServeMux()
	worker.Register(mux, worker.Deps{Store: r.st, Box: h.App.Box, WordPressHTTP: h.App.WordPressClient(), Embedder: embedder,
		Costs: h.App.Config.Costs, Log: h.App.Log})

	r.published(t, r.publishJobDelivered(t), 1)
	draft := r.getDraft(t)
	postURL := fmt.Sprintf("%s/?p=%d", r.wp.SiteURL(), *draft.WPPostID)
	got, _ := inventory(t, r)
	if diff := cmp.Diff([]invEntry{{"post", postURL, draft.Title, store.LinkPresswork}}, got); diff != "" {
		t.Fatalf("inventory after the publish (-want +got):\n%s", diff)
	}

	grinders := r.wp.Add(fakewp.Content{Title: "Burr grinders compared"})
	about := r.wp.Add(fakewp.Content{Type: "page", Title: "About our roastery"})
	r.wp.Add(fakewp.Content{Title: "Syndicated", Link: "https://elsewhere.example.org/syndicated/"})
	r.wp.Add(fakewp.Content{Title: "Not yet", Status: "draft"})

	job := refreshLinks(t, r, mux)
	if job.State != store.JobSucceeded || job.CreditsCharged != 0 {
		t.Fatalf("links job %s (error %q), charged %d; want succeeded and free", job.State, apptest.Deref(job.LastError), job.CreditsCharged)
	}
	var res map[string]any
	apptest.Must(t, json.Unmarshal(job.Result, &res), "result")
	if res["entries"] != 3.0 || res["skipped_off_site"] != 1.0 || res["titles_embedded"] != 3.0 {
		t.Errorf("result = %v, want 3 entries, 1 skipped, 3 titles embedded", res)
	}
	want := []invEntry{
		{"post", postURL, draft.Title, store.LinkPresswork},
		{"post", fmt.Sprintf("%s/?p=%d", r.wp.SiteURL(), grinders), "Burr grinders compared", store.LinkWordPress},
		{"page", fmt.Sprintf("%s/?page_id=%d", r.wp.SiteURL(), about), "About our roastery", store.LinkWordPress},
	}
	got, first := inventory(t, r)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("inventory after the refresh (-want +got):\n%s", diff)
	}
	if again := refreshLinks(t, r, mux); again.State != store.JobSucceeded {
		t.Fatalf("second links job %s: %q", again.State, apptest.Deref(again.LastError))
	}
	if _, second := inventory(t, r); !cmp.Equal(ids(first), ids(second)) {
		t.Errorf("a second refresh changed the inventory's ids: %v then %v", ids(first), ids(second))
	}

	// The draft stage's helpers.
	il := worker.NewInternalLinks(r.st, 0)
	picked, _, err := il.Relevant(apptest.Context(t), r.tenant, r.site.ID, embedder, "Choosing burr grinders for espresso", postURL, 2)
	apptest.Must(t, err, "Relevant")
	if len(picked) != 2 || picked[0].Title != "Burr grinders compared" {
		t.Errorf("Relevant = %+v, want 2 entries, the grinders post first", picked)
	}
	for _, p := range picked {
		if p.URL == postURL {
			t.Errorf("Relevant offered the article itself: %+v", p)
		}
	}
	site := r.getSite(t)
	body := fmt.Sprintf(`<p>See <a href="%s">grinders</a> and <a href="%s">our invented guide</a> and <a href="https://other.org/">this</a>.</p>`,
		want[1].URL, r.wp.SiteURL()+"/?p=9999")
	checked, removed, err := il.Check(apptest.Context(t), r.tenant, site, body)
	apptest.Must(t, err, "Check")
	wantBody := fmt.Sprintf(`<p>See <a href="%s">grinders</a> and our invented guide and <a href="https://other.org/">this</a>.</p>`, want[1].URL)
	if checked != wantBody || len(removed) != 1 || removed[0].Text != "our invented guide" {
		t.Errorf("Check = %s, %+v", checked, removed)
	}
}

func ids(ls []store.Link) []int64 {
	out := []int64{}
	for _, l := range ls {
		out = append(out, l.ID)
	}
	return out
}

// publishJobDelivered creates a publish job and delivers it once.
func (r *publishRig) publishJobDelivered(t *testing.T) string {
	t.Helper()
	id := r.publishJob(t)
	if err := r.deliver(t, id); err != nil {
		t.Fatalf("publish: %v", err)
	}
	return id
}
