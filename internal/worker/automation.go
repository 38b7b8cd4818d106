package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/automation"
	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// automationStore is what an automation run reads and writes.
type automationStore interface {
	StartJobCosting(ctx context.Context, tenantID int64, jobID string, cost int64, phase string) (store.Job, error)
	LoadRun(ctx context.Context, tenantID int64, runID string) (store.RunContext, error)
	CountUnclustered(ctx context.Context, tenantID, siteID int64) (int64, error)
	CountCandidates(ctx context.Context, q store.CandidateQuery) (int64, error)
	Candidates(ctx context.Context, q store.CandidateQuery, limit int) ([]store.Candidate, error)
	FinishRun(ctx context.Context, o store.Outcome, plan []store.StagePlan, skipped []store.Skip) ([]store.Job, error)
	RunJobs(ctx context.Context, tenantID int64, runID string) ([]store.Job, error)
	RoutedModel(ctx context.Context, tenantID int64, stage string) (*store.AIModel, error)
}

// submitter commits jobs and puts them on the queue (jobs.Client).
type submitter interface {
	Submit(ctx context.Context, commit func(context.Context) ([]store.Job, error)) error
}

// RunPlanner runs automation:run jobs: it plans a rule's work from
// PostgreSQL and submits it.
type RunPlanner struct {
	store automationStore
	jobs  submitter
	costs config.Costs
}

// Work plans and submits a rule's run. The plan, the run's record and the
// jobs are written in one transaction; a repeated delivery only submits
// again the jobs the plan made, which asynq rejects if it holds them
// already.
func (r *RunPlanner) Work(ctx context.Context, p tasks.Payload) error {
	job, err := r.store.StartJobCosting(ctx, p.TenantID, p.JobID, 0, "planning")
	if errors.Is(err, store.ErrJobFinished) {
		return r.jobs.Submit(ctx, func(ctx context.Context) ([]store.Job, error) {
			return r.store.RunJobs(ctx, p.TenantID, p.JobID)
		})
	}
	if err != nil {
		return err
	}
	rc, err := r.store.LoadRun(ctx, p.TenantID, p.JobID)
	if err != nil {
		return err
	}
	plan, skipped, err := r.plan(ctx, rc)
	if err != nil {
		return err
	}
	return r.jobs.Submit(ctx, func(ctx context.Context) ([]store.Job, error) {
		return r.store.FinishRun(ctx, outcome(p, job, 0, ai.Usage{}, nil), plan, skipped)
	})
}

// plan decides a run's jobs, stage by stage in pipeline order, within
// the rule's caps and the tenant's credits, and says what it skipped.
func (r *RunPlanner) plan(ctx context.Context, rc store.RunContext) ([]store.StagePlan, []store.Skip, error) {
	if reason, err := r.runBlocked(ctx, rc); reason != "" || err != nil {
		return nil, []store.Skip{{Reason: reason}}, err
	}
	b := automation.NewBudget(rc)
	var plan []store.StagePlan
	var skipped []store.Skip
	for _, stage := range tasks.Pipeline {
		if !slices.Contains(rc.Rule.Stages, stage.Name) {
			continue
		}
		planned, skip, err := r.planStage(ctx, rc, stage, &b)
		if err != nil {
			return nil, nil, err
		}
		if len(planned) > 0 {
			plan = append(plan, store.StagePlan{Stage: stage.Name, Jobs: planned})
		}
		if skip != nil {
			skipped = append(skipped, *skip)
		}
	}
	return plan, skipped, nil
}

// runBlocked says why the whole run must do nothing, or "".
func (r *RunPlanner) runBlocked(ctx context.Context, rc store.RunContext) (string, error) {
	if reason := automation.Blocked(rc); reason != "" {
		return reason, nil
	}
	for _, c := range rc.Rule.Conditions {
		have, err := r.conditionValue(ctx, rc, c.Field)
		if err != nil {
			return "", err
		}
		if reason := automation.Unmet(c, have); reason != "" {
			return reason, nil
		}
	}
	return "", nil
}

// conditionValue reads the value a condition of the run's rule tests.
func (r *RunPlanner) conditionValue(ctx context.Context, rc store.RunContext, field string) (int64, error) {
	switch field {
	case automation.FieldCreditsAvailable:
		return rc.Available, nil
	case automation.FieldUnclusteredKeywords:
		return r.store.CountUnclustered(ctx, rc.Rule.TenantID, rc.Rule.SiteID)
	}
	name, ok := automation.ConditionStage(field)
	if !ok {
		return 0, errs.Permanent(fmt.Errorf("the rule tests an unknown field %q", field))
	}
	stage, _ := tasks.StageNamed(name) // every backlog field counts a pipeline stage's candidates
	return r.store.CountCandidates(ctx, automation.CandidateQuery(rc, stage.Name, stage.Type))
}

