package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// jobIDSpace namespaces the job ids derived from an Idempotency-Key.
var jobIDSpace = uuid.MustParse("6f1c7a52-3f0e-4d59-9a39-5b1c2a7e8d10")

// newID returns a random id, or, when the request has an Idempotency-Key,
// one derived from it and parts, so that a retried request names the same
// jobs and cannot create them twice.
func newID(c echo.Context, parts ...any) string {
	key := c.Request().Header.Get(idempotencyHeader)
	if key == "" {
		return uuid.NewString()
	}
	return uuid.NewSHA1(jobIDSpace, fmt.Appendf(nil, "%d|%s|%v", principal(c).TenantID, key, parts)).String()
}

// jobRef is a created job in a bulk answer.
type jobRef struct {
	ID        string `json:"id"`
	SubjectID int64  `json:"subject_id"`
}

// skippedRef is an item of a bulk request that got no new job.
type skippedRef struct {
	SubjectID int64  `json:"subject_id"`
	Reason    string `json:"reason"`
}

// jobsAccepted is the 202 answer of the generation endpoints.
type jobsAccepted struct {
	BatchID       string       `json:"batch_id,omitempty"`
	Jobs          []jobRef     `json:"jobs"`
	Skipped       []skippedRef `json:"skipped"`
	CreditsQuoted int64        `json:"credits_quoted"`
}

// createJobs records the jobs, enqueues them and answers 202. A batch id is
// made for more than one job. When every job was skipped (the same work is
// in flight) the answer is 409.
func (s *Server) createJobs(c echo.Context, js []store.NewJob) error {
	answer, err := s.makeJobs(c, js)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, answer)
}

// makeJobs records and enqueues jobs for createJobs and sets the Location
// header; the caller writes the answer.
func (s *Server) makeJobs(c echo.Context, js []store.NewJob) (jobsAccepted, error) {
	batchID := ""
	if len(js) > 1 {
		batchID = newID(c, "batch")
	}
	made, err := s.jobs.Create(c.Request().Context(), principal(c).TenantID, batchID, js)
	if errs.IsConflict(err) && batchID != "" {
		// The batch id comes from the Idempotency-Key: this request made it before.
		return jobsAccepted{}, errs.Public(err, "this request was made before; see GET /v1/batches/%s", batchID)
	}
	if err != nil {
		return jobsAccepted{}, err
	}
	if len(made.Created) == 0 {
		return jobsAccepted{}, errs.Public(errs.ErrConflict, "the same work is already queued or running; poll GET /v1/jobs")
	}
	answer := jobsAccepted{BatchID: batchID, Jobs: make([]jobRef, len(made.Created)), Skipped: make([]skippedRef, len(made.Skipped))}
	for i, j := range made.Created {
		answer.Jobs[i] = jobRef{ID: j.ID, SubjectID: j.SubjectID}
		answer.CreditsQuoted += j.CreditsQuoted
	}
	for i, j := range made.Skipped {
		answer.Skipped[i] = skippedRef{SubjectID: j.SubjectID, Reason: "a job for it is already queued or running"}
	}
	if batchID != "" {
		c.Response().Header().Set(echo.HeaderLocation, "/v1/batches/"+batchID)
	} else {
		c.Response().Header().Set(echo.HeaderLocation, "/v1/jobs/"+made.Created[0].ID)
	}
	return answer, nil
}

func (s *Server) startClustering(c echo.Context) error {
	return s.startSiteClustering(c, "cluster", s.store.CountUnclustered, tasks.ClusterParams{},
		"site %d has no unclustered keywords; import keywords first")
}

