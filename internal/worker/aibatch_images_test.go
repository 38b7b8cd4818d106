package worker_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// An images job in batch mode has its prompt call answered by a provider
// batch line: the images are then made the ordinary way (the offline
// image model here, as Replicate would) from the line's prompt, with no
// ordinary chat request, and charged as ordinary images.
func TestImagePromptsThroughBatchAPI(t *testing.T) {
	t.Parallel()
	s := newBatchSetup(t, 0, "")
	ctx := apptest.Context(t)
	st := s.h.App.Store
	d := seedDraft(t, st, s.tenant, "batchimg")
	cost := s.h.App.Config.Costs.Image
	id := uuid.NewString()
	_, err := st.CreateJobs(ctx, s.tenant, "", []store.NewJob{{ID: id, Type: tasks.TypeImage, Queue: jobs.QueueBulk,
		SiteID: d.SiteID, SubjectID: d.ID, Quote: cost, Batched: true}})
	apptest.Must(t, err, "create the batched images job")

	apptest.Must(t, s.pass.Once(ctx), "pass 1")
	if j := apptest.Job(t, st, s.tenant, id); j.State != store.JobBatched || j.Phase != "batch_waiting" {
		t.Fatalf("images job while the batch runs: %s/%s", j.State, j.Phase)
	}
	if imgs, err := st.ListImages(ctx, s.tenant, d.ID); err != nil || len(imgs) != 0 {
		t.Fatalf("images before the batch answered: %v (%v), want none", imgs, err)
	}
	s.fake.ProcessBatches()
	apptest.Must(t, s.pass.Once(ctx), "pass 2")
	s.h.StartWorker(t, s.set)
	j := apptest.WaitJobState(t, st, s.tenant, id, store.JobSucceeded)
	if j.CreditsCharged != cost {
		t.Errorf("charged %d, want %d (one ordinary image)", j.CreditsCharged, cost)
	}
	img := getImage(t, st, s.tenant, d.ID)
	if img.State != store.ImageReady || !strings.HasPrefix(img.Prompt, "A bright editorial photograph illustrating") {
		t.Errorf("featured image %s with prompt %q, want ready with the batch line's prompt", img.State, img.Prompt)
	}
	ordinary, inBatch := chatRequests(s.fake)
	if inBatch != 1 || ordinary != 0 {
		t.Errorf("chat requests: %d in the batch, %d ordinary; want 1 and 0", inBatch, ordinary)
	}
	for _, r := range s.fake.Requests() {
		if r.Batch != "" && (r.CustomID != id || !strings.Contains(string(r.Body), "image_prompt")) {
			t.Errorf("batch line %q, want the images job's prompt call", r.CustomID)
		}
	}
}
