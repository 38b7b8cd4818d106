package worker_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
	"github.com/presswork/presswork/internal/worker"
)

// createRoute is the REST route of a post create (an update goes to
// /wp/v2/posts/{id}).
const createRoute = "/wp/v2/posts"

// publishRig is a tenant with a draft whose site is a fake WordPress, and
// the workers registered on a mux a test calls directly, as the
// worker does.
type publishRig struct {
	st      *store.Store
	tenant  int64
	opening int64
	site    store.Site
	draft   store.Draft
	wp      *fakewp.Server
	mux     *asynq.ServeMux
}

// newPublishRig seeds a tenant, a draft and its site, points the site at a
// new fake WordPress with the fake's credentials (sealed as the API seals
// them), records the site healthy, and builds the workers. seoPlugin is
// the site's SEO plugin ("" leaves the default); transport, if not nil,
// wraps the worker's HTTP transport to WordPress.
func newPublishRig(t *testing.T, h *apptest.Harness, slug string, cfg fakewp.Config, seoPlugin string,
	transport func(http.RoundTripper) http.RoundTripper) *publishRig {
	t.Helper()
	st := h.App.Store
	const opening = 10
	tk, _ := h.Tenant(t, slug, opening)
	tenant := tk.Tenant.ID
	draft := seedDraft(t, st, tenant, slug)
	wp := fakewp.New(t, cfg)

	sealed, err := h.App.Box.Seal([]byte(fakewp.Password), secret.SitePasswordAD(tenant))
	apptest.Must(t, err, "seal the application password")
	url, user := wp.SiteURL(), fakewp.User
	fields := store.SiteFields{URL: &url, WPUser: &user, AppPasswordEnc: sealed}
	if seoPlugin != "" {
		fields.SEOPlugin = &seoPlugin
	}
	_, err = st.UpdateSite(apptest.Context(t), tenant, draft.SiteID, fields)
	apptest.Must(t, err, "point the site at the fake")
	apptest.Must(t, st.RecordSiteCheck(apptest.Context(t), tenant, draft.SiteID, store.SiteCheck{Health: store.HealthHealthy}),
		"record the site healthy")
	site, err := st.GetSite(apptest.Context(t), tenant, draft.SiteID)
	apptest.Must(t, err, "get site")

	hc := h.App.WordPressClient()
	if transport != nil {
		hc.Transport = transport(hc.Transport)
	}
	mux := asynq.NewServeMux()
	worker.Register(mux, worker.Deps{Store: st, Box: h.App.Box, WordPressHTTP: hc, Costs: h.App.Config.Costs, Log: h.App.Log})
	return &publishRig{st: st, tenant: tenant, opening: opening, site: site, draft: draft, wp: wp, mux: mux}
}

// publishJob creates a post:publish job for the rig's draft, asking for a
// published post, and returns its id.
func (r *publishRig) publishJob(t *testing.T) string {
	t.Helper()
	id := uuid.NewString()
	_, err := r.st.CreateJobs(apptest.Context(t), r.tenant, "", []store.NewJob{{ID: id, Type: tasks.TypePublish,
		Queue: jobs.QueueDefault, SiteID: r.site.ID, SubjectID: r.draft.ID, Params: json.RawMessage(`{"status":"publish"}`)}})
	apptest.Must(t, err, "create publish job")
	return id
}

// deliver runs one delivery of a publish job through the wrapped handler,
// as the worker would (on its first attempt).
func (r *publishRig) deliver(t *testing.T, jobID string) error {
	t.Helper()
	payload, err := json.Marshal(tasks.Payload{TenantID: r.tenant, JobID: jobID, SubjectID: r.draft.ID})
	apptest.Must(t, err, "payload")
	return r.mux.ProcessTask(apptest.Context(t), asynq.NewTask(tasks.TypePublish, payload))
}

func (r *publishRig) job(t *testing.T, id string) store.Job {
	t.Helper()
	return apptest.Job(t, r.st, r.tenant, id)
}

func (r *publishRig) getDraft(t *testing.T) store.Draft {
	t.Helper()
	d, err := r.st.GetDraft(apptest.Context(t), r.tenant, r.draft.ID)
	apptest.Must(t, err, "get draft")
	return d
}

