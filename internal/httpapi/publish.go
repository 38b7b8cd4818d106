package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/automation"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// maxScheduleAhead bounds how far ahead a future post may be scheduled.
const maxScheduleAhead = 2 * 365 * 24 * time.Hour

// publishRequest asks for drafts to be published.
type publishRequest struct {
	DraftIDs []int64 `json:"draft_ids"`
	// Status is the posts' WordPress status: publish (default), draft or
	// future (with publish_at).
	Status    *string   `json:"status"`
	PublishAt *jsonTime `json:"publish_at"`
}

// publishAccepted is the 202 answer of a publish: the jobs made, the drafts
// now waiting for review, and those skipped.
type publishAccepted struct {
	jobsAccepted
	HeldForReview []int64 `json:"held_for_review"`
}

// params checks the publish options, adding problems to v.
func (r publishRequest) params(now time.Time, v *errs.ValidationError) tasks.PublishParams {
	p := tasks.PublishParams{Status: tasks.PostPublish}
	if r.Status != nil {
		p.Status = *r.Status
	}
	switch p.Status {
	case tasks.PostPublish, tasks.PostDraft:
		if r.PublishAt != nil {
			v.Add("publish_at", "is only for status future")
		}
	case tasks.PostFuture:
		switch {
		case r.PublishAt == nil:
			v.Add("publish_at", "is required for status future")
		case r.PublishAt.Before(now.Add(time.Minute)):
			v.Add("publish_at", "must be at least a minute in the future")
		case r.PublishAt.After(now.Add(maxScheduleAhead)):
			v.Add("publish_at", "must be within two years")
		default:
			at := r.PublishAt.UTC().Truncate(time.Second)
			p.PublishAt = &at
		}
	default:
		v.Add("status", "must be publish, draft or future")
	}
	return p
}

// publishDrafts publishes drafts to their sites: one post:publish job per
// draft. Drafts that need review (automation.NeedsReview) wait in
// awaiting_review instead, with these options, until an editor approves
// them.
func (s *Server) publishDrafts(c echo.Context) error {
	var req publishRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v := &errs.ValidationError{}
	s.checkIDs(v, "draft_ids", req.DraftIDs)
	params := req.params(time.Now(), v)
	if err := v.OrNil(); err != nil {
		return err
	}
	drafts, err := s.tenantDrafts(c, req.DraftIDs)
	if err != nil {
		return err
	}
	sites, err := s.store.SitesByIDs(c.Request().Context(), principal(c).TenantID, siteIDs(drafts))
	if err != nil {
		return err
	}
	publish, held := automation.SplitForReview(drafts, sites)
	encoded, _ := json.Marshal(params)
	heldIDs, err := s.holdForReview(c, held, encoded)
	if err != nil {
		return err
	}
	return s.createPublishJobs(c, publish, encoded, heldIDs)
}

func (s *Server) holdForReview(c echo.Context, drafts []store.Draft, params json.RawMessage) ([]int64, error) {
	if len(drafts) == 0 {
		return []int64{}, nil
	}
	ids := make([]int64, len(drafts))
	for i, d := range drafts {
		ids[i] = d.ID
	}
	held, err := s.store.HoldForReview(c.Request().Context(), principal(c).TenantID, ids, params)
	if err != nil {
		return nil, err
	}
	s.audit(c, "draft.hold_for_review", fmt.Sprintf("drafts:%v", held))
	return held, nil
}

// createPublishJobs makes one publish job per draft with params. With no
// draft to publish now (all held for review) it answers 202 with none.
func (s *Server) createPublishJobs(c echo.Context, drafts []store.Draft, params json.RawMessage, held []int64) error {
	if len(drafts) == 0 {
		return c.JSON(http.StatusAccepted, publishAccepted{
			jobsAccepted:  jobsAccepted{Jobs: []jobRef{}, Skipped: []skippedRef{}},
			HeldForReview: held})
	}
	js := make([]store.NewJob, len(drafts))
	for i, d := range drafts {
		js[i] = store.NewJob{ID: newID(c, "publish", d.ID), Type: tasks.TypePublish, Queue: jobs.QueueFor(len(drafts)),
			SiteID: d.SiteID, SubjectID: d.ID, Params: params}
	}
	answer, err := s.makeJobs(c, js)
	if errs.IsConflict(err) && len(held) > 0 {
		// Every publish is in flight already, but drafts were held: say so.
		answer = jobsAccepted{Jobs: []jobRef{}, Skipped: make([]skippedRef, len(drafts))}
		for i, d := range drafts {
			answer.Skipped[i] = skippedRef{SubjectID: d.ID, Reason: "a job for it is already queued or running"}
		}
	} else if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, publishAccepted{jobsAccepted: answer, HeldForReview: held})
}

type approveRequest struct {
	DraftIDs []int64 `json:"draft_ids"`
}

// approveDrafts approves drafts and publishes them with the options they
// were held with (or as live posts, when they were never held).
func (s *Server) approveDrafts(c echo.Context) error {
	var req approveRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.idsProblem("draft_ids", req.DraftIDs); err != nil {
		return err
	}
	if _, err := s.tenantDrafts(c, req.DraftIDs); err != nil {
		return err
	}
	approved, err := s.store.ApproveDrafts(c.Request().Context(), principal(c).TenantID, req.DraftIDs)
	if err != nil {
		return err
	}
	s.audit(c, "draft.approve", fmt.Sprintf("drafts:%v", req.DraftIDs))
	if len(approved) == 0 {
		return errs.Public(errs.ErrConflict, "the drafts are already published; edit them and publish again to update the posts")
	}
	js := make([]store.NewJob, len(approved))
	for i, d := range approved {
		params := d.PublishRequest
		if len(params) == 0 {
			params, _ = json.Marshal(tasks.PublishParams{Status: tasks.PostPublish})
		}
		js[i] = store.NewJob{ID: newID(c, "publish", d.ID), Type: tasks.TypePublish, Queue: jobs.QueueFor(len(approved)),
			SiteID: d.SiteID, SubjectID: d.ID, Params: params}
	}
	return s.createJobs(c, js)
}

// tenantDrafts loads the tenant's drafts named by ids; every one must
// exist.
func (s *Server) tenantDrafts(c echo.Context, ids []int64) ([]store.Draft, error) {
	drafts, err := s.store.DraftsByIDs(c.Request().Context(), principal(c).TenantID, ids)
	if err != nil {
		return nil, err
	}
	return drafts, allFound("draft", ids, drafts, func(d store.Draft) int64 { return d.ID })
}
