package worker_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/ai/providers"
	"github.com/presswork/presswork/internal/ai/replicate"
	"github.com/presswork/presswork/internal/ai/replicate/fakereplicate"
	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/client"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/markup"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// seedDraft gives a tenant a site, a cluster, an idea and a draft of it,
// written straight to the store by free jobs.
func seedDraft(t testing.TB, st *store.Store, tenantID int64, prefix string) store.Draft {
	t.Helper()
	seed := apptest.SeedIdeas(t, st, tenantID, 1, prefix)
	jobID := apptest.FreeJob(t, st, tenantID, tasks.TypeDraft, seed.Site.ID, seed.Ideas[0].ID)
	apptest.Must(t, st.SaveDraft(apptest.Context(t), store.Outcome{TenantID: tenantID, JobID: jobID}, seed.Ideas[0], store.Draft{
		Title: "Choosing an Espresso Grinder", Slug: "espresso-grinder", Excerpt: "How to pick a grinder for espresso.",
		MetaTitle: "Espresso grinder", MetaDescription: "How to choose an espresso grinder for home use.",
		FocusKeyword: "espresso grinder",
		BodyHTML:     "<p>Intro.</p><h2>Why grind size matters</h2><p>x</p><h2>How to choose</h2><p>y</p>",
		WordCount:    9}), "save draft")
	drafts, err := st.ListDrafts(apptest.Context(t), tenantID, seed.Site.ID, store.Page{Limit: 10})
	apptest.Must(t, err, "list drafts")
	return drafts[0]
}

// imageJob asks the API for the featured image of a draft and returns the
// job id.
func imageJob(t testing.TB, c *client.Client, draftID int64) string {
	t.Helper()
	acc := apptest.Post(t, c, "/v1/images/generate", map[string]any{"draft_ids": []int64{draftID}})
	if len(acc.Jobs) != 1 || acc.BatchID != "" || acc.CreditsQuoted != 1 {
		t.Fatalf("image answer %+v, want one job quoted 1 credit", acc)
	}
	return acc.Jobs[0].ID
}

func getImage(t testing.TB, st *store.Store, tenantID, draftID int64) store.Image {
	t.Helper()
	img, err := st.GetImage(apptest.Context(t), tenantID, draftID, store.ImageRoleFeatured)
	apptest.Must(t, err, "get image")
	return img
}

