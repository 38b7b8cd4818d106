package worker

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/markup"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// The sizes asked for: a common social-card size for featured images, 3:2
// for in-article ones. A remote model may only honour the aspect ratio.
const (
	featuredWidth  = 1200
	featuredHeight = 630
	inlineWidth    = 1200
	inlineHeight   = 800
)

// Phases of an image job.
const (
	phaseImagePrompt   = "prompt"
	phaseImageGenerate = "generate"
)

// defaultCancelCheck is how often a running image job looks at its row when
// Deps.CancelCheck is zero.
const defaultCancelCheck = time.Second

// errJobCanceled is the cause of a generation stopped because the job was
// canceled (POST /v1/jobs/:id/cancel).
var errJobCanceled = errors.New("the job was canceled")

// imageStore is what the image stage reads and writes.
type imageStore interface {
	checkpointStore
	StartJob(ctx context.Context, tenantID int64, jobID, phase string) (store.Job, error)
	GetJob(ctx context.Context, tenantID int64, id string) (store.Job, error)
	SetPhase(ctx context.Context, jobID, phase string) error
	GetDraft(ctx context.Context, tenantID, id int64) (store.Draft, error)
	GetSite(ctx context.Context, tenantID, id int64) (store.Site, error)
	profileStore
	ListImages(ctx context.Context, tenantID, draftID int64) ([]store.Image, error)
	PrepareImages(ctx context.Context, tenantID, draftID int64, jobID string, slots []store.ImageSlot) ([]store.Image, error)
	SetImagePrediction(ctx context.Context, tenantID, imageID int64, jobID, previous, predictionID string) error
	ClearImagePrediction(ctx context.Context, tenantID, imageID int64, predictionID string) error
	StoreImage(ctx context.Context, tenantID int64, jobID string, imageID int64, f store.ImageFile) error
	FinishImageJob(ctx context.Context, o store.Outcome, perImage int64) (made int, err error)
}

// Illustrator runs image:generate jobs.
type Illustrator struct {
	store  imageStore
	models *Models
	// perImage is the credits an image costs.
	perImage int64
	// cancelCheck is how often a running job looks at its row; zero
	// means defaultCancelCheck.
	cancelCheck time.Duration
	log         *slog.Logger
}

