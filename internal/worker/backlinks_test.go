package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

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

// queuedJobs is a job lifecycle that creates the jobs submitted to it and
// keeps them instead of delivering them.
type queuedJobs struct {
	mu   sync.Mutex
	jobs []store.Job
}

func (q *queuedJobs) Submit(ctx context.Context, commit func(context.Context) ([]store.Job, error)) error {
	made, err := commit(ctx)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs = append(q.jobs, made...)
	return err
}

func (q *queuedJobs) Finished(context.Context, int64, string) {}

func (q *queuedJobs) ofType(typ string) []store.Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []store.Job
	for _, j := range q.jobs {
		if j.Type == typ {
			out = append(out, j)
		}
	}
	return out
}

// addDraft saves one more draft of the rig's site, titled title, and
// returns it.
func addDraft(t *testing.T, r *publishRig, title string) store.Draft {
	t.Helper()
	ctx := apptest.Context(t)
	clusters, err := r.st.ListClusters(ctx, r.tenant, r.site.ID, store.Page{Limit: 10})
	apptest.Must(t, err, "list clusters")
	ideasJob := apptest.FreeJob(t, r.st, r.tenant, tasks.TypeIdeas, r.site.ID, clusters[0].ID)
	apptest.Must(t, r.st.SaveIdeas(ctx, store.Outcome{TenantID: r.tenant, JobID: ideasJob}, clusters[0], []store.NewIdea{{
		Title: title, ContentType: "guide", TargetKeywords: []string{strings.ToLower(title)},
		Outline: []store.Heading{{Level: 2, Text: "First"}, {Level: 2, Text: "Second"}},
	}}), "save idea")
	ideas, err := r.st.ListIdeas(ctx, r.tenant, store.IdeaFilter{SiteID: r.site.ID}, store.Page{Limit: 100})
	apptest.Must(t, err, "list ideas")
	var idea store.Idea
	for _, i := range ideas {
		if i.Title == title {
			idea = i
		}
	}
	draftJob := apptest.FreeJob(t, r.st, r.tenant, tasks.TypeDraft, r.site.ID, idea.ID)
	apptest.Must(t, r.st.SaveDraft(ctx, store.Outcome{TenantID: r.tenant, JobID: draftJob}, idea, store.Draft{
		Title: title, Slug: strings.ReplaceAll(strings.ToLower(title), " ", "-"), Excerpt: title + ".",
		MetaTitle: title, MetaDescription: title + ".", FocusKeyword: strings.ToLower(title),
		BodyHTML: "<p>About " + title + ".</p><h2>First</h2><p>x</p>", WordCount: 6}), "save draft")
	drafts, err := r.st.ListDrafts(ctx, r.tenant, r.site.ID, store.Page{Limit: 100})
	apptest.Must(t, err, "list drafts")
	for _, d := range drafts {
		if d.Title == title {
			return d
		}
	}
	t.Fatalf("draft %q not saved", title)
	return store.Draft{}
}

// publishDraft publishes draft through mux and returns it as stored.
func publishDraft(t *testing.T, r *publishRig, mux *asynq.ServeMux, draftID int64) store.Draft {
	t.Helper()
	id := uuid.NewString()
	_, err := r.st.CreateJobs(apptest.Context(t), r.tenant, "", []store.NewJob{{ID: id, Type: tasks.TypePublish,
		Queue: jobs.QueueDefault, SiteID: r.site.ID, SubjectID: draftID, Params: json.RawMessage(`{"status":"publish"}`)}})
	apptest.Must(t, err, "create publish job")
	payload, err := json.Marshal(tasks.Payload{TenantID: r.tenant, JobID: id, SubjectID: draftID})
	apptest.Must(t, err, "payload")
	if err := mux.ProcessTask(apptest.Context(t), asynq.NewTask(tasks.TypePublish, payload)); err != nil {
		t.Fatalf("publish draft %d: %v", draftID, err)
	}
	d, err := r.st.GetDraft(apptest.Context(t), r.tenant, draftID)
	apptest.Must(t, err, "get draft")
	if d.WPPostID == nil || d.WPLink == nil || apptest.Deref(d.WPStatus) != "publish" {
		t.Fatalf("draft %d not published: post %v, link %v", draftID, d.WPPostID, d.WPLink)
	}
	return d
}

