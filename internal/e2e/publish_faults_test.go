package e2e_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/app/schedulerapp"
	"github.com/presswork/presswork/internal/faultproxy"
	"github.com/presswork/presswork/internal/testenv"
)

const crashChildEnv = "PRESSWORK_TEST_PUBLISH_CRASH_CHILD"

// isPostCreate says whether a request to WordPress creates a post, in
// either URL style.
func isPostCreate(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	route := r.URL.Query().Get("rest_route")
	if route == "" {
		route = strings.TrimPrefix(r.URL.Path, "/wp-json")
	}
	return route == "/wp/v2/posts"
}

// proxyTo returns a reverse proxy to a test WordPress.
func proxyTo(t *testing.T, wp testenv.WordPressSite) *httputil.ReverseProxy {
	t.Helper()
	target, err := url.Parse(wp.URL)
	apptest.Must(t, err, "parse WordPress URL")
	return httputil.NewSingleHostReverseProxy(target)
}

// TestPublishSurvivesSIGKILLAfterRemoteCreate kills the publishing worker
// process (SIGKILL) after WordPress created the post and before Presswork
// stored its id: a proxy in front of WordPress lets the create through and
// kills the worker before passing the reply on. Asynq's record of the task
// is then emptied (the worker's lease is gone with it, as after a Redis
// loss) and the reconciler delivers the job again to a new worker. After
// the retry the site has exactly one post of the draft, and the draft
// records it.
func TestPublishSurvivesSIGKILLAfterRemoteCreate(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		runWorkerProcess(t, func(*slog.Logger) providers.Set { return providers.Offline() })
		return
	}
	t.Parallel()
	wp := testenv.WordPress(t, testenv.WPOptions{})
	var worker atomic.Pointer[exec.Cmd]
	killed := make(chan struct{})
	var once sync.Once
	proxy := proxyTo(t, wp)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cmd := worker.Load()
		if cmd == nil || !isPostCreate(r) {
			proxy.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r) // WordPress creates the post...
		once.Do(func() {
			_ = cmd.Process.Kill() // ...and the worker dies before it hears so.
			_, _ = cmd.Process.Wait()
			close(killed)
		})
		http.Error(w, "worker is gone", http.StatusBadGateway)
	}))
	t.Cleanup(front.Close)

	h := apptest.Start(t)
	stop := h.StartWorker(t)
	r := startPublishRun(t, h, "crash", testenv.WordPressSite{URL: front.URL, User: wp.User, AppPassword: wp.AppPassword}, 1, nil)
	r.wp = wp
	stop()

	var acc apptest.Accepted
	r.api.do(http.MethodPost, "/v1/drafts/publish", map[string]any{"draft_ids": r.draftIDs()}, &acc)
	jobID := acc.Jobs[0].ID
	var out bytes.Buffer
	cmd := startWorkerProcess(t, h, "TestPublishSurvivesSIGKILLAfterRemoteCreate", crashChildEnv, &out, "LOG_LEVEL=error")
	worker.Store(cmd)
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case <-killed:
	case <-time.After(90 * time.Second):
		t.Fatalf("the worker never created the post; its output:\n%s", out.String())
	}

	d := r.draft(r.drafts[0].ID)
	if d.WPPostID != nil {
		t.Fatalf("draft records post %d: the worker was killed too late to test the crash window", *d.WPPostID)
	}
	if n := len(postsOfDraft(wpPosts(t, wp), d.ID)); n != 1 {
		t.Fatalf("WordPress has %d posts of the draft after the crash, want the 1 created", n)
	}

	// The worker's task is lost with it; the reconciler delivers the job
	// again, with its own id, to a new worker.
	flushRedis(t, h)
	rec, closeRec := schedulerapp.NewReconciler(h.App)
	defer closeRec()
	rec.Grace = 0
	rep, err := rec.Once(t.Context())
	apptest.Must(t, err, "reconcile")
	if rep.Reenqueued != 1 {
		t.Fatalf("reconciler re-enqueued %d jobs, want the 1 lost publish", rep.Reenqueued)
	}
	h.StartWorker(t)
	j := r.api.waitJob(jobID)

	d = r.draft(d.ID)
	posts := postsOfDraft(wpPosts(t, wp), d.ID)
	if len(posts) != 1 || d.WPPostID == nil || posts[0].ID != *d.WPPostID || posts[0].Status != "publish" {
		t.Fatalf("after the retry: %d posts of the draft %+v, draft records %v; want exactly one, published, recorded",
			len(posts), posts, d.WPPostID)
	}
	if j.Attempts < 2 {
		t.Errorf("job took %d attempts, want the killed one and the retry", j.Attempts)
	}
}