// Work makes the images of a draft (the subject): its featured image and
// as many in-article images as its site asks for (Site.InlineImages, at
// most what the job's quote covers), each placed after a different <h2>
// heading (fewer when the draft has fewer headings). It charges
// perImage credits per image it made; the quote covers them all.
//
// Phase "prompt" asks the text model once for the prompts and alt texts of
// the images the draft does not have yet and writes them all as pending
// rows in one transaction; rows left by an earlier attempt or job, pending
// or failed, turn pending and keep their prompts and their predictions (a
// failed prediction is replaced by a new one). Phase "generate" runs the image
// model for each pending image in turn, resuming the row's prediction if it
// has one, and records a new prediction's id on the row the moment it
// exists; each finished image is stored (and marked ready) at once, so a
// retry generates only the missing ones. The job is finished once, at the
// end, charging for the images it made ready over all its attempts: images
// ready before it started (an earlier job's) are not charged again, and a
// draft whose images are all ready finishes the job without charge.
// A job that fails for good leaves its pending images failed with the
// reason (store.FailJob), for automation or the API to retry.
//
// Cancel: the API only marks the job canceled in PostgreSQL (it never calls
// a provider). While the model runs, the worker looks at the job row every
// cancelCheck; when the job is no longer running it stops waiting, cancels
// the running prediction and forgets its id. A canceled job whose task is
// delivered later (a retry) cancels the predictions its rows still name.
func (w *Illustrator) Work(ctx context.Context, p tasks.Payload) error {
	job, err := w.store.StartJob(ctx, p.TenantID, p.JobID, phaseImagePrompt)
	if errors.Is(err, store.ErrJobFinished) {
		w.cancelLeftPredictions(ctx, p)
		return err
	}
	if err != nil {
		return err
	}
	draft, err := w.store.GetDraft(ctx, p.TenantID, p.SubjectID)
	if err != nil {
		return fmt.Errorf("draft %d: %w", p.SubjectID, err)
	}
	perImage, err := w.creditsPerImage(job)
	if err != nil {
		return err
	}
	imgs, usage, err := w.prepareImages(ctx, p, job, draft, perImage)
	if err != nil {
		return err
	}
	ids := make([]int64, len(imgs))
	var pending []store.Image
	for i, img := range imgs {
		ids[i] = img.ID
		if img.State == store.ImagePending {
			pending = append(pending, img)
		}
	}
	if len(pending) > 0 {
		if err := w.store.SetPhase(ctx, p.JobID, phaseImageGenerate); err != nil {
			return err
		}
		model, err := w.models.ImageFor(ctx, p.TenantID)
		if err != nil {
			return err
		}
		for _, img := range pending {
			file, cost, err := w.generateImage(ctx, p, model, draft, img)
			if err != nil {
				return err
			}
			usage.Model = file.Model
			usage.CostUSD += cost
			spent(ctx, store.UsageImage, ai.Usage{Model: file.Model, CostUSD: cost})
			if err := w.store.StoreImage(ctx, p.TenantID, p.JobID, img.ID, file); err != nil {
				return fmt.Errorf("store image %d: %w", img.ID, err)
			}
		}
	}
	result := map[string]any{"draft_id": draft.ID, "image_id": imgs[0].ID, "image_ids": ids,
		"generated": len(pending)}
	if len(pending) == 0 {
		result["already_ready"] = true
	}
	_, err = w.store.FinishImageJob(ctx, outcome(p, job, 0, usage, result), perImage)
	return err
}

// creditsPerImage is what each image of the job costs: as quoted (the
// catalogue's credit multiplier included), else the worker's image cost.
func (w *Illustrator) creditsPerImage(job store.Job) (int64, error) {
	var params tasks.ImageParams
	if len(job.Params) > 0 {
		if err := json.Unmarshal(job.Params, &params); err != nil {
			return 0, errs.Permanent(fmt.Errorf("image job has invalid parameters %s", job.Params))
		}
	}
	if params.CreditsPerImage > 0 {
		return params.CreditsPerImage, nil
	}
	return w.perImage, nil
}

// imagePlan is what a job's images are to be, before their prompts are
// written: the draft's site, its images to keep and the new ones to ask
// prompts for.
type imagePlan struct {
	site     store.Site
	featured *store.Image  // the draft's featured image, nil to make one
	keep     []store.Image // the draft's inline images kept
	used     map[int]bool  // the positions of the draft's inline images
	headings []string      // the <h2> headings without a kept image
	want     int           // the new inline images to ask prompts for
}

// needsPrompt reports whether the plan asks the text model for prompts.
func (pl imagePlan) needsPrompt() bool { return pl.featured == nil || pl.want > 0 }

// planImages reads a draft's images and site and plans the job's images:
// the site's in-article images (at most what the job's quote covers at
// perImage) each after a different heading, the featured image.
func (w *Illustrator) planImages(ctx context.Context, tenantID int64, job store.Job, d store.Draft,
	perImage int64) (imagePlan, error) {
	existing, err := w.store.ListImages(ctx, tenantID, d.ID)
	if err != nil {
		return imagePlan{}, fmt.Errorf("images of draft %d: %w", d.ID, err)
	}
	site, err := w.store.GetSite(ctx, tenantID, d.SiteID)
	if err != nil {
		return imagePlan{}, fmt.Errorf("site of draft %d: %w", d.ID, err)
	}
	n := site.InlineImages
	if perImage > 0 {
		// The site may have asked for more since the job was quoted.
		n = min(n, int(job.CreditsQuoted/perImage)-1)
	}
	n = min(max(n, 0), ai.MaxInlineImages)

	pl := imagePlan{site: site, used: map[int]bool{}}
	var inline []store.Image
	for _, img := range existing {
		if img.Role == store.ImageRoleFeatured {
			pl.featured = &img
			continue
		}
		pl.used[img.Position] = true
		inline = append(inline, img)
	}
	pl.keep = inline[:min(n, len(inline))]
	for _, hd := range draftHeadings(d.BodyHTML) {
		if !slices.ContainsFunc(pl.keep, func(img store.Image) bool { return img.Heading == hd }) {
			pl.headings = append(pl.headings, hd)
		}
	}
	pl.want = min(n-len(pl.keep), len(pl.headings))
	return pl, nil
}