// runBacklinks delivers job once through mux and returns the delivery's
// error and the job as recorded.
func runBacklinks(t *testing.T, r *publishRig, mux *asynq.ServeMux, job store.Job) (store.Job, error) {
	t.Helper()
	payload, err := json.Marshal(tasks.Payload{TenantID: r.tenant, JobID: job.ID, SubjectID: job.SubjectID})
	apptest.Must(t, err, "payload")
	err = mux.ProcessTask(apptest.Context(t), asynq.NewTask(tasks.TypeBacklinks, payload))
	return r.job(t, job.ID), err
}

// TestBacklinks: with back-links on (2), publishing a post queues a
// post:backlinks pass that links it from the two older Presswork posts
// closest to its title, never the third; a pass cut off mid-way (after
// WordPress stored an update whose answer was lost) is retried and leaves
// every chosen post with exactly one link and one record per pair; a
// third run changes nothing. A pass that meets an older post's draft
// locked changes nothing and is retried.
func TestBacklinks(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	r := newPublishRig(t, h, "backlinks", fakewp.Config{}, "", nil)
	queue := &queuedJobs{}
	mux := asynq.NewServeMux()
	worker.Register(mux, worker.Deps{Store: r.st, Box: h.App.Box, WordPressHTTP: h.App.WordPressClient(),
		Embedder: offline.NewEmbedder(0), Jobs: queue, Costs: h.App.Config.Costs, Log: h.App.Log})

	burr := publishDraft(t, r, mux, addDraft(t, r, "Burr grinders for espresso compared").ID)
	cleaning := publishDraft(t, r, mux, addDraft(t, r, "Cleaning your espresso grinder").ID)
	tomatoes := publishDraft(t, r, mux, addDraft(t, r, "Growing tomatoes on a balcony").ID)
	if n := len(queue.ofType(tasks.TypeBacklinks)); n != 0 {
		t.Fatalf("%d back-link passes queued with back-links off, want none", n)
	}
	older := []store.Draft{burr, cleaning, tomatoes}
	before := map[int64]string{}
	for _, d := range older {
		before[*d.WPPostID] = r.wp.PostContent(*d.WPPostID)
	}

	backlinks := 2
	_, err := r.st.UpdateSite(apptest.Context(t), r.tenant, r.site.ID, store.SiteFields{Backlinks: &backlinks})
	apptest.Must(t, err, "turn back-links on")
	fresh := publishDraft(t, r, mux, r.draft.ID) // "Choosing an Espresso Grinder"
	queued := queue.ofType(tasks.TypeBacklinks)
	if len(queued) != 1 || queued[0].SubjectID != fresh.ID {
		t.Fatalf("back-link passes queued: %+v, want one for draft %d", queued, fresh.ID)
	}
	job := queued[0]

	// While another job holds the cleaning post's draft (a republish, or
	// another pass), the pass changes nothing and is retried.
	lock, err := r.st.LockDraft(apptest.Context(t), cleaning.ID)
	apptest.Must(t, err, "lock the cleaning draft")
	if j, err := runBacklinks(t, r, mux, job); err == nil || j.State == store.JobSucceeded {
		t.Fatalf("attempt while the cleaning draft is locked: %v, job %s; want a retry", err, j.State)
	}
	lock.Unlock()
	for _, d := range older {
		if content := r.wp.PostContent(*d.WPPostID); content != before[*d.WPPostID] {
			t.Fatalf("the attempt that met the lock changed the post of %q:\n%s", d.Title, content)
		}
	}

	// The pass takes the closest post first (the cleaning one), then the
	// burr grinders one. The first attempt dies on the second: WordPress
	// stores its update each time but every answer is lost, the client's
	// own repeats included.
	burrRoute := fmt.Sprintf("/wp/v2/posts/%d", *burr.WPPostID)
	for range 3 {
		r.wp.Inject(http.MethodPost, burrRoute, fakewp.Fault{Drop: true})
	}
	j, err := runBacklinks(t, r, mux, job)
	if err == nil || j.State == store.JobSucceeded {
		t.Fatalf("cut-off attempt: %v, job %s; want it cut off", err, j.State)
	}
	if got := strings.Count(r.wp.PostContent(*burr.WPPostID), *fresh.WPLink); got != 1 {
		t.Fatalf("after the cut-off attempt the burr post has %d links to the new post, want 1 (the lost update)", got)
	}
	recorded, err := r.st.BacklinksTo(apptest.Context(t), r.tenant, fresh.ID)
	apptest.Must(t, err, "back-links")
	if len(recorded) != 1 || recorded[0].FromDraftID != cleaning.ID {
		t.Fatalf("after the cut-off attempt: back-links %+v, want only the cleaning post's (draft %d)", recorded, cleaning.ID)
	}

	j, err = runBacklinks(t, r, mux, job)
	if err != nil || j.State != store.JobSucceeded || j.CreditsCharged != 0 {
		t.Fatalf("second attempt: %v, job %s (%q), charged %d; want succeeded and free", err, j.State,
			apptest.Deref(j.LastError), j.CreditsCharged)
	}
	var res struct {
		Count          int `json:"count"`
		RecordedBefore int `json:"recorded_before"`
		Linked         []struct {
			DraftID int64 `json:"draft_id"`
			Found   bool  `json:"found"`
		} `json:"linked"`
	}
	apptest.Must(t, json.Unmarshal(j.Result, &res), "result")
	if res.Count != 2 || res.RecordedBefore != 1 || len(res.Linked) != 1 || res.Linked[0].DraftID != burr.ID ||
		!res.Linked[0].Found {
		t.Errorf("result %s: want count 2, 1 recorded before, the burr post found linked (not updated again)", j.Result)
	}
	checkBacklinks(t, r, fresh, []store.Draft{burr, cleaning}, tomatoes, before)

	// A third run changes nothing: no update is sent.
	updates := 0
	for _, d := range older {
		updates += r.wp.Count(http.MethodPost, fmt.Sprintf("/wp/v2/posts/%d", *d.WPPostID))
	}
	again := jobs.BacklinksJob(uuid.NewString(), r.site.ID, fresh.ID)
	made, err := r.st.CreateJobs(apptest.Context(t), r.tenant, "", []store.NewJob{again})
	apptest.Must(t, err, "create a third pass")
	if j, err := runBacklinks(t, r, mux, made.Created[0]); err != nil || j.State != store.JobSucceeded {
		t.Fatalf("third pass: %v, job %s (%q)", err, j.State, apptest.Deref(j.LastError))
	}
	after := 0
	for _, d := range older {
		after += r.wp.Count(http.MethodPost, fmt.Sprintf("/wp/v2/posts/%d", *d.WPPostID))
	}
	if after != updates {
		t.Errorf("the third pass sent %d updates, want none", after-updates)
	}
	checkBacklinks(t, r, fresh, []store.Draft{burr, cleaning}, tomatoes, before)
}