func (r *publishRig) getSite(t *testing.T) store.Site {
	t.Helper()
	s, err := r.st.GetSite(apptest.Context(t), r.tenant, r.site.ID)
	apptest.Must(t, err, "get site")
	return s
}

// checkFree checks that a publish job cost nothing: no charge, no ledger
// entry, the tenant's balance untouched.
func (r *publishRig) checkFree(t *testing.T, j store.Job) {
	t.Helper()
	entries := apptest.CheckCredits(t, r.st, r.tenant, r.opening)
	if got := apptest.JobLedger(entries, j.ID); j.CreditsCharged != 0 || got != "" {
		t.Errorf("publish job charged %d with ledger %q, want nothing", j.CreditsCharged, got)
	}
}

// published checks that a job succeeded and that the draft is published
// as post id, and returns the draft.
func (r *publishRig) published(t *testing.T, jobID string, attempts int) store.Draft {
	t.Helper()
	j := r.job(t, jobID)
	d := r.getDraft(t)
	if j.State != store.JobSucceeded || j.Attempts != attempts {
		t.Fatalf("job %s after %d attempts (error %q), want succeeded after %d", j.State, j.Attempts,
			apptest.Deref(j.LastError), attempts)
	}
	if d.Status != store.DraftPublished || d.WPPostID == nil || apptest.Deref(d.WPStatus) != "publish" {
		t.Fatalf("draft status %s, post %v, post status %q; want published with a stored publish post",
			d.Status, d.WPPostID, apptest.Deref(d.WPStatus))
	}
	var result struct {
		PostID int64 `json:"post_id"`
	}
	apptest.Must(t, json.Unmarshal(j.Result, &result), "decode job result")
	if result.PostID != *d.WPPostID {
		t.Errorf("job result names post %d, the draft stores %d", result.PostID, *d.WPPostID)
	}
	r.checkFree(t, j)
	return d
}