// prepareImages writes the rows of the images the job makes (phase
// "prompt") and returns them, the featured image first: the rows the draft
// already has (ready or pending) and new pending ones for the rest, whose
// prompts the text model writes in one call.
func (w *Illustrator) prepareImages(ctx context.Context, p tasks.Payload, job store.Job, d store.Draft,
	perImage int64) ([]store.Image, ai.Usage, error) {
	var usage ai.Usage
	pl, err := w.planImages(ctx, p.TenantID, job, d, perImage)
	if err != nil {
		return nil, usage, err
	}
	var prompt ai.ImagePrompt
	if pl.needsPrompt() {
		var u ai.Usage
		prompt, u, err = w.imagePrompt(ctx, job, d, pl)
		usage.Add(u)
		if err != nil {
			return nil, usage, err
		}
	}
	slots := make([]store.ImageSlot, 0, 1+len(pl.keep)+len(prompt.Inline))
	if pl.featured == nil {
		slots = append(slots, store.ImageSlot{Role: store.ImageRoleFeatured, Prompt: prompt.Prompt, AltText: prompt.AltText})
	} else {
		slots = append(slots, slotOf(*pl.featured))
	}
	for _, img := range pl.keep {
		slots = append(slots, slotOf(img))
	}
	pos := 1
	for _, ip := range prompt.Inline {
		for pl.used[pos] {
			pos++
		}
		if pos > ai.MaxInlineImages {
			break
		}
		pl.used[pos] = true
		slots = append(slots, store.ImageSlot{Role: store.ImageRoleInline, Position: pos, Heading: ip.Heading,
			Prompt: ip.Prompt, AltText: ip.AltText})
	}
	imgs, err := w.store.PrepareImages(ctx, p.TenantID, d.ID, p.JobID, slots)
	if err != nil {
		return nil, usage, fmt.Errorf("prepare the images of draft %d: %w", d.ID, err)
	}
	return imgs, usage, nil
}

// slotOf is the slot of an existing image row.
func slotOf(img store.Image) store.ImageSlot {
	return store.ImageSlot{Role: img.Role, Position: img.Position, Heading: img.Heading, Prompt: img.Prompt,
		AltText: img.AltText}
}