// flushRedis empties the test's Redis database.
func flushRedis(t *testing.T, h *apptest.Harness) {
	t.Helper()
	opt, err := redis.ParseURL(h.Env["REDIS_URL"])
	apptest.Must(t, err, "parse REDIS_URL")
	rc := redis.NewClient(opt)
	defer rc.Close()
	apptest.Must(t, rc.FlushDB(t.Context()).Err(), "FLUSHDB")
}

// TestPublishThroughFlakySite publishes drafts to a WordPress behind a proxy
// that fails 30% of requests with a 500 or a timeout, some of them after
// WordPress applied the request; every draft ends up published exactly
// once, with one copy of each image.
func TestPublishThroughFlakySite(t *testing.T) {
	t.Parallel()
	wp := testenv.WordPress(t, testenv.WPOptions{})
	target, err := url.Parse(wp.URL)
	apptest.Must(t, err, "parse WordPress URL")
	flaky := faultproxy.New(target, 7)
	flaky.SetShare(0.3)
	front := httptest.NewServer(flaky)
	t.Cleanup(func() { flaky.Close(); front.Close() })

	h := apptest.Start(t, apptest.WithEnv("WORDPRESS_TIMEOUT", "1s"), apptest.WithEnv("RETRY_BASE_DELAY", "50ms"),
		apptest.WithEnv("RETRY_MAX_DELAY", "500ms"))
	h.StartWorker(t)
	const drafts = 4
	r := startPublishRun(t, h, "flaky", testenv.WordPressSite{URL: front.URL, User: wp.User, AppPassword: wp.AppPassword}, drafts, nil)
	r.wp = wp

	start := time.Now()
	var acc apptest.Accepted
	r.api.do(http.MethodPost, "/v1/drafts/publish", map[string]any{"draft_ids": r.draftIDs()}, &acc)
	t.Cleanup(func() {
		if t.Failed() {
			for _, j := range r.api.jobs() {
				t.Logf("job %s %s: %s, %d attempts, phase %s, error %q", j.ID, j.Type, j.State, j.Attempts, j.Phase, apptest.Deref(j.LastError))
			}
		}
	})
	b := r.api.waitBatch(acc.BatchID, drafts)
	elapsed := time.Since(start)

	posts := presswork(wpPosts(t, wp))
	for _, d := range r.drafts {
		mine := postsOfDraft(posts, d.ID)
		got := r.draft(d.ID)
		if len(mine) != 1 || got.WPPostID == nil || mine[0].ID != *got.WPPostID || mine[0].Status != "publish" {
			t.Errorf("draft %d: %d posts in WordPress, draft records %v; want exactly one, published", d.ID, len(mine), got.WPPostID)
		}
	}
	if len(posts) != drafts {
		t.Errorf("WordPress has %d posts, want %d", len(posts), drafts)
	}
	var media []struct {
		Title struct {
			Raw string `json:"raw"`
		} `json:"title"`
	}
	wpGet(t, wp, "/wp/v2/media", url.Values{"per_page": {"100"}, "context": {"edit"}}, &media)
	seen := map[string]int{}
	for _, m := range media {
		seen[m.Title.Raw]++
	}
	for title, n := range seen {
		if n != 1 {
			t.Errorf("media %q uploaded %d times, want once", title, n)
		}
	}
	if len(media) != drafts {
		t.Errorf("WordPress has %d media items, want %d (one featured image per draft)", len(media), drafts)
	}
	attempts := 0
	for _, j := range r.api.jobs() {
		if j.Type == "post:publish" {
			attempts += j.Attempts
		}
	}
	t.Logf("flaky site: %d of %d requests failed; %d drafts published in %d attempts, %v (%v per draft); batch %+v",
		flaky.Failures(), flaky.Requests(), drafts, attempts, elapsed.Round(time.Millisecond),
		(elapsed / drafts).Round(time.Millisecond), b.ByState)
	if flaky.Failures() == 0 {
		t.Error("the proxy failed no request: the test proved nothing")
	}
}