// planStage makes a stage's jobs within the budget and says what it left
// undone, or nil.
func (r *RunPlanner) planStage(ctx context.Context, rc store.RunContext, stage tasks.Stage,
	b *automation.Budget) ([]store.NewJob, *store.Skip, error) {
	// Beyond what the budget takes, fetch enough to name what the cap leaves.
	limit := b.Items + automation.MaxNamed
	candidates, err := r.store.Candidates(ctx, automation.CandidateQuery(rc, stage.Name, stage.Type), limit)
	if err != nil {
		return nil, nil, err
	}
	if len(candidates) == 0 {
		skip := automation.NothingToDo(stage.Name)
		return nil, &skip, nil
	}
	routed, err := r.routedModel(ctx, rc.Rule.TenantID, stage.Name)
	if err != nil {
		return nil, nil, err
	}
	planned := make([]store.NewJob, 0, min(len(candidates), b.Items))
	for i, c := range candidates {
		if b.Items <= 0 {
			skip, err := r.capReached(ctx, rc, stage, candidates[i:], len(candidates) == limit, len(planned))
			return planned, skip, err
		}
		quote, params := r.stageQuote(stage.Name, c, rc, routed)
		if quote > b.Credits {
			return planned, &store.Skip{Stage: stage.Name,
				Reason: b.Shortfall(stage.Name, quote, min(len(candidates)-len(planned), b.Items))}, nil
		}
		b.Spend(quote)
		planned = append(planned, store.NewJob{
			ID: fmt.Sprintf("%s:%s:%d", rc.Run.ID, stage.Name, c.SubjectID), Type: stage.Type, Queue: jobs.QueueBulk,
			SiteID: rc.Rule.SiteID, SubjectID: c.SubjectID, Params: params, Quote: quote, RuleID: rc.Rule.ID})
	}
	return planned, nil, nil
}

// capReached reports the stage's candidates left over because the rule's
// item cap is reached. more says others may lie beyond those fetched (then
// they are counted); planned is how many of the stage's candidates this
// run took.
func (r *RunPlanner) capReached(ctx context.Context, rc store.RunContext, stage tasks.Stage, left []store.Candidate,
	more bool, planned int) (*store.Skip, error) {
	total := int64(len(left))
	if more {
		all, err := r.store.CountCandidates(ctx, automation.CandidateQuery(rc, stage.Name, stage.Type))
		if err != nil {
			return nil, err
		}
		total = max(total, all-int64(planned))
	}
	ids := make([]int64, min(len(left), automation.MaxNamed))
	for i := range ids {
		ids[i] = left[i].SubjectID
	}
	skip := automation.CapReached(rc, stage.Name, stage.Subjects, ids, total)
	return &skip, nil
}

// routedModel returns the catalogue model that serves an automation
// stage's jobs when a tenant's choice or an operator's route decides it,
// whose credit multiplier the quotes take: cluster naming, ideas, drafts
// and images (publishing costs nothing).
func (r *RunPlanner) routedModel(ctx context.Context, tenantID int64, stage string) (*store.AIModel, error) {
	modelStage := map[string]ai.Stage{store.StageCluster: ai.StageClusterName, store.StageIdeas: ai.StageIdeas,
		store.StageDrafts: ai.StageDraft, store.StageImages: "images"}[stage]
	if modelStage == "" {
		return nil, nil
	}
	return r.store.RoutedModel(ctx, tenantID, string(modelStage))
}

// stageQuote prices a candidate's job, times the credit multiplier of the
// stage's routed model if any, and gives its parameters: a clustering's
// and an image job's carry the multiplier their charges take.
func (r *RunPlanner) stageQuote(stage string, c store.Candidate, rc store.RunContext, routed *store.AIModel) (int64, json.RawMessage) {
	credits := func(base int64) int64 {
		if routed == nil {
			return base
		}
		return routed.Credits(base)
	}
	switch stage {
	case store.StageCluster:
		quote := tasks.ClusterCost(min(c.Need, tasks.MaxKeywordsPerClustering), r.costs.KeywordsPerCredit)
		if routed == nil || routed.CreditMultiplier <= 0 || routed.CreditMultiplier == 1 {
			return quote, nil
		}
		params, _ := json.Marshal(tasks.ClusterParams{CreditMultiplier: routed.CreditMultiplier})
		return routed.Credits(quote), params
	case store.StageIdeas:
		params, _ := json.Marshal(tasks.IdeasParams{Count: int(c.Need)})
		return credits(c.Need * r.costs.Idea), params
	case store.StageDrafts:
		return credits(r.costs.Draft), nil
	case store.StageImages:
		perImage := credits(r.costs.Image)
		var params json.RawMessage
		if perImage != r.costs.Image {
			params, _ = json.Marshal(tasks.ImageParams{CreditsPerImage: perImage})
		}
		return int64(1+rc.Site.InlineImages) * perImage, params
	}
	if len(c.Params) > 0 {
		return 0, c.Params
	}
	params, _ := json.Marshal(tasks.PublishParams{Status: tasks.PostPublish})
	return 0, params
}
