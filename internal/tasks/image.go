package tasks

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// The size asked for featured images: a common social-card size. A remote
// model may only honour the aspect ratio.
const (
	featuredWidth  = 1200
	featuredHeight = 630
)

// Phases of an image job.
const (
	phaseImagePrompt   = "prompt"
	phaseImageGenerate = "generate"
)

// defaultCancelCheck is how often a running image job looks at its row when
// Handlers.CancelCheck is zero.
const defaultCancelCheck = time.Second

// errJobCanceled is the cause of a generation stopped because the job was
// canceled (POST /v1/jobs/:id/cancel).
var errJobCanceled = errors.New("the job was canceled")

// image makes the featured image of a draft (the subject). It costs its
// quote: one credit by default.
//
// Phase "prompt" asks the text model for the image prompt and alt text and
// writes them on a pending image row; a row left by an earlier attempt or
// job keeps its prompt, and its prediction. Phase "generate" runs the image
// model, resuming the row's prediction if it has one, and records a new
// prediction's id on the row the moment it exists. The file is stored, the
// row marked ready and the job settled in one transaction. A draft whose
// image is already ready finishes the job without charge.
//
// Cancel: the API only marks the job canceled in PostgreSQL (it never calls
// a provider). While the model runs, the handler looks at the job row every
// CancelCheck; when the job is no longer running it stops waiting, cancels
// the prediction and forgets its id. A canceled job whose task is delivered
// later (a retry) cancels a prediction its row still names.
func (h *Handlers) image(ctx context.Context, p Payload) error {
	job, err := h.Store.StartJob(ctx, p.TenantID, p.JobID, quotedCost, phaseImagePrompt)
	if errors.Is(err, store.ErrJobFinished) {
		h.cancelLeftPrediction(ctx, p)
		return err
	}
	if err != nil {
		return err
	}
	draft, err := h.Store.GetDraft(ctx, p.TenantID, p.SubjectID)
	if err != nil {
		return fmt.Errorf("draft %d: %w", p.SubjectID, err)
	}
	img, err := h.Store.GetImage(ctx, p.TenantID, draft.ID, store.ImageRoleFeatured)
	var usage ai.Usage
	switch {
	case errors.Is(err, errs.ErrNotFound):
		prompt, u, err := h.imagePrompt(ctx, p.TenantID, draft)
		usage.Add(u)
		if err != nil {
			return err
		}
		img, err = h.Store.PrepareImage(ctx, p.TenantID, draft.ID, store.ImageRoleFeatured, p.JobID, prompt.Prompt, prompt.AltText)
		if err != nil {
			return fmt.Errorf("prepare image of draft %d: %w", draft.ID, err)
		}
	case err != nil:
		return fmt.Errorf("image of draft %d: %w", draft.ID, err)
	case img.State == store.ImagePending:
		// An earlier attempt or job wrote the prompt: keep it, and its prediction.
		if img, err = h.Store.PrepareImage(ctx, p.TenantID, draft.ID, store.ImageRoleFeatured, p.JobID,
			img.Prompt, img.AltText); err != nil {
			return fmt.Errorf("prepare image of draft %d: %w", draft.ID, err)
		}
	}
	if img.State == store.ImageReady {
		return h.Store.FinishJob(ctx, outcome(p, job, 0, usage,
			map[string]any{"draft_id": draft.ID, "image_id": img.ID, "already_ready": true}))
	}

	if err := h.Store.SetPhase(ctx, p.JobID, phaseImageGenerate); err != nil {
		return err
	}
	model, err := h.imageModel()
	if err != nil {
		return err
	}
	resume := deref(img.PredictionID)
	var mu sync.Mutex
	current := resume // the prediction to cancel if the job is canceled
	req := ai.ImageRequest{
		Prompt: img.Prompt, Width: featuredWidth, Height: featuredHeight, Title: draft.Title,
		ResumePredictionID: resume,
		OnStarted: func(ctx context.Context, id string) error {
			mu.Lock()
			current = "" // on refusal the model cancels it itself
			mu.Unlock()
			if err := h.Store.SetImagePrediction(ctx, p.TenantID, img.ID, p.JobID, resume, id); err != nil {
				return err
			}
			mu.Lock()
			current = id
			mu.Unlock()
			return nil
		},
	}
	genCtx, stop := h.watchCancel(ctx, p)
	out, err := model.Generate(genCtx, req)
	canceled := stop()
	mu.Lock()
	predictionID := current
	mu.Unlock()
	switch {
	case err == nil:
	case canceled || errors.Is(err, store.ErrJobFinished):
		h.cancelPrediction(ctx, p, model, img.ID, predictionID)
		return store.ErrJobFinished
	case errs.IsConflict(err):
		// A concurrent delivery of this job recorded its own prediction
		// first and carries on; the model canceled ours.
		return store.ErrJobFinished
	default:
		return fmt.Errorf("generate image: %w", err)
	}
	if len(out.Bytes) == 0 || !strings.HasPrefix(out.ContentType, "image/") {
		return errs.Permanent(fmt.Errorf("the image model returned no image (%d bytes of %q)", len(out.Bytes), out.ContentType))
	}
	sum := sha256.Sum256(out.Bytes)
	file := store.ImageFile{Data: out.Bytes, ContentType: out.ContentType, Width: out.Width, Height: out.Height,
		SHA256: sum[:], Model: out.Model, PredictionID: out.PredictionID}
	usage.Model = out.Model
	usage.CostUSD += out.CostUSD
	result := map[string]any{"draft_id": draft.ID, "image_id": img.ID, "size_bytes": len(out.Bytes)}
	return h.Store.SaveImage(ctx, outcome(p, job, job.CreditsReserved, usage, result), img.ID, file)
}

