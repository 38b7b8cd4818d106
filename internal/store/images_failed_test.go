package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/store"
)

const (
	typeImage   = "image"
	typePublish = "publish"
)

// failImageJob runs an image job for w's draft that writes a pending
// featured image and fails for good with reason, and returns the image.
func failImageJob(t *testing.T, st *store.Store, w world, reason string) store.Image {
	t.Helper()
	j := newJob(t, st, w.tenant.ID, typeImage, w.draft.ID, 1)
	startJob(t, st, w.tenant.ID, j.ID)
	if _, err := st.PrepareImages(t.Context(), w.tenant.ID, w.draft.ID, j.ID, []store.ImageSlot{{
		Role: store.ImageRoleFeatured, Prompt: "a shoe", AltText: "A shoe"}}); err != nil {
		t.Fatalf("PrepareImages: %v", err)
	}
	if err := st.FailJob(t.Context(), w.tenant.ID, j.ID, store.Failure{Message: reason}); err != nil {
		t.Fatalf("FailJob: %v", err)
	}
	img, err := st.GetImage(t.Context(), w.tenant.ID, w.draft.ID, store.ImageRoleFeatured)
	if err != nil {
		t.Fatalf("GetImage: %v", err)
	}
	return img
}

// ageFailure moves the last failure of w's images back by d.
func ageFailure(t *testing.T, st *store.Store, w world, d time.Duration) {
	t.Helper()
	db := st.SQLDB()
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), `UPDATE images SET failed_at = failed_at - make_interval(secs => $2)
		WHERE draft_id = $1`, w.draft.ID, d.Seconds()); err != nil {
		t.Fatalf("age the failure: %v", err)
	}
}

func candidateIDs(t *testing.T, st *store.Store, q store.CandidateQuery) []int64 {
	t.Helper()
	cs, err := st.Candidates(t.Context(), q, 100)
	if err != nil {
		t.Fatalf("Candidates(%s): %v", q.Stage, err)
	}
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.SubjectID
	}
	return ids
}

// TestFailedImageJobFailsItsImages: a failed image job leaves its pending
// image failed with the reason and counts the failure; a later job makes
// it pending again with its prompt, and ready clears the reason.
func TestFailedImageJobFailsItsImages(t *testing.T) {
	st := newStore(t)
	w := newWorld(t, st)
	img := failImageJob(t, st, w, "the prediction failed: NSFW")
	if img.State != store.ImageFailed || img.Error == nil || *img.Error != "the prediction failed: NSFW" ||
		img.Failures != 1 || img.FailedAt == nil {
		t.Fatalf("image after the failed job: %+v, want failed with the reason, 1 failure", img)
	}

	retry := newJob(t, st, w.tenant.ID, typeImage, w.draft.ID, 1)
	startJob(t, st, w.tenant.ID, retry.ID)
	imgs, err := st.PrepareImages(t.Context(), w.tenant.ID, w.draft.ID, retry.ID, []store.ImageSlot{{
		Role: store.ImageRoleFeatured, Prompt: "another prompt"}})
	if err != nil {
		t.Fatalf("PrepareImages: %v", err)
	}
	if got := imgs[0]; got.ID != img.ID || got.State != store.ImagePending || got.Prompt != "a shoe" ||
		got.JobID != retry.ID || got.Failures != 1 {
		t.Fatalf("retried image %+v, want the same row pending for job %s with its prompt", got, retry.ID)
	}
	if err := st.StoreImage(t.Context(), w.tenant.ID, retry.ID, img.ID, store.ImageFile{Data: []byte("png"),
		ContentType: "image/png", SHA256: []byte("sum")}); err != nil {
		t.Fatalf("StoreImage: %v", err)
	}
	if _, err := st.FinishImageJob(t.Context(), store.Outcome{TenantID: w.tenant.ID, JobID: retry.ID}, 1); err != nil {
		t.Fatalf("FinishImageJob: %v", err)
	}
	ready, err := st.GetImage(t.Context(), w.tenant.ID, w.draft.ID, store.ImageRoleFeatured)
	if err != nil || ready.State != store.ImageReady || ready.Error != nil {
		t.Fatalf("stored image %+v (%v), want ready without error", ready, err)
	}

	// A canceled job leaves the images as they are.
	canceled := newJob(t, st, w.tenant.ID, typeImage, w.draft.ID, 1)
	startJob(t, st, w.tenant.ID, canceled.ID)
	if _, err := st.CancelJob(t.Context(), w.tenant.ID, canceled.ID); err != nil {
		t.Fatalf("CancelJob: %v", err)
	}
	if after, _ := st.GetImage(t.Context(), w.tenant.ID, w.draft.ID, store.ImageRoleFeatured); after.State != store.ImageReady {
		t.Errorf("a canceled job changed a ready image: %+v", after)
	}
}

