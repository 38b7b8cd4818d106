package e2e_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/ai/replicate"
	"github.com/presswork/presswork/internal/ai/replicate/fakereplicate"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
)

// TestAutomationRetriesFailedImage: a rule making images and publishing
// meets a prediction that fails for good. The image ends failed with the
// prediction's reason and its draft is not published; once the back-off has
// passed, the next run retries the image (the prediction now succeeds) and
// the run after publishes the draft with it.
func TestAutomationRetriesFailedImage(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	fake := fakereplicate.New(t)
	fake.Script(fakereplicate.Script{Outcome: fakereplicate.Failed, Error: "NSFW content detected"})
	image, err := replicate.NewImageModel(replicate.Config{Token: fakereplicate.Token, BaseURL: fake.URL,
		ImageModel: "black-forest-labs/flux-schnell", PollInterval: time.Millisecond, Timeout: time.Minute})
	apptest.Must(t, err, "replicate model")
	models := providers.Offline()
	models.Image = image
	h.StartWorker(t, models)

	st := h.App.Store
	tk, c := h.Tenant(t, "image-retry-auto", 100)
	a := &automation{t: t, h: h, api: pipelineAPI{t: t, c: c}, tenant: tk.Tenant}
	seed := apptest.SeedIdeas(t, st, tk.Tenant.ID, 1, "retry")
	wp := fakewp.New(t, fakewp.Config{})
	a.api.do(http.MethodPatch, fmt.Sprintf("/v1/sites/%d", seed.Site.ID), map[string]any{"url": wp.SiteURL(),
		"username": fakewp.User, "application_password": fakewp.Password}, &a.site)
	if a.site.PublishWithoutImage {
		t.Fatal("a new site publishes without a featured image; want false by default")
	}
	a.api.waitJob(apptest.DraftJobs(t, c, seed.Ideas[0])[0])
	var drafts []store.Draft
	a.api.listAll(fmt.Sprintf("/v1/drafts?site_id=%d", a.site.ID), &drafts)
	if len(drafts) != 1 {
		t.Fatalf("%d drafts, want 1", len(drafts))
	}
	draft := drafts[0]
	r := a.rule([]string{store.StageImages, store.StagePublish}, 10, func(r *store.Rule) { r.AutoApprove = true })

	first := a.run(r)
	if enqueued(first, store.StageImages) != 1 || enqueued(first, store.StagePublish) != 0 {
		t.Fatalf("first run enqueued %+v, want one image job and no publish", first.Enqueued)
	}
	failed := waitFeatured(a, draft.ID, store.ImageFailed)
	if failed.Error == nil || !strings.Contains(*failed.Error, "NSFW content detected") || failed.Failures != 1 {
		t.Fatalf("failed image %+v, want the prediction's reason and 1 failure", failed)
	}

	// Within the back-off, nothing is retried or published.
	waiting := a.run(r)
	if len(waiting.Enqueued) != 0 {
		t.Fatalf("run within the back-off enqueued %+v, want nothing", waiting.Enqueued)
	}
	db := st.SQLDB()
	defer db.Close()
	_, err = db.ExecContext(t.Context(), `UPDATE images SET failed_at = now() - make_interval(secs => $2)
		WHERE draft_id = $1`, draft.ID, (store.ImageRetryBase + time.Minute).Seconds())
	apptest.Must(t, err, "let the back-off pass")

	retry := a.run(r)
	if enqueued(retry, store.StageImages) != 1 || enqueued(retry, store.StagePublish) != 0 {
		t.Fatalf("run after the back-off enqueued %+v, want one image job and no publish", retry.Enqueued)
	}
	a.finish(retry)
	ready := waitFeatured(a, draft.ID, store.ImageReady)
	if ready.ID != failed.ID || ready.Prompt != failed.Prompt || ready.Error != nil || fake.Creates() != 2 {
		t.Fatalf("image after the retry %+v, %d predictions; want the same row ready, 2 predictions", ready, fake.Creates())
	}

	publish := a.run(r)
	if enqueued(publish, store.StagePublish) != 1 || enqueued(publish, store.StageImages) != 0 {
		t.Fatalf("last run enqueued %+v, want one publish job", publish.Enqueued)
	}
	a.finish(publish)
	var d store.Draft
	a.api.do(http.MethodGet, fmt.Sprintf("/v1/drafts/%d", draft.ID), nil, &d)
	if d.Status != store.DraftPublished || d.WPPostID == nil {
		t.Fatalf("draft %s with post %v, want published", d.Status, d.WPPostID)
	}
	if n := wp.Count(http.MethodPost, "/wp/v2/media"); n != 1 {
		t.Errorf("%d media uploads, want the featured image's", n)
	}

	var site store.Site
	a.api.do(http.MethodPatch, fmt.Sprintf("/v1/sites/%d", a.site.ID), map[string]any{"publish_without_image": true}, &site)
	if !site.PublishWithoutImage {
		t.Error("PATCH publish_without_image true: the site does not keep it")
	}
}

// waitFeatured waits until the draft's featured image is in state and
// returns it, as the API shows it.
func waitFeatured(a *automation, draftID int64, state string) store.Image {
	a.t.Helper()
	var img store.Image
	apptest.Eventually(a.t, 60*time.Second, "featured image "+state, func() (bool, error) {
		var imgs []store.Image
		a.api.do(http.MethodGet, fmt.Sprintf("/v1/drafts/%d/images", draftID), nil, &imgs)
		if len(imgs) == 0 || imgs[0].Role != store.ImageRoleFeatured {
			return false, nil
		}
		img = imgs[0]
		return img.State == state, nil
	})
	return img
}