// TestPublish runs post:publish jobs against a fake WordPress through the
// wrapped handler, so that every outcome is recorded on the job row.
func TestPublish(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)

	// WordPress refuses a field of the post: the job fails at once with
	// WordPress's words, costs nothing, and the site stays healthy.
	t.Run("invalid field fails at once", func(t *testing.T) {
		t.Parallel()
		r := newPublishRig(t, h, "pub-field", fakewp.Config{}, "", nil)
		r.wp.Inject(http.MethodPost, createRoute, fakewp.Fault{Status: http.StatusBadRequest,
			Body: `{"code":"rest_invalid_param","message":"Invalid parameter(s): content",` +
				`"data":{"status":400,"params":{"content":"The block markup is not allowed."},"details":{}}}`})
		id := r.publishJob(t)

		err := r.deliver(t, id)
		if !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("delivery returned %v, want a failure without retry", err)
		}
		j := r.job(t, id)
		if j.State != store.JobFailed || j.Attempts != 1 {
			t.Errorf("job %s after %d attempts, want failed after 1", j.State, j.Attempts)
		}
		if msg := apptest.Deref(j.LastError); !strings.Contains(msg, "content: The block markup is not allowed.") ||
			!strings.Contains(msg, "rest_invalid_param") {
			t.Errorf("job error %q, want WordPress's field message", msg)
		}
		r.checkFree(t, j)
		if s := r.getSite(t); s.Health != store.HealthHealthy || s.HealthReason != "" {
			t.Errorf("site health %s (%q), want healthy", s.Health, s.HealthReason)
		}
		if d := r.getDraft(t); d.WPPostID != nil || d.Status == store.DraftPublished || r.wp.Posts() != 0 {
			t.Errorf("draft %s with post %v, %d posts on the site; want nothing published", d.Status, d.WPPostID, r.wp.Posts())
		}
		if n := r.wp.Count(http.MethodPost, createRoute); n != 1 {
			t.Errorf("%d post creates, want 1", n)
		}
	})

	// WordPress refuses the credentials: the job fails for good and the
	// site is marked unhealthy with the reason.
	t.Run("refused credentials mark the site unhealthy", func(t *testing.T) {
		t.Parallel()
		r := newPublishRig(t, h, "pub-auth", fakewp.Config{}, "", nil)
		r.wp.Inject(http.MethodPost, createRoute, fakewp.Fault{Status: http.StatusUnauthorized,
			Body: `{"code":"incorrect_password","message":"The provided password is an invalid application password.",` +
				`"data":{"status":401}}`})
		id := r.publishJob(t)

		if err := r.deliver(t, id); !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("delivery returned %v, want a failure without retry", err)
		}
		j := r.job(t, id)
		if j.State != store.JobFailed || j.Attempts != 1 || !strings.Contains(apptest.Deref(j.LastError), "incorrect_password") {
			t.Errorf("job %s after %d attempts with error %q; want failed after 1, naming incorrect_password",
				j.State, j.Attempts, apptest.Deref(j.LastError))
		}
		r.checkFree(t, j)
		s := r.getSite(t)
		if s.Health != store.HealthUnhealthy || !strings.Contains(s.HealthReason, "application password") ||
			s.CheckedAt == nil {
			t.Errorf("site health %s (%q), checked %v; want unhealthy with the reason", s.Health, s.HealthReason, s.CheckedAt)
		}
		if r.wp.Posts() != 0 {
			t.Errorf("%d posts on the site, want none", r.wp.Posts())
		}
	})

	// The draft's post was deleted in WordPress: publishing again creates
	// a new post and stores its id.
	t.Run("deleted post is created again", func(t *testing.T) {
		t.Parallel()
		r := newPublishRig(t, h, "pub-deleted", fakewp.Config{}, "", nil)
		first := r.publishJob(t)
		apptest.Must(t, r.deliver(t, first), "first publish")
		old := *r.published(t, first, 1).WPPostID
		if !r.wp.DeletePost(old) {
			t.Fatalf("the fake holds no post %d", old)
		}

		second := r.publishJob(t)
		apptest.Must(t, r.deliver(t, second), "second publish")
		d := r.published(t, second, 1)
		if *d.WPPostID == old {
			t.Errorf("the draft still stores the deleted post %d", old)
		}
		if n := r.wp.Count(http.MethodGet, fmt.Sprintf("/wp/v2/posts/%d", old)); n != 1 {
			t.Errorf("the deleted post was looked up %d times, want once", n)
		}
		if r.wp.Posts() != 1 || r.wp.Count(http.MethodPost, createRoute) != 2 {
			t.Errorf("%d posts after %d creates, want 1 after 2", r.wp.Posts(), r.wp.Count(http.MethodPost, createRoute))
		}
	})

	// WordPress applies the create but its answer is lost: the job is
	// retried, and the retry adopts the post carrying the draft's marker
	// instead of creating a second.
	for _, lost := range []struct {
		name  string
		fault fakewp.Fault
	}{
		{"dropped connection", fakewp.Fault{Drop: true}},
		{"cut-off answer", fakewp.Fault{CutOff: true}},
	} {
		t.Run("lost create reply: "+lost.name, func(t *testing.T) {
			t.Parallel()
			r := newPublishRig(t, h, "pub-lost-"+strings.Fields(lost.name)[0], fakewp.Config{}, "", nil)
			r.wp.Inject(http.MethodPost, createRoute, lost.fault)
			id := r.publishJob(t)

			err := r.deliver(t, id)
			if err == nil || errors.Is(err, asynq.SkipRetry) {
				t.Fatalf("first delivery returned %v, want a retryable failure", err)
			}
			j := r.job(t, id)
			if j.State != store.JobQueued || j.LastError == nil {
				t.Errorf("job %s with error %q after the lost reply, want queued for a retry with a reason",
					j.State, apptest.Deref(j.LastError))
			}
			if r.wp.Posts() != 1 || r.getDraft(t).WPPostID != nil {
				t.Fatalf("%d posts on the site, draft stores %v; want the created post unknown to Presswork",
					r.wp.Posts(), r.getDraft(t).WPPostID)
			}

			apptest.Must(t, r.deliver(t, id), "the retry")
			d := r.published(t, id, 2)
			if n := r.wp.Count(http.MethodPost, createRoute); n != 1 || r.wp.Posts() != 1 {
				t.Errorf("%d post creates, %d posts; want the retry to adopt the first post", n, r.wp.Posts())
			}
			marker := fmt.Sprintf("presswork-draft-%d", r.draft.ID)
			if !slices.ContainsFunc(r.wp.Requests(), func(q fakewp.Request) bool {
				return q.Method == http.MethodGet && q.Route == createRoute && q.Query.Get("search") == marker
			}) {
				t.Errorf("the retry never searched the site for %q", marker)
			}
			if n := r.wp.Count(http.MethodPost, fmt.Sprintf("/wp/v2/posts/%d", *d.WPPostID)); n == 0 {
				t.Errorf("the adopted post %d was never updated", *d.WPPostID)
			}
		})
	}

	// Two deliveries of the same job at once: the draft's lock lets one
	// publish; the other steps aside. The first delivery's create is held
	// until the other delivery has returned, so the two overlap.
	t.Run("concurrent deliveries make one post", func(t *testing.T) {
		t.Parallel()
		firstBack := make(chan struct{})
		var once sync.Once
		gate := func(next http.RoundTripper) http.RoundTripper {
			return holdCreates{next: next, until: firstBack}
		}
		r := newPublishRig(t, h, "pub-concurrent", fakewp.Config{}, "", gate)
		id := r.publishJob(t)

		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() {
				errs[i] = r.deliver(t, id)
				once.Do(func() { close(firstBack) })
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("delivery %d: %v", i, err)
			}
		}
		r.published(t, id, 1) // the delivery that stepped aside did not start the job
		if n := r.wp.Count(http.MethodPost, createRoute); n != 1 || r.wp.Posts() != 1 {
			t.Errorf("%d post creates reached WordPress, %d posts; want 1 and 1", n, r.wp.Posts())
		}
	})

	// A Yoast site whose WordPress keeps only the registered SEO title: the
	// report lists it as kept and the other fields as dropped.
	t.Run("seo report", func(t *testing.T) {
		t.Parallel()
		r := newPublishRig(t, h, "pub-seo", fakewp.Config{RegisteredMeta: []string{"_yoast_wpseo_title"}}, "yoast", nil)
		id := r.publishJob(t)
		apptest.Must(t, r.deliver(t, id), "publish")
		d := r.published(t, id, 1)

		type report struct {
			Status string `json:"status"`
			SEO    *struct {
				Plugin  string   `json:"plugin"`
				Kept    []string `json:"kept"`
				Dropped []string `json:"dropped"`
			} `json:"seo"`
		}
		var stored report
		apptest.Must(t, json.Unmarshal(d.PublishReport, &stored), "decode the draft's publish report")
		var result struct {
			Report report `json:"report"`
		}
		apptest.Must(t, json.Unmarshal(r.job(t, id).Result, &result), "decode the job result")
		for _, rep := range []report{stored, result.Report} {
			if rep.Status != "publish" || rep.SEO == nil {
				t.Fatalf("report %+v, want a publish report with SEO", rep)
			}
			if rep.SEO.Plugin != "yoast" || !slices.Equal(rep.SEO.Kept, []string{"_yoast_wpseo_title"}) ||
				!slices.Equal(rep.SEO.Dropped, []string{"_yoast_wpseo_metadesc", "_yoast_wpseo_focuskw"}) {
				t.Errorf("SEO report %+v, want yoast with the title kept, description and focus keyword dropped", *rep.SEO)
			}
		}
	})
}

// holdCreates holds every post create until until is closed (or a deadline
// passes, so that a failing test cannot hang), then sends it on.
type holdCreates struct {
	next  http.RoundTripper
	until <-chan struct{}
}

func (hc holdCreates) RoundTrip(req *http.Request) (*http.Response, error) {
	create := strings.HasSuffix(req.URL.Path, "/wp-json"+createRoute) || req.URL.Query().Get("rest_route") == createRoute
	if req.Method == http.MethodPost && create {
		select {
		case <-hc.until:
		case <-time.After(20 * time.Second):
			return nil, errors.New("holdCreates: the other delivery never returned")
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	return hc.next.RoundTrip(req)
}