// TestImageCandidatesRetryFailedImages: automation's image stage takes a
// draft whose image failed once the back-off has passed, and no more
// after ImageRetryLimit failures.
func TestImageCandidatesRetryFailedImages(t *testing.T) {
	st := newStore(t)
	w := newWorld(t, st)
	q := store.CandidateQuery{TenantID: w.tenant.ID, SiteID: w.site.ID, Stage: store.StageImages, JobType: typeImage}
	if got := candidateIDs(t, st, q); !slices.Equal(got, []int64{w.draft.ID}) {
		t.Fatalf("candidates of a draft without images: %v", got)
	}
	for failures := 1; failures <= store.ImageRetryLimit; failures++ {
		img := failImageJob(t, st, w, "failed")
		if img.Failures != failures {
			t.Fatalf("image failures %d, want %d", img.Failures, failures)
		}
		if got := candidateIDs(t, st, q); len(got) != 0 {
			t.Fatalf("failure %d: candidates %v before the back-off passed, want none", failures, got)
		}
		backoff := store.ImageRetryBase << (failures - 1)
		ageFailure(t, st, w, backoff-time.Minute)
		if got := candidateIDs(t, st, q); len(got) != 0 {
			t.Fatalf("failure %d: candidates %v a minute before the back-off of %s, want none", failures, got, backoff)
		}
		ageFailure(t, st, w, 2*time.Minute)
		want := []int64{w.draft.ID}
		if failures == store.ImageRetryLimit {
			want = nil
		}
		if got := candidateIDs(t, st, q); !slices.Equal(got, want) {
			t.Fatalf("failure %d: candidates %v after the back-off, want %v", failures, got, want)
		}
	}
	n, err := st.CountCandidates(t.Context(), q)
	if err != nil || n != 0 {
		t.Fatalf("CountCandidates = %d, %v; want 0 once the retries are used up", n, err)
	}
}

// TestPublishCandidatesAndFailedImages: a draft whose featured image
// failed is not published unless its site publishes without one; in a
// run that makes images, only after automation gave up on the image.
func TestPublishCandidatesAndFailedImages(t *testing.T) {
	st := newStore(t)
	w := newWorld(t, st)
	q := store.CandidateQuery{TenantID: w.tenant.ID, SiteID: w.site.ID, Stage: store.StagePublish,
		JobType: typePublish, AutoApprove: true}
	withImages := q
	withImages.NeedImages = true
	check := func(what string, q store.CandidateQuery, want bool) {
		t.Helper()
		got := candidateIDs(t, st, q)
		if want != slices.Equal(got, []int64{w.draft.ID}) {
			t.Errorf("%s: candidates %v, want the draft: %v", what, got, want)
		}
	}
	check("no image, images not needed", q, true)
	check("no image, images needed", withImages, false)

	failImageJob(t, st, w, "failed")
	check("failed image, images not needed", q, false)
	check("failed image, images needed", withImages, false)

	allow := true
	if _, err := st.UpdateSite(t.Context(), w.tenant.ID, w.site.ID, store.SiteFields{PublishWithoutImage: &allow}); err != nil {
		t.Fatalf("UpdateSite: %v", err)
	}
	check("failed image, site publishes without, images not needed", q, true)
	check("failed image once, site publishes without, images needed", withImages, false)
	for range store.ImageRetryLimit - 1 {
		failImageJob(t, st, w, "failed")
	}
	check("retries used up, site publishes without, images needed", withImages, true)
}
