package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// TypeAutomation is an automation rule's run: it plans the rule's work
// from PostgreSQL and enqueues it.
const TypeAutomation = store.RunJobType

// stageTypes maps each automation stage to the job type it creates.
var stageTypes = map[string]string{
	store.StageCluster: TypeCluster,
	store.StageIdeas:   TypeIdeas,
	store.StageDrafts:  TypeDraft,
	store.StageImages:  TypeImage,
	store.StagePublish: TypePublish,
}

// Condition fields and operators an automation rule may test.
var (
	ConditionFields = []string{"unclustered_keywords", "clusters_needing_ideas", "ideas_without_drafts",
		"drafts_without_images", "drafts_to_publish", "credits_available"}
	ConditionOps = []string{"gt", "gte", "lt", "lte", "eq", "ne"}
)

// conditionStages maps the backlog fields to the stage whose candidates
// they count.
var conditionStages = map[string]string{
	"clusters_needing_ideas": store.StageIdeas,
	"ideas_without_drafts":   store.StageDrafts,
	"drafts_without_images":  store.StageImages,
	"drafts_to_publish":      store.StagePublish,
}

// CheckConditions adds a problem to v for each malformed condition.
func CheckConditions(v *errs.ValidationError, conditions []store.Condition) {
	const most = 10
	if len(conditions) > most {
		v.Add("conditions", "may list at most %d conditions, got %d", most, len(conditions))
		return
	}
	for i, c := range conditions {
		field := fmt.Sprintf("conditions[%d]", i)
		if !slices.Contains(ConditionFields, c.Field) {
			v.Add(field+".field", "must be one of %v", ConditionFields)
		}
		if !slices.Contains(ConditionOps, c.Op) {
			v.Add(field+".op", "must be one of %v", ConditionOps)
		}
		if c.Value < 0 {
			v.Add(field+".value", "must not be negative")
		}
	}
}

// runAutomation plans and enqueues a rule's run. The plan, the run's
// record and the jobs are written in one transaction; a repeated delivery
// only enqueues again the jobs the plan made, which asynq rejects if it
// holds them already.
func (h *Handlers) runAutomation(ctx context.Context, p Payload) error {
	job, err := h.Store.StartJob(ctx, p.TenantID, p.JobID, 0, "planning")
	if errors.Is(err, store.ErrJobFinished) {
		return h.enqueueRunJobs(ctx, p)
	}
	if err != nil {
		return err
	}
	rc, err := h.Store.LoadRun(ctx, p.TenantID, p.JobID)
	if err != nil {
		return err
	}
	plan, skipped, err := h.planRun(ctx, rc)
	if err != nil {
		return err
	}
	deliver, err := h.Store.FinishRun(ctx, outcome(p, job, 0, ai.Usage{}, nil), plan, skipped)
	if err != nil {
		return err
	}
	if len(deliver) > 0 {
		if err := h.Enqueuer.Enqueue(ctx, deliver); err != nil {
			h.Log.Warn("enqueue of a run's jobs failed; the reconciler will deliver", "run", p.JobID, "error", err)
		}
	}
	return nil
}

func (h *Handlers) enqueueRunJobs(ctx context.Context, p Payload) error {
	jobs, err := h.Store.RunJobs(ctx, p.TenantID, p.JobID)
	if err != nil || len(jobs) == 0 {
		return err
	}
	return h.Enqueuer.Enqueue(ctx, jobs)
}

// planRun decides a run's jobs, stage by stage in pipeline order, within
// the rule's caps and the tenant's credits, and says what it skipped.
func (h *Handlers) planRun(ctx context.Context, rc store.RunContext) ([]store.StagePlan, []store.Skip, error) {
	if reason, err := h.runBlocked(ctx, rc); reason != "" || err != nil {
		return nil, []store.Skip{{Reason: reason}}, err
	}
	b := budget{items: max(0, rc.Rule.MaxItems-rc.Unfinished), credits: rc.Available}
	if rc.Rule.MaxCredits != nil && *rc.Rule.MaxCredits < b.credits {
		b.credits, b.capped = *rc.Rule.MaxCredits, true
	}
	var plan []store.StagePlan
	var skipped []store.Skip
	for _, stage := range store.Stages {
		if !slices.Contains(rc.Rule.Stages, stage) {
			continue
		}
		jobs, skip, err := h.planStage(ctx, rc, stage, &b)
		if err != nil {
			return nil, nil, err
		}
		if len(jobs) > 0 {
			plan = append(plan, store.StagePlan{Stage: stage, Jobs: jobs})
		}
		if skip != nil {
			skipped = append(skipped, *skip)
		}
	}
	return plan, skipped, nil
}