// startReclustering starts a full re-cluster of a site (#21): a clustering
// job that replaces the clusters neither locked, edited nor holding ideas
// (their keywords are grouped again with the unclustered ones) and keeps
// the others as they are. It is quoted on all the keywords it takes, and
// shares the clustering's one-job-per-site rule: a clustering queued or
// running makes it a conflict.
func (s *Server) startReclustering(c echo.Context) error {
	return s.startSiteClustering(c, "recluster", s.store.CountReclusterable, tasks.ClusterParams{Recluster: true},
		"site %d has nothing to re-cluster: no unclustered keywords, and every cluster is locked, edited or has ideas")
}

// startSiteClustering queues a clustering job of the site named by the
// path, quoted on the keywords count says it takes (at most a job's
// worth), times the credit multiplier of the catalogue model that names
// the clusters (which the job keeps in its parameters, to charge the
// keywords it clusters alike); with none it answers 409 with nothing
// (which names the site).
func (s *Server) startSiteClustering(c echo.Context, kind string,
	count func(ctx context.Context, tenantID, siteID int64) (int64, error), params tasks.ClusterParams, nothing string) error {
	siteID, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := noBody(c); err != nil {
		return err
	}
	ctx, tenant := c.Request().Context(), principal(c).TenantID
	if _, err := s.store.GetSite(ctx, tenant, siteID); err != nil {
		return err
	}
	n, err := count(ctx, tenant, siteID)
	if err != nil {
		return err
	}
	if n == 0 {
		return errs.Public(errs.ErrConflict, nothing, siteID)
	}
	quote := tasks.ClusterCost(min(n, tasks.MaxKeywordsPerClustering), s.cfg.Costs.KeywordsPerCredit)
	m, err := s.store.RoutedModel(ctx, tenant, string(ai.StageClusterName))
	if err != nil {
		return err
	}
	if m != nil && m.CreditMultiplier > 0 && m.CreditMultiplier != 1 {
		params.CreditMultiplier, quote = m.CreditMultiplier, m.Credits(quote)
	}
	var raw json.RawMessage
	if params != (tasks.ClusterParams{}) {
		raw, _ = json.Marshal(params)
	}
	return s.createJobs(c, []store.NewJob{{ID: newID(c, kind, siteID), Type: tasks.TypeCluster,
		Queue: jobs.QueueDefault, SiteID: siteID, SubjectID: siteID, Params: raw, Quote: quote}})
}

type generateIdeasRequest struct {
	ClusterIDs []int64 `json:"cluster_ids"`
	Count      *int    `json:"count"`
	// Mode is as a drafts request's (generateDraftsRequest), the tenant's
	// default counting the clusters.
	Mode string `json:"mode"`
}

// maxIdeasPerCluster bounds the ideas one job writes.
const maxIdeasPerCluster = 10

func (s *Server) generateIdeas(c echo.Context) error {
	var req generateIdeasRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	count := 3
	if req.Count != nil {
		count = *req.Count
	}
	v := &errs.ValidationError{}
	s.checkIDs(v, "cluster_ids", req.ClusterIDs)
	if count < 1 || count > maxIdeasPerCluster {
		v.Add("count", "must be from 1 to %d ideas per cluster", maxIdeasPerCluster)
	}
	checkMode(v, req.Mode)
	if err := v.OrNil(); err != nil {
		return err
	}
	mode, err := s.workMode(c, req.Mode, len(req.ClusterIDs), ai.StageIdeas)
	if err != nil {
		return err
	}
	credits := s.store.StageCredits
	if mode == modeBatch {
		credits = s.store.BatchStageCredits
	}
	params, _ := json.Marshal(tasks.IdeasParams{Count: count})
	quote, err := credits(c.Request().Context(), principal(c).TenantID, string(ai.StageIdeas), int64(count)*s.cfg.Costs.Idea)
	if err != nil {
		return err
	}
	return startPerSubject(s, c, req.ClusterIDs, perSubject[store.Cluster]{
		what: "cluster", kind: "ideas", typ: tasks.TypeIdeas, params: params, quote: quote, batched: mode == modeBatch,
		load: s.store.ClustersByIDs, ref: func(cl store.Cluster) (int64, int64) { return cl.ID, cl.SiteID }})
}

