package worker_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
)

// TestPublishWithFailedFeaturedImage: a draft whose featured image failed
// is not published to a site that needs one (the job fails and says why),
// and is published without it once the site allows that.
func TestPublishWithFailedFeaturedImage(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	r := newPublishRig(t, h, "pub-failed-image", fakewp.Config{}, "", nil)
	ctx := apptest.Context(t)

	imageJob := apptest.FreeJob(t, r.st, r.tenant, tasks.TypeImage, r.site.ID, r.draft.ID)
	_, err := r.st.PrepareImages(ctx, r.tenant, r.draft.ID, imageJob, []store.ImageSlot{{
		Role: store.ImageRoleFeatured, Prompt: "a grinder", AltText: "A grinder"}})
	apptest.Must(t, err, "prepare the image")
	apptest.Must(t, r.st.FailJob(ctx, r.tenant, imageJob, store.Failure{Message: "the prediction failed: NSFW"}), "fail the image job")

	refused := r.publishJob(t)
	if err := r.deliver(t, refused); !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("delivery returned %v, want a failure without retry", err)
	}
	j := r.job(t, refused)
	if msg := apptest.Deref(j.LastError); j.State != store.JobFailed || !strings.Contains(msg, "featured image") ||
		!strings.Contains(msg, "NSFW") || !strings.Contains(msg, "publish_without_image") {
		t.Fatalf("job %s with error %q, want failed naming the image's failure and the setting", j.State, msg)
	}
	if r.wp.Posts() != 0 {
		t.Fatalf("%d posts on the site, want none", r.wp.Posts())
	}

	allow := true
	_, err = r.st.UpdateSite(ctx, r.tenant, r.site.ID, store.SiteFields{PublishWithoutImage: &allow})
	apptest.Must(t, err, "let the site publish without a featured image")
	r.site = r.getSite(t)
	if !r.site.PublishWithoutImage {
		t.Fatal("the site does not keep publish_without_image")
	}
	published := r.publishJob(t)
	apptest.Must(t, r.deliver(t, published), "publish without the image")
	r.published(t, published, 1)
	if n := r.wp.Count(http.MethodPost, "/wp/v2/media"); n != 0 {
		t.Errorf("%d media uploads, want none", n)
	}
	for _, q := range r.wp.Requests() {
		if q.Method == http.MethodPost && strings.HasPrefix(q.Route, "/wp/v2/posts") &&
			strings.Contains(string(q.Body), `"featured_media":`) && !strings.Contains(string(q.Body), `"featured_media":0`) {
			t.Errorf("post request %s sets a featured image: %s", q.Route, q.Body)
		}
	}
}