// budget is what a run may still spend.
type budget struct {
	items   int
	credits int64
	capped  bool // credits is the rule's cap, not the balance
}

// runBlocked says why the whole run must do nothing, or "".
func (h *Handlers) runBlocked(ctx context.Context, rc store.RunContext) (string, error) {
	switch {
	case rc.TenantStatus != "active":
		return "the tenant is " + rc.TenantStatus, nil
	case !rc.Rule.Enabled && rc.Run.Trigger == "schedule":
		return "the rule was disabled after it fired", nil
	case !rc.Site.Enabled:
		return fmt.Sprintf("site %q is disabled", rc.Site.Name), nil
	}
	for _, c := range rc.Rule.Conditions {
		have, err := h.conditionValue(ctx, rc, c.Field)
		if err != nil {
			return "", err
		}
		if !compare(have, c.Op, c.Value) {
			return fmt.Sprintf("condition %s %s %d does not hold: it is %d", c.Field, c.Op, c.Value, have), nil
		}
	}
	return "", nil
}

func (h *Handlers) conditionValue(ctx context.Context, rc store.RunContext, field string) (int64, error) {
	switch field {
	case "credits_available":
		return rc.Available, nil
	case "unclustered_keywords":
		return h.Store.CountUnclustered(ctx, rc.Rule.TenantID, rc.Rule.SiteID)
	}
	stage, ok := conditionStages[field]
	if !ok {
		return 0, errs.Permanent(fmt.Errorf("the rule tests an unknown field %q", field))
	}
	return h.Store.CountCandidates(ctx, candidateQuery(rc, stage))
}

func compare(have int64, op string, want int64) bool {
	switch op {
	case "gt":
		return have > want
	case "gte":
		return have >= want
	case "lt":
		return have < want
	case "lte":
		return have <= want
	case "eq":
		return have == want
	case "ne":
		return have != want
	}
	return false
}

func candidateQuery(rc store.RunContext, stage string) store.CandidateQuery {
	return store.CandidateQuery{
		TenantID: rc.Rule.TenantID, SiteID: rc.Rule.SiteID, Stage: stage, JobType: stageTypes[stage],
		IdeasPerCluster: rc.Rule.IdeasPerCluster,
		// A site that requires review publishes approved drafts only.
		AutoApprove: rc.Rule.AutoApprove && !rc.Site.RequireReview,
		// In a run that makes images, a draft is published once it has them.
		NeedImages: slices.Contains(rc.Rule.Stages, store.StageImages),
	}
}

// nothingToDo says why a stage found no work.
var nothingToDo = map[string]string{
	store.StageCluster: "nothing to do: no keyword is new since the last clustering (keywords it could not group " +
		"wait for new ones, or for POST /v1/sites/:id/clustering), or a clustering job is in flight",
	store.StageIdeas:   "nothing to do: every cluster has its ideas or an ideas job in flight",
	store.StageDrafts:  "nothing to do: every idea has a draft or a draft job in flight",
	store.StageImages:  "nothing to do: every unpublished draft has images or an image job in flight",
	store.StagePublish: "nothing to do: no draft is ready to publish",
}

// subjectNames names what each stage's subjects are.
var subjectNames = map[string]string{
	store.StageCluster: "sites", store.StageIdeas: "clusters", store.StageDrafts: "ideas",
	store.StageImages: "drafts", store.StagePublish: "drafts",
}

// maxNamed bounds the subjects a run report names per stage.
const maxNamed = 20

