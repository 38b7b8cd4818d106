package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/testenv"
)

// TestBacklinksOnWordPress: on a real WordPress, a site with back-links
// (2) has each post it publishes linked from its older Presswork posts,
// once each, through the post:backlinks job every publish queues.
func TestBacklinksOnWordPress(t *testing.T) {
	t.Parallel()
	wp := testenv.WordPress(t, testenv.WPOptions{})
	h := apptest.Start(t)
	h.StartWorker(t)
	r := startPublishRun(t, h, "backlinks", wp, 3, map[string]any{"backlinks": 2})

	for _, d := range r.drafts {
		var acc apptest.Accepted
		r.api.do(http.MethodPost, "/v1/drafts/publish", map[string]any{"draft_ids": []int64{d.ID}}, &acc)
		r.api.waitJob(acc.Jobs[0].ID)
		waitQueuedJob(t, r, "backlinks-after-"+acc.Jobs[0].ID)
	}

	posts := wpPosts(t, wp)
	for i, older := range r.drafts {
		mine := postsOfDraft(posts, older.ID)
		if len(mine) != 1 {
			t.Fatalf("draft %d has %d posts, want 1", older.ID, len(mine))
		}
		content := mine[0].Content.Raw
		for j, newer := range r.drafts {
			link := apptest.Deref(r.draft(newer.ID).WPLink)
			want := 0
			if j > i {
				want = 1 // every older post is among the 2 closest: there are at most 2
			}
			if got := strings.Count(content, `href="`+link+`"`); got != want {
				t.Errorf("post of draft %d links %d times to the post of draft %d, want %d:\n%s",
					older.ID, got, newer.ID, want, content)
			}
		}
		if marker := fmt.Sprintf("<!-- presswork-draft-%d -->", older.ID); !strings.HasSuffix(strings.TrimSpace(content), marker) {
			t.Errorf("post of draft %d no longer ends with its marker:\n%s", older.ID, content)
		}
	}
}

// waitQueuedJob waits for a job the worker queues by itself (so that it
// may not exist yet) to succeed.
func waitQueuedJob(t *testing.T, r publishRun, id string) {
	t.Helper()
	var j store.Job
	apptest.Eventually(t, 60*time.Second, "job "+id+" succeeds", func() (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.api.c.Do(ctx, http.MethodGet, "/v1/jobs/"+id, nil, &j); err != nil {
			return false, nil // not queued yet
		}
		if j.Final() && j.State != store.JobSucceeded {
			return false, fmt.Errorf("job %s ended %s: %s", id, j.State, apptest.Deref(j.LastError))
		}
		return j.State == store.JobSucceeded, nil
	})
}