// checkBacklinks checks that each of linked has exactly one link to fresh,
// placed before its marker, with its content otherwise unchanged, and one
// record; that other is untouched and unrecorded.
func checkBacklinks(t *testing.T, r *publishRig, fresh store.Draft, linked []store.Draft, other store.Draft,
	before map[int64]string) {
	t.Helper()
	for _, d := range linked {
		content := r.wp.PostContent(*d.WPPostID)
		if got := strings.Count(content, *fresh.WPLink); got != 1 {
			t.Errorf("post of %q has %d links to the new post, want 1:\n%s", d.Title, got, content)
		}
		marker := tasks.DraftMarkerComment(d.ID)
		link, mark := strings.Index(content, *fresh.WPLink), strings.Index(content, marker)
		if mark < 0 || link > mark {
			t.Errorf("post of %q: the link is not before its marker:\n%s", d.Title, content)
		}
		want := before[*d.WPPostID]
		if stripped := strings.Replace(content, relatedParagraph(fresh)+"\n", "", 1); stripped != want {
			t.Errorf("post of %q changed beyond the link:\n%s\nwas\n%s", d.Title, content, want)
		}
	}
	if content := r.wp.PostContent(*other.WPPostID); content != before[*other.WPPostID] {
		t.Errorf("post of %q changed:\n%s", other.Title, content)
	}
	recorded, err := r.st.BacklinksTo(apptest.Context(t), r.tenant, fresh.ID)
	apptest.Must(t, err, "back-links")
	from := map[int64]int64{}
	for _, b := range recorded {
		from[b.FromDraftID] = b.WPPostID
	}
	if len(recorded) != len(linked) {
		t.Errorf("%d back-links recorded, want %d: %+v", len(recorded), len(linked), recorded)
	}
	for _, d := range linked {
		if from[d.ID] != *d.WPPostID {
			t.Errorf("no back-link recorded from %q (post %d): %+v", d.Title, *d.WPPostID, recorded)
		}
	}
}

func relatedParagraph(d store.Draft) string {
	return fmt.Sprintf(`<p>Related: <a href="%s">%s</a></p>`, *d.WPLink, d.Title)
}