// planStage makes a stage's jobs within the budget and says what it left
// undone, or nil.
func (h *Handlers) planStage(ctx context.Context, rc store.RunContext, stage string, b *budget) ([]store.NewJob, *store.Skip, error) {
	// Beyond what the budget takes, fetch enough to name what the cap leaves.
	limit := b.items + maxNamed
	candidates, err := h.Store.Candidates(ctx, candidateQuery(rc, stage), limit)
	if err != nil {
		return nil, nil, err
	}
	if len(candidates) == 0 {
		return nil, &store.Skip{Stage: stage, Reason: nothingToDo[stage]}, nil
	}
	jobs := make([]store.NewJob, 0, min(len(candidates), b.items))
	for i, c := range candidates {
		if b.items <= 0 {
			skip, err := h.capReached(ctx, rc, stage, candidates[i:], len(candidates) == limit, len(jobs))
			return jobs, skip, err
		}
		quote, params := h.stageQuote(stage, c, rc)
		if quote > b.credits {
			return jobs, &store.Skip{Stage: stage,
				Reason: h.creditShortfall(stage, quote, *b, min(len(candidates)-len(jobs), b.items))}, nil
		}
		b.credits -= quote
		b.items--
		jobs = append(jobs, store.NewJob{
			ID: fmt.Sprintf("%s:%s:%d", rc.Run.ID, stage, c.SubjectID), Type: stageTypes[stage], Queue: QueueBulk,
			SiteID: rc.Rule.SiteID, SubjectID: c.SubjectID, Params: params, Quote: quote, RuleID: rc.Rule.ID})
	}
	return jobs, nil, nil
}

// capReached reports the stage's candidates left over because the rule's
// item cap is reached, naming up to maxNamed of them. more says others may
// lie beyond those fetched (then they are counted); planned is how many of
// the stage's candidates this run took.
func (h *Handlers) capReached(ctx context.Context, rc store.RunContext, stage string, left []store.Candidate,
	more bool, planned int) (*store.Skip, error) {
	total := int64(len(left))
	if more {
		all, err := h.Store.CountCandidates(ctx, candidateQuery(rc, stage))
		if err != nil {
			return nil, err
		}
		total = max(total, all-int64(planned))
	}
	named := left[:min(len(left), maxNamed)]
	ids := make([]int64, len(named))
	list := make([]string, len(named))
	for i, c := range named {
		ids[i], list[i] = c.SubjectID, fmt.Sprint(c.SubjectID)
	}
	which := strings.Join(list, ", ")
	if total > int64(len(named)) {
		which = fmt.Sprintf("the first %d: %s", len(named), which)
	}
	return &store.Skip{Stage: stage, Subjects: ids, Reason: fmt.Sprintf(
		"the cap of %d items is reached (it counts this rule's jobs still queued or running, from earlier runs too: "+
			"%d jobs of earlier runs are unfinished): %d %s left for a later run (%s)",
		rc.Rule.MaxItems, rc.Unfinished, total, subjectNames[stage], which)}, nil
}

func (h *Handlers) creditShortfall(stage string, quote int64, b budget, left int) string {
	if b.capped {
		return fmt.Sprintf("the run's credit cap is spent: %d %s items left for a later run (the next needs %d credits, %d left)",
			left, stage, quote, b.credits)
	}
	return fmt.Sprintf("not enough credits: the next %s job needs %d, %d available; %d items left", stage, quote, b.credits, left)
}

// stageQuote prices a candidate's job and gives its parameters.
func (h *Handlers) stageQuote(stage string, c store.Candidate, rc store.RunContext) (int64, json.RawMessage) {
	switch stage {
	case store.StageCluster:
		return ClusterCost(min(c.Need, MaxKeywordsPerClustering), h.Costs.KeywordsPerCredit), nil
	case store.StageIdeas:
		params, _ := json.Marshal(IdeasParams{Count: int(c.Need)})
		return c.Need * h.Costs.Idea, params
	case store.StageDrafts:
		return h.Costs.Draft, nil
	case store.StageImages:
		return int64(1+rc.Site.InlineImages) * h.Costs.Image, nil
	}
	if len(c.Params) > 0 {
		return 0, c.Params
	}
	params, _ := json.Marshal(PublishParams{Status: PostPublish})
	return 0, params
}