type generateDraftsRequest struct {
	IdeaIDs []int64 `json:"idea_ids"`
	// Mode "batch" sends the drafts' model calls through the provider's
	// Batch API (#23): cheaper, within 24 hours; "ordinary" at once; ""
	// batch when the tenant's default (batch_min_items) covers the bulk.
	Mode string `json:"mode"`
}

// Generation modes.
const (
	modeOrdinary = "ordinary"
	modeBatch    = "batch"
)

// checkMode checks a request's mode: "", "ordinary" or "batch".
func checkMode(v *errs.ValidationError, mode string) {
	if mode != "" && mode != modeOrdinary && mode != modeBatch {
		v.Add("mode", "must be %q or %q", modeOrdinary, modeBatch)
	}
}

func (s *Server) generateDrafts(c echo.Context) error {
	var req generateDraftsRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v := &errs.ValidationError{}
	s.checkIDs(v, "idea_ids", req.IdeaIDs)
	checkMode(v, req.Mode)
	if err := v.OrNil(); err != nil {
		return err
	}
	mode, err := s.workMode(c, req.Mode, len(req.IdeaIDs), ai.StageDraft)
	if err != nil {
		return err
	}
	credits := s.store.StageCredits
	if mode == modeBatch {
		credits = s.store.BatchStageCredits // cheaper: the catalogue's batch price
	}
	quote, err := credits(c.Request().Context(), principal(c).TenantID, string(ai.StageDraft), s.cfg.Costs.Draft)
	if err != nil {
		return err
	}
	return startPerSubject(s, c, req.IdeaIDs, perSubject[store.SubjectRef]{
		what: "idea", kind: "draft", typ: tasks.TypeDraft, quote: quote, batched: mode == modeBatch,
		load: s.store.IdeaRefs, ref: func(i store.SubjectRef) (int64, int64) { return i.ID, i.SiteID }})
}

type generateImagesRequest struct {
	DraftIDs []int64 `json:"draft_ids"`
	// Mode "batch" sends the image prompts' model calls through the
	// provider's Batch API (#23); the images are made the ordinary way
	// once the prompts are answered, and quoted as ordinary ones. Only
	// when asked: the tenant's default (batch_min_items) does not apply.
	Mode string `json:"mode"`
}

// generateImages makes the images of each draft, its featured image and
// the in-article images its site asks for: one job per draft, quoted one
// image cost per image, times the credit multiplier of the catalogue's
// image model (kept in the job's parameters, which the images made are
// charged by). A draft whose images failed gets them made again,
// at once: automation's limit and back-off do not apply to a request.
func (s *Server) generateImages(c echo.Context) error {
	var req generateImagesRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v := &errs.ValidationError{}
	s.checkIDs(v, "draft_ids", req.DraftIDs)
	checkMode(v, req.Mode)
	if err := v.OrNil(); err != nil {
		return err
	}
	mode := modeOrdinary
	if req.Mode == modeBatch {
		var err error
		if mode, err = s.workMode(c, req.Mode, len(req.DraftIDs), ai.StageImagePrompt); err != nil {
			return err
		}
	}
	perImage, err := s.store.StageCredits(c.Request().Context(), principal(c).TenantID, "images", s.cfg.Costs.Image)
	if err != nil {
		return err
	}
	var params json.RawMessage
	if perImage != s.cfg.Costs.Image {
		params, _ = json.Marshal(tasks.ImageParams{CreditsPerImage: perImage})
	}
	var sites map[int64]store.Site
	load := func(ctx context.Context, tenantID int64, ids []int64) ([]store.Draft, error) {
		drafts, err := s.store.DraftsByIDs(ctx, tenantID, ids)
		if err != nil {
			return nil, err
		}
		sites, err = s.store.SitesByIDs(ctx, tenantID, siteIDs(drafts))
		return drafts, err
	}
	return startPerSubject(s, c, req.DraftIDs, perSubject[store.Draft]{
		what: "draft", kind: "image", typ: tasks.TypeImage, params: params, batched: mode == modeBatch,
		quoteOf: func(d store.Draft) int64 { return int64(1+sites[d.SiteID].InlineImages) * perImage },
		load:    load, ref: func(d store.Draft) (int64, int64) { return d.ID, d.SiteID }})
}