// generateImage runs the image model for a pending image, resuming its
// prediction if it has one. It returns the file to store and the
// provider's cost. A canceled job, or a concurrent delivery that started its
// own prediction first, is store.ErrJobFinished.
func (w *Illustrator) generateImage(ctx context.Context, p tasks.Payload, model ai.ImageModel, d store.Draft,
	img store.Image) (store.ImageFile, float64, error) {
	resume := deref(img.PredictionID)
	var mu sync.Mutex
	current := resume // the prediction to cancel if the job is canceled
	req := ai.ImageRequest{
		Prompt: img.Prompt, Width: featuredWidth, Height: featuredHeight, Title: d.Title,
		ResumePredictionID: resume,
		OnStarted: func(ctx context.Context, id string) error {
			mu.Lock()
			current = "" // on refusal the model cancels it itself
			mu.Unlock()
			if err := w.store.SetImagePrediction(ctx, p.TenantID, img.ID, p.JobID, resume, id); err != nil {
				return err
			}
			mu.Lock()
			current = id
			mu.Unlock()
			return nil
		},
	}
	if img.Role == store.ImageRoleInline {
		req.Width, req.Height = inlineWidth, inlineHeight
		if img.Heading != "" {
			req.Title = img.Heading // what the offline model draws
		}
	}
	genCtx, stop := w.watchCancel(ctx, p)
	out, err := model.Generate(genCtx, req)
	canceled := stop()
	mu.Lock()
	predictionID := current
	mu.Unlock()
	switch {
	case err == nil:
	case canceled || errors.Is(err, store.ErrJobFinished):
		w.cancelPrediction(ctx, p, model, img.ID, predictionID)
		return store.ImageFile{}, 0, store.ErrJobFinished
	case errs.IsConflict(err):
		// A concurrent delivery of this job recorded its own prediction
		// first and carries on; the model canceled ours.
		return store.ImageFile{}, 0, store.ErrJobFinished
	default:
		return store.ImageFile{}, 0, fmt.Errorf("generate %s image %d: %w", img.Role, img.Position, err)
	}
	if len(out.Bytes) == 0 || !strings.HasPrefix(out.ContentType, "image/") {
		return store.ImageFile{}, 0, errs.Permanent(fmt.Errorf("the image model returned no image (%d bytes of %q)",
			len(out.Bytes), out.ContentType))
	}
	sum := sha256.Sum256(out.Bytes)
	return store.ImageFile{Data: out.Bytes, ContentType: out.ContentType, Width: out.Width, Height: out.Height,
		SHA256: sum[:], Model: out.Model, PredictionID: out.PredictionID}, out.CostUSD, nil
}

// imagePrompt asks the tenant's text model for the prompt and alt text of
// a draft's featured image and of the plan's new inline images, placed
// after some of its headings. A job whose prompt call a provider batch
// answered (#23) takes that answer when the call is still the one the
// batch was sent (the draft and its images unchanged since), through the
// usual validation and repair; otherwise the model is called.
func (w *Illustrator) imagePrompt(ctx context.Context, job store.Job, d store.Draft, pl imagePlan) (ai.ImagePrompt, ai.Usage, error) {
	writer, in, err := w.promptWriter(ctx, job.TenantID, d, pl)
	if err != nil {
		return ai.ImagePrompt{}, ai.Usage{}, err
	}
	if err := w.batchAnswered(ctx, job, &writer); err != nil {
		return ai.ImagePrompt{}, ai.Usage{}, err
	}
	var usage ai.Usage
	prompt, err := askChat(ctx, &usage, func() (ai.ImagePrompt, ai.Usage, error) { return writer.ImagePrompt(ctx, in) })
	if err != nil {
		return ai.ImagePrompt{}, usage, fmt.Errorf("write image prompt: %w", err)
	}
	return prompt, usage, nil
}

// promptWriter returns the writer of a tenant's image prompts and the
// input of a draft's for plan pl.
func (w *Illustrator) promptWriter(ctx context.Context, tenantID int64, d store.Draft, pl imagePlan) (*ai.Writer,
	ai.ImagePromptInput, error) {
	writer, _, err := w.models.For(ctx, tenantID, ai.StageImagePrompt)
	if err != nil {
		return nil, ai.ImagePromptInput{}, err
	}
	profile, err := siteProfile(ctx, w.store, tenantID, pl.site.ID)
	if err != nil {
		return nil, ai.ImagePromptInput{}, err
	}
	return writer, ai.ImagePromptInput{SiteName: pl.site.Name, Title: d.Title, FocusKeyword: d.FocusKeyword,
		Excerpt: d.Excerpt, Headings: pl.headings, InlineCount: pl.want, Profile: profile}, nil
}