// imagePrompt asks the tenant's text model for the prompt and alt text of a
// draft's featured image.
func (h *Handlers) imagePrompt(ctx context.Context, tenantID int64, d store.Draft) (ai.ImagePrompt, ai.Usage, error) {
	writer, _, err := h.aiFor(ctx, tenantID, ai.StageImagePrompt)
	if err != nil {
		return ai.ImagePrompt{}, ai.Usage{}, err
	}
	site, err := h.Store.GetSite(ctx, tenantID, d.SiteID)
	if err != nil {
		return ai.ImagePrompt{}, ai.Usage{}, err
	}
	in := ai.ImagePromptInput{SiteName: site.Name, Title: d.Title, FocusKeyword: d.FocusKeyword,
		Excerpt: d.Excerpt, Headings: draftHeadings(d.BodyHTML)}
	prompt, usage, err := writer.ImagePrompt(ctx, in)
	if err != nil {
		return ai.ImagePrompt{}, usage, fmt.Errorf("write image prompt: %w", err)
	}
	return prompt, usage, nil
}

// draftHeadings returns the texts of a body's <h2> headings.
func draftHeadings(body string) []string {
	var out []string
	for _, h := range ai.Headings(body) {
		if h.Level == 2 {
			out = append(out, h.Text)
		}
	}
	return out
}

// watchCancel returns a context for the image model that ends when the job
// stops running (canceled), and stop, which ends the watch and reports
// whether it saw the job stop.
func (h *Handlers) watchCancel(ctx context.Context, p Payload) (context.Context, func() bool) {
	genCtx, cancel := context.WithCancelCause(ctx)
	every := h.CancelCheck
	if every <= 0 {
		every = defaultCancelCheck
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var saw bool
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-genCtx.Done():
				return
			case <-t.C:
			}
			job, err := h.Store.GetJob(genCtx, p.TenantID, p.JobID)
			if err != nil {
				continue // the next look may succeed; the job's own calls report the database
			}
			if job.State != store.JobRunning {
				saw = true
				cancel(errJobCanceled)
				return
			}
		}
	})
	return genCtx, func() bool {
		close(done)
		wg.Wait()
		cancel(nil)
		return saw
	}
}

// cancelPrediction cancels the prediction of a job that was canceled and
// forgets it on the image row. It runs on a context of its own: the job's
// may be ending.
func (h *Handlers) cancelPrediction(ctx context.Context, p Payload, model ai.ImageModel, imageID int64, predictionID string) {
	if predictionID == "" {
		return
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	log := h.Log.With("task_id", p.JobID, "tenant", p.TenantID, "prediction_id", predictionID)
	if err := model.Cancel(bg, predictionID); err != nil {
		log.Warn("canceling the prediction of a canceled job", "error", err)
		return
	}
	if err := h.Store.ClearImagePrediction(bg, p.TenantID, imageID, predictionID); err != nil {
		log.Warn("forgetting a canceled prediction", "error", err)
	}
	log.Info("prediction of a canceled job canceled")
}

// cancelLeftPrediction handles the delivery of a finished image job: if the
// job was canceled while its task waited (for a retry, say) and its image
// row still names a prediction of the job, that prediction is canceled.
func (h *Handlers) cancelLeftPrediction(ctx context.Context, p Payload) {
	job, err := h.Store.GetJob(ctx, p.TenantID, p.JobID)
	if err != nil || job.State != store.JobCanceled {
		return
	}
	img, err := h.Store.GetImage(ctx, p.TenantID, p.SubjectID, store.ImageRoleFeatured)
	if err != nil || img.State != store.ImagePending || img.JobID != p.JobID || img.PredictionID == nil {
		return
	}
	model, err := h.imageModel()
	if err != nil {
		return
	}
	h.cancelPrediction(ctx, p, model, img.ID, *img.PredictionID)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