// imageContent fetches a draft's image file through the API.
func imageContent(t testing.TB, c *client.Client, draftID int64) (status int, contentType string, body []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(apptest.Context(t), http.MethodGet,
		fmt.Sprintf("%s/v1/drafts/%d/image/content", c.BaseURL, draftID), nil)
	apptest.Must(t, err, "request")
	req.Header.Set("Authorization", "Bearer "+c.Key)
	resp, err := http.DefaultClient.Do(req)
	apptest.Must(t, err, "GET image content")
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	apptest.Must(t, err, "read image content")
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// TestImageOffline makes a featured image through the API and a worker with
// the offline providers: the image is stored, decodes as the PNG its
// metadata describes, and cost one credit; another tenant sees none of it.
func TestImageOffline(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	const opening = 10
	tk, c := h.Tenant(t, "image-offline", opening)
	tenant := tk.Tenant.ID
	draft := seedDraft(t, st, tenant, "offline")
	h.StartWorker(t)

	job := apptest.WaitJobState(t, st, tenant, imageJob(t, c, draft.ID), store.JobSucceeded)
	if job.CreditsCharged != 1 || job.Model == nil || *job.Model != "offline-image-v1" {
		t.Errorf("job charged %d with model %v, want 1 credit and offline-image-v1", job.CreditsCharged, apptest.Deref(job.Model))
	}
	apptest.CheckCredits(t, st, tenant, opening-1)

	var meta store.Image
	apptest.Must(t, c.Do(apptest.Context(t), http.MethodGet, fmt.Sprintf("/v1/drafts/%d/image", draft.ID), nil, &meta), "GET image")
	if meta.State != store.ImageReady || meta.JobID != job.ID || meta.Role != "featured" || meta.PredictionID != nil ||
		len(meta.Prompt) < 20 || len(meta.AltText) < 5 {
		t.Errorf("image metadata %+v", meta)
	}
	status, ct, body := imageContent(t, c, draft.ID)
	if status != http.StatusOK || ct != "image/png" {
		t.Fatalf("image content: status %d, content type %q", status, ct)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(body))
	apptest.Must(t, err, "decode the PNG")
	sum := sha256.Sum256(body)
	if !bytes.Equal(sum[:], meta.SHA256) || meta.SizeBytes == nil || *meta.SizeBytes != len(body) ||
		meta.Width == nil || *meta.Width != cfg.Width || meta.Height == nil || *meta.Height != cfg.Height {
		t.Errorf("metadata %+v does not describe the %d bytes of a %dx%d PNG", meta, len(body), cfg.Width, cfg.Height)
	}

	// A second job for the same draft finishes at no charge and keeps the image.
	again := apptest.WaitJobState(t, st, tenant, imageJob(t, c, draft.ID), store.JobSucceeded)
	if again.CreditsCharged != 0 || !bytes.Equal(getImage(t, st, tenant, draft.ID).SHA256, meta.SHA256) {
		t.Errorf("second job charged %d; image changed: %v", again.CreditsCharged,
			!bytes.Equal(getImage(t, st, tenant, draft.ID).SHA256, meta.SHA256))
	}
	apptest.CheckCredits(t, st, tenant, opening-1)

	// Another tenant gets 404s.
	_, other := h.Tenant(t, "image-other", 10)
	if status, _, _ := imageContent(t, other, draft.ID); status != http.StatusNotFound {
		t.Errorf("another tenant's GET of the content: status %d, want 404", status)
	}
	var ce *client.Error
	err = other.Do(apptest.Context(t), http.MethodGet, fmt.Sprintf("/v1/drafts/%d/image", draft.ID), nil, &meta)
	if !errors.As(err, &ce) || ce.Status != http.StatusNotFound {
		t.Errorf("another tenant's GET of the metadata: %v, want 404", err)
	}
}

// replicateProviders returns the offline providers with the real Replicate
// image model pointed at fake.
func replicateProviders(t testing.TB, fake *fakereplicate.Server, text ai.TextModel) providers.Set {
	t.Helper()
	m, err := replicate.NewImageModel(replicate.Config{Token: fakereplicate.Token, BaseURL: fake.URL,
		ImageModel: "black-forest-labs/flux-schnell", PollInterval: time.Millisecond, Timeout: time.Minute,
		ImagePriceUSD: 0.003})
	apptest.Must(t, err, "replicate model")
	p := providers.Offline()
	if text != nil {
		p.Text = text
	}
	p.Image = m
	return p
}

// TestImageReplicate makes a featured image with the Replicate model
// against the fake: the prediction id is stored, the image is Presswork's
// own copy, and a duplicate delivery of the finished job does nothing.
func TestImageReplicate(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	fake := fakereplicate.New(t)
	fake.Script(fakereplicate.Script{Polls: 2})
	const opening = 10
	tk, c := h.Tenant(t, "image-replicate", opening)
	tenant := tk.Tenant.ID
	draft := seedDraft(t, st, tenant, "replicate")
	h.StartWorker(t, replicateProviders(t, fake, nil))

	job := apptest.WaitJobState(t, st, tenant, imageJob(t, c, draft.ID), store.JobSucceeded)
	img := getImage(t, st, tenant, draft.ID)
	if img.State != store.ImageReady || img.PredictionID == nil || fake.Status(*img.PredictionID) != "succeeded" ||
		img.Model == nil || *img.Model != "black-forest-labs/flux-schnell" {
		t.Fatalf("image %+v, want ready with the fake's succeeded prediction", img)
	}
	if reqs := fake.CreateRequests(); len(reqs) != 1 || reqs[0].Input["prompt"] != img.Prompt {
		t.Errorf("create requests %+v, want one with the image's prompt %q", reqs, img.Prompt)
	}
	status, _, body := imageContent(t, c, draft.ID)
	if status != http.StatusOK || !bytes.Equal(body, fake.PNG) {
		t.Errorf("content: status %d, %d bytes; want the fake's %d-byte PNG", status, len(body), len(fake.PNG))
	}
	apptest.CheckCredits(t, st, tenant, opening-1)

	// A duplicate delivery of the finished job does nothing.
	entriesBefore := apptest.Ledger(t, st, tenant)
	cl := asynq.NewClient(h.App.Redis)
	t.Cleanup(func() { cl.Close() })
	payload, err := json.Marshal(tasks.Payload{TenantID: tenant, JobID: job.ID, SubjectID: job.SubjectID})
	apptest.Must(t, err, "payload")
	_, err = cl.Enqueue(asynq.NewTask(tasks.TypeImage, payload), asynq.TaskID("dup-"+job.ID),
		asynq.Queue(jobs.QueueDefault), asynq.Retention(time.Hour))
	apptest.Must(t, err, "enqueue the duplicate")
	waitTask(t, h.Inspector(t), jobs.QueueDefault, "dup-"+job.ID, asynq.TaskStateCompleted)
	after := apptest.Job(t, st, tenant, job.ID)
	if after.Attempts != job.Attempts || !after.UpdatedAt.Equal(job.UpdatedAt) || fake.Creates() != 1 ||
		!getImage(t, st, tenant, draft.ID).UpdatedAt.Equal(img.UpdatedAt) {
		t.Errorf("the duplicate changed something: job %+v -> %+v, %d creates", job, after, fake.Creates())
	}
	if n := len(apptest.CheckCredits(t, st, tenant, opening-1)); n != len(entriesBefore) {
		t.Errorf("the duplicate added %d ledger entries", n-len(entriesBefore))
	}
}

// TestImageRetryResumesPrediction interrupts the first attempt after the
// prediction started (its polls fail until the model gives up): the retry
// resumes the stored prediction instead of paying for a second one, and
// does not write the image prompt again.
func TestImageRetryResumesPrediction(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	fake := fakereplicate.New(t)
	fake.Script(fakereplicate.Script{GetFailures: 4}) // the model gives up after the 4th failed poll
	const opening = 10
	tk, c := h.Tenant(t, "image-retry", opening)
	tenant := tk.Tenant.ID
	draft := seedDraft(t, st, tenant, "retry")
	var prompts counter
	text := hooked(func(_ context.Context, req ai.JSONRequest) error {
		prompts.add(string(req.Stage))
		return nil
	})
	h.StartWorker(t, replicateProviders(t, fake, text))
	in := h.Inspector(t)

	jobID := imageJob(t, c, draft.ID)
	waitTask(t, in, jobs.QueueDefault, jobID, asynq.TaskStateRetry)
	job := apptest.Job(t, st, tenant, jobID)
	img := getImage(t, st, tenant, draft.ID)
	if job.State != store.JobQueued || img.State != store.ImagePending || img.PredictionID == nil || fake.Creates() != 1 {
		t.Fatalf("after the interrupted attempt: job %s, image %+v, %d creates; want queued, pending with a prediction, 1",
			job.State, img, fake.Creates())
	}
	apptest.Must(t, in.RunTask(jobs.QueueDefault, jobID), "run the retry now")

	job = apptest.WaitJobState(t, st, tenant, jobID, store.JobSucceeded)
	ready := getImage(t, st, tenant, draft.ID)
	if fake.Creates() != 1 || ready.PredictionID == nil || *ready.PredictionID != *img.PredictionID || ready.Prompt != img.Prompt {
		t.Errorf("after the retry: %d creates, prediction %v (was %s), prompt %q (was %q); want the same prediction",
			fake.Creates(), apptest.Deref(ready.PredictionID), *img.PredictionID, ready.Prompt, img.Prompt)
	}
	if n := prompts.get(string(ai.StageImagePrompt)); n != 1 {
		t.Errorf("image prompt written %d times, want once", n)
	}
	if job.Attempts != 2 || job.CreditsCharged != 1 {
		t.Errorf("job attempts %d, charged %d; want 2 and 1", job.Attempts, job.CreditsCharged)
	}
	entries := apptest.CheckCredits(t, st, tenant, opening-1)
	if got := apptest.JobLedger(entries, jobID); got != "reserve:-1" {
		t.Errorf("job ledger %q, want one reservation", got)
	}
}

// TestImageCancelCancelsPrediction cancels a running image job whose
// prediction never ends: the worker cancels the prediction, forgets it and
// the job is refunded.
func TestImageCancelCancelsPrediction(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	fake := fakereplicate.New(t)
	fake.Script(fakereplicate.Script{Polls: -1})
	const opening = 10
	tk, c := h.Tenant(t, "image-cancel", opening)
	tenant := tk.Tenant.ID
	draft := seedDraft(t, st, tenant, "cancel")
	h.StartWorker(t, replicateProviders(t, fake, nil))

	jobID := imageJob(t, c, draft.ID)
	var predictionID string
	apptest.Eventually(t, 30*time.Second, "the prediction id is stored", func() (bool, error) {
		img, err := st.GetImage(apptest.Context(t), tenant, draft.ID, store.ImageRoleFeatured)
		if err != nil || img.PredictionID == nil {
			return false, nil
		}
		predictionID = *img.PredictionID
		return true, nil
	})
	var canceled store.Job
	apptest.Must(t, c.Do(apptest.Context(t), http.MethodPost, "/v1/jobs/"+jobID+"/cancel", nil, &canceled), "cancel")
	if canceled.State != store.JobCanceled {
		t.Fatalf("cancel answered state %s", canceled.State)
	}
	apptest.Eventually(t, 30*time.Second, "the prediction is canceled and forgotten", func() (bool, error) {
		img, err := st.GetImage(apptest.Context(t), tenant, draft.ID, store.ImageRoleFeatured)
		return err == nil && fake.Cancels() == 1 && img.PredictionID == nil, err
	})
	if status := fake.Status(predictionID); status != "canceled" || fake.Creates() != 1 || fake.Cancels() != 1 {
		t.Errorf("prediction %s, %d creates, %d cancels; want canceled, 1, 1", status, fake.Creates(), fake.Cancels())
	}
	job := apptest.Job(t, st, tenant, jobID)
	entries := apptest.CheckCredits(t, st, tenant, opening)
	if got := apptest.JobLedger(entries, jobID); job.State != store.JobCanceled || got != "reserve:-1 refund:1" {
		t.Errorf("job %s with ledger %q, want canceled and refunded", job.State, got)
	}
}

// hookImageModel is an image model with a hook that runs before each
// Generate and may fail it.
type hookImageModel struct {
	ai.ImageModel
	hook func(req ai.ImageRequest) error
}

func (m hookImageModel) Generate(ctx context.Context, req ai.ImageRequest) (ai.Image, error) {
	if err := m.hook(req); err != nil {
		return ai.Image{}, err
	}
	return m.ImageModel.Generate(ctx, req)
}

// setInlineImages makes a site ask for n in-article images per draft.
func setInlineImages(t testing.TB, st *store.Store, tenantID, siteID int64, n int) {
	t.Helper()
	_, err := st.UpdateSite(apptest.Context(t), tenantID, siteID, store.SiteFields{InlineImages: &n})
	apptest.Must(t, err, "set inline images")
}

// imageJobQuoted asks the API for the images of a draft, checks the quote
// and returns the job id.
func imageJobQuoted(t testing.TB, c *client.Client, draftID, quote int64) string {
	t.Helper()
	acc := apptest.Post(t, c, "/v1/images/generate", map[string]any{"draft_ids": []int64{draftID}})
	if len(acc.Jobs) != 1 || acc.CreditsQuoted != quote {
		t.Fatalf("image answer %+v, want one job quoted %d credits", acc, quote)
	}
	return acc.Jobs[0].ID
}

// checkImages checks that a draft's images are ready, the featured one
// first (quoted size) and the in-article ones at positions 1.. after
// distinct headings of the draft, each with its content type, size,
// dimensions and SHA-256 describing the stored PNG. It returns them.
func checkImages(t testing.TB, st *store.Store, tenantID int64, draft store.Draft, inline int) []store.Image {
	t.Helper()
	imgs, err := st.ListImages(apptest.Context(t), tenantID, draft.ID)
	apptest.Must(t, err, "list images")
	if len(imgs) != 1+inline {
		t.Fatalf("%d images, want %d", len(imgs), 1+inline)
	}
	full, err := st.GetDraft(apptest.Context(t), tenantID, draft.ID) // a listed draft has no body
	apptest.Must(t, err, "get draft")
	headings := map[string]bool{}
	for _, h := range markup.Headings(full.BodyHTML) {
		if h.Level == 2 {
			headings[h.Text] = true
		}
	}
	seen := map[string]bool{}
	for i, img := range imgs {
		wantRole, wantW, wantH := store.ImageRoleInline, 1200, 800
		if i == 0 {
			wantRole, wantW, wantH = store.ImageRoleFeatured, 1200, 630
		}
		if img.Role != wantRole || img.Position != i || img.State != store.ImageReady || img.WPMediaID != nil ||
			len(img.Prompt) < 20 || len(img.AltText) < 5 {
			t.Errorf("image %d: %+v, want a ready %s image at position %d", i, img, wantRole, i)
		}
		if i > 0 && (!headings[img.Heading] || seen[img.Heading]) {
			t.Errorf("image %d follows heading %q: not one of %v or a repeat", i, img.Heading, headings)
		}
		seen[img.Heading] = true
		ct, data, err := st.ImageContentByID(apptest.Context(t), tenantID, img.ID)
		apptest.Must(t, err, "image content")
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		apptest.Must(t, err, "decode the PNG")
		sum := sha256.Sum256(data)
		if ct != "image/png" || img.ContentType == nil || *img.ContentType != ct || !bytes.Equal(sum[:], img.SHA256) ||
			img.SizeBytes == nil || *img.SizeBytes != len(data) || img.Width == nil || *img.Width != cfg.Width ||
			img.Height == nil || *img.Height != cfg.Height || cfg.Width != wantW || cfg.Height != wantH {
			t.Errorf("image %d: metadata %+v does not describe the %d bytes of a %dx%d %s", i, img, len(data),
				cfg.Width, cfg.Height, ct)
		}
	}
	return imgs
}

// TestImageInline makes the featured image and two in-article images of a
// draft whose site asks for them; the image model fails on the second
// in-article image once: the retry generates only that one, the prompts
// are written once, and the job charges 3 credits.
func TestImageInline(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	const opening = 10
	tk, c := h.Tenant(t, "image-inline", opening)
	tenant := tk.Tenant.ID
	draft := seedDraft(t, st, tenant, "inline")
	setInlineImages(t, st, tenant, draft.SiteID, 2)

	var prompts, generated counter
	text := hooked(func(_ context.Context, req ai.JSONRequest) error {
		if in, ok := req.Input.(ai.ImagePromptInput); ok {
			prompts.add(fmt.Sprint(in.InlineCount))
		}
		prompts.add(string(req.Stage))
		return nil
	})
	var calls counter
	p := offlineWith(text)
	p.Image = hookImageModel{ImageModel: p.Image, hook: func(req ai.ImageRequest) error {
		if calls.add("all") == 3 {
			return errors.New("the image model broke")
		}
		generated.add(req.Title)
		return nil
	}}
	h.StartWorker(t, p)
	in := h.Inspector(t)

	jobID := imageJobQuoted(t, c, draft.ID, 3)
	waitTask(t, in, jobs.QueueDefault, jobID, asynq.TaskStateRetry)
	imgs, err := st.ListImages(apptest.Context(t), tenant, draft.ID)
	apptest.Must(t, err, "list images")
	var states []string
	for _, img := range imgs {
		states = append(states, img.State)
	}
	if fmt.Sprint(states) != "[ready ready pending]" {
		t.Fatalf("after the failed attempt the images are %v, want [ready ready pending]", states)
	}
	apptest.Must(t, in.RunTask(jobs.QueueDefault, jobID), "run the retry now")

	job := apptest.WaitJobState(t, st, tenant, jobID, store.JobSucceeded)
	imgs = checkImages(t, st, tenant, draft, 2)
	if job.Attempts != 2 || job.CreditsCharged != 3 {
		t.Errorf("job attempts %d, charged %d; want 2 and 3", job.Attempts, job.CreditsCharged)
	}
	if n := prompts.get(string(ai.StageImagePrompt)); n != 1 || prompts.get("2") != 1 {
		t.Errorf("image prompts written %d times (%d for 2 in-article images), want once", n, prompts.get("2"))
	}
	if calls.get("all") != 4 || generated.get(draft.Title) != 1 || generated.get(imgs[1].Heading) != 1 ||
		generated.get(imgs[2].Heading) != 1 {
		t.Errorf("%d image model calls, generated %+v; want 4 calls, each image once", calls.get("all"), generated.n)
	}
	for _, img := range imgs {
		if img.JobID != jobID {
			t.Errorf("image %d made by job %s, want %s", img.ID, img.JobID, jobID)
		}
	}
	entries := apptest.CheckCredits(t, st, tenant, opening-3)
	if got := apptest.JobLedger(entries, jobID); got != "reserve:-3" {
		t.Errorf("job ledger %q, want one reservation of 3", got)
	}

	// A second job finds every image ready: no charge, nothing generated.
	again := apptest.WaitJobState(t, st, tenant, imageJobQuoted(t, c, draft.ID, 3), store.JobSucceeded)
	if again.CreditsCharged != 0 || calls.get("all") != 4 {
		t.Errorf("second job charged %d after %d image model calls; want 0 and 4", again.CreditsCharged, calls.get("all"))
	}
	apptest.CheckCredits(t, st, tenant, opening-3)
}

// TestImageInlineFewerHeadings asks for more in-article images than the
// draft has headings: it gets one per heading and pays for those only. A
// draft whose featured image an earlier job made gets its in-article
// images later without paying for the featured one again.
func TestImageInlineFewerHeadings(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	st := h.App.Store
	const opening = 20
	tk, c := h.Tenant(t, "image-fewer", opening)
	tenant := tk.Tenant.ID
	draft := seedDraft(t, st, tenant, "fewer") // two <h2> headings
	setInlineImages(t, st, tenant, draft.SiteID, 5)
	h.StartWorker(t)

	jobID := imageJobQuoted(t, c, draft.ID, 6)
	job := apptest.WaitJobState(t, st, tenant, jobID, store.JobSucceeded)
	checkImages(t, st, tenant, draft, 2)
	entries := apptest.CheckCredits(t, st, tenant, opening-3)
	if got := apptest.JobLedger(entries, jobID); job.CreditsCharged != 3 || got != "reserve:-6 settle:3" {
		t.Errorf("job charged %d with ledger %q, want 3 and reserve:-6 settle:3", job.CreditsCharged, got)
	}

	// Featured image first, in-article images later.
	other := seedDraft(t, st, tenant, "later")
	setInlineImages(t, st, tenant, other.SiteID, 0)
	first := apptest.WaitJobState(t, st, tenant, imageJobQuoted(t, c, other.ID, 1), store.JobSucceeded)
	featured := checkImages(t, st, tenant, other, 0)[0]
	setInlineImages(t, st, tenant, other.SiteID, 1)
	second := apptest.WaitJobState(t, st, tenant, imageJobQuoted(t, c, other.ID, 2), store.JobSucceeded)
	imgs := checkImages(t, st, tenant, other, 1)
	if first.CreditsCharged != 1 || second.CreditsCharged != 1 || imgs[0].JobID != first.ID ||
		!imgs[0].UpdatedAt.Equal(featured.UpdatedAt) || imgs[1].JobID != second.ID {
		t.Errorf("jobs charged %d and %d; images %+v; want 1 each, the featured image kept", first.CreditsCharged,
			second.CreditsCharged, imgs)
	}
	apptest.CheckCredits(t, st, tenant, opening-5)
}