// batchAnswered makes writer answer the prompt call of a job that a
// provider batch answered with the line's answer.
func (w *Illustrator) batchAnswered(ctx context.Context, job store.Job, writer **ai.Writer) error {
	req, answer, ok, err := batchAnswerOf(ctx, w.store, job)
	if err != nil || !ok {
		return err
	}
	*writer = (*writer).WithAnswer(req.Key, answer.Response)
	return nil
}

// firstRequest returns the request an images job's prompt call sends,
// without calling the model: the line of a provider batch. A job whose
// draft needs no prompt (its images are all there) has none to batch.
func (w *Illustrator) firstRequest(ctx context.Context, job store.Job) (ai.JSONRequest, error) {
	d, err := w.store.GetDraft(ctx, job.TenantID, job.SubjectID)
	if err != nil {
		return ai.JSONRequest{}, fmt.Errorf("draft %d: %w", job.SubjectID, err)
	}
	perImage, err := w.creditsPerImage(job)
	if err != nil {
		return ai.JSONRequest{}, err
	}
	pl, err := w.planImages(ctx, job.TenantID, job, d, perImage)
	if err != nil {
		return ai.JSONRequest{}, err
	}
	if !pl.needsPrompt() {
		return ai.JSONRequest{}, errors.New("the draft's images need no prompt")
	}
	writer, in, err := w.promptWriter(ctx, job.TenantID, d, pl)
	if err != nil {
		return ai.JSONRequest{}, err
	}
	return ai.FirstRequest(writer, func(w *ai.Writer) error { _, _, err := w.ImagePrompt(ctx, in); return err })
}

// draftHeadings returns the texts of a body's <h2> headings.
func draftHeadings(body string) []string {
	var out []string
	for _, h := range markup.Headings(body) {
		if h.Level == 2 {
			out = append(out, h.Text)
		}
	}
	return out
}

// watchCancel returns a context for the image model that ends when the job
// stops running (canceled), and stop, which ends the watch and reports
// whether it saw the job stop.
func (w *Illustrator) watchCancel(ctx context.Context, p tasks.Payload) (context.Context, func() bool) {
	genCtx, cancel := context.WithCancelCause(ctx)
	every := w.cancelCheck
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
			job, err := w.store.GetJob(genCtx, p.TenantID, p.JobID)
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
func (w *Illustrator) cancelPrediction(ctx context.Context, p tasks.Payload, model ai.ImageModel, imageID int64, predictionID string) {
	if predictionID == "" {
		return
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	log := w.log.With("task_id", p.JobID, "tenant", p.TenantID, "prediction_id", predictionID)
	if err := model.Cancel(bg, predictionID); err != nil {
		log.Warn("canceling the prediction of a canceled job", "error", err)
		return
	}
	if err := w.store.ClearImagePrediction(bg, p.TenantID, imageID, predictionID); err != nil {
		log.Warn("forgetting a canceled prediction", "error", err)
	}
	log.Info("prediction of a canceled job canceled")
}

// cancelLeftPredictions handles the delivery of a finished image job: if
// the job was canceled while its task waited (for a retry, say), the
// predictions its pending image rows still name are canceled.
func (w *Illustrator) cancelLeftPredictions(ctx context.Context, p tasks.Payload) {
	job, err := w.store.GetJob(ctx, p.TenantID, p.JobID)
	if err != nil || job.State != store.JobCanceled {
		return
	}
	imgs, err := w.store.ListImages(ctx, p.TenantID, p.SubjectID)
	if err != nil {
		return
	}
	var model ai.ImageModel
	for _, img := range imgs {
		if img.State != store.ImagePending || img.JobID != p.JobID || img.PredictionID == nil {
			continue
		}
		if model == nil {
			if model, err = w.models.ImageFor(ctx, p.TenantID); err != nil {
				return
			}
		}
		w.cancelPrediction(ctx, p, model, img.ID, *img.PredictionID)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