// siteIDs returns the distinct sites of drafts.
func siteIDs(drafts []store.Draft) []int64 {
	ids := make([]int64, 0, len(drafts))
	for _, d := range drafts {
		if !slices.Contains(ids, d.SiteID) {
			ids = append(ids, d.SiteID)
		}
	}
	return ids
}

// perSubject describes a request for one job per subject (a cluster, an
// idea, a draft).
type perSubject[T any] struct {
	what   string // the subject in messages: "idea"
	kind   string // the job id namespace: "draft"
	typ    string
	params json.RawMessage
	quote  int64
	// quoteOf, if not nil, quotes each subject in place of quote.
	quoteOf func(T) int64
	// batched makes the jobs wait for a provider batch (store.JobBatched).
	batched bool
	load    func(ctx context.Context, tenantID int64, ids []int64) ([]T, error)
	ref     func(T) (id, siteID int64)
}

// startPerSubject loads the tenant's subjects named by ids (every one must
// exist) and creates one job for each.
func startPerSubject[T any](s *Server, c echo.Context, ids []int64, p perSubject[T]) error {
	subjects, err := p.load(c.Request().Context(), principal(c).TenantID, ids)
	if err != nil {
		return err
	}
	if err := allFound(p.what, ids, subjects, func(t T) int64 { id, _ := p.ref(t); return id }); err != nil {
		return err
	}
	js := make([]store.NewJob, len(subjects))
	for i, subject := range subjects {
		id, siteID := p.ref(subject)
		quote := p.quote
		if p.quoteOf != nil {
			quote = p.quoteOf(subject)
		}
		js[i] = store.NewJob{ID: newID(c, p.kind, id), Type: p.typ, Queue: jobs.QueueFor(len(subjects)),
			SiteID: siteID, SubjectID: id, Params: p.params, Quote: quote, Batched: p.batched}
	}
	return s.createJobs(c, js)
}

// idsProblem is the 400 of a request whose only field is a list of ids,
// or nil.
func (s *Server) idsProblem(field string, ids []int64) error {
	v := &errs.ValidationError{}
	s.checkIDs(v, field, ids)
	return v.OrNil()
}

// checkIDs validates a list of ids: present, bounded, positive, no repeats.
func (s *Server) checkIDs(v *errs.ValidationError, field string, ids []int64) {
	switch {
	case len(ids) == 0:
		v.Add(field, "must list at least one id")
	case len(ids) > s.cfg.MaxBulkItems:
		v.Add(field, "may list at most %d ids per request, got %d", s.cfg.MaxBulkItems, len(ids))
	default:
		seen := make(map[int64]bool, len(ids))
		for i, id := range ids {
			if id <= 0 {
				v.Add(field+"["+strconv.Itoa(i)+"]", "must be a positive id")
				return
			}
			if seen[id] {
				v.Add(field+"["+strconv.Itoa(i)+"]", "repeats id %d", id)
				return
			}
			seen[id] = true
		}
	}
}

// allFound returns not found naming the first asked id with no row.
func allFound[T any](what string, asked []int64, found []T, idOf func(T) int64) error {
	if len(found) == len(asked) {
		return nil
	}
	have := make([]int64, len(found))
	for i, f := range found {
		have[i] = idOf(f)
	}
	slices.Sort(have)
	for _, id := range asked {
		if _, ok := slices.BinarySearch(have, id); !ok {
			return errs.Public(errs.ErrNotFound, "no %s with id %d", what, id)
		}
	}
	return nil
}
