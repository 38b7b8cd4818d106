package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// RunContext is what an automation run reads before it plans.
type RunContext struct {
	Run          Run
	Rule         Rule
	Site         Site
	TenantStatus string
	// Available is the credit balance: what queued jobs reserved is
	// already taken off it.
	Available int64
	// Unfinished counts the jobs of the rule's runs still queued or running.
	Unfinished int
}

// LoadRun reads a run with its rule, site, tenant and the rule's
// unfinished jobs.
func (s *Store) LoadRun(ctx context.Context, tenantID int64, runID string) (RunContext, error) {
	var rc RunContext
	var err error
	if rc.Run, err = s.GetRun(ctx, tenantID, runID); err != nil {
		return rc, fmt.Errorf("run %s: %w", runID, err)
	}
	if rc.Rule, err = s.GetRule(ctx, tenantID, rc.Run.RuleID); err != nil {
		return rc, fmt.Errorf("rule %d: %w", rc.Run.RuleID, err)
	}
	if rc.Site, err = s.GetSite(ctx, tenantID, rc.Rule.SiteID); err != nil {
		return rc, fmt.Errorf("site %d: %w", rc.Rule.SiteID, err)
	}
	err = s.pool.QueryRow(ctx, `
		SELECT t.status, t.credit_balance,
		       (SELECT count(*) FROM jobs j WHERE j.rule_id = $2 AND j.state IN ('queued', 'running', 'batched'))
		FROM tenants t WHERE t.id = $1`, tenantID, rc.Rule.ID).Scan(&rc.TenantStatus, &rc.Available, &rc.Unfinished)
	return rc, translate(err)
}

// CandidateQuery asks for a stage's work on a site: the subjects that have
// none of JobType's jobs in flight and still need the stage.
type CandidateQuery struct {
	TenantID, SiteID int64
	Stage            string
	JobType          string
	// IdeasPerCluster: the ideas stage tops clusters up to this many ideas.
	IdeasPerCluster int
	// AutoApprove: the publish stage takes drafts nobody approved as well.
	AutoApprove bool
	// NeedImages: the publish stage takes only drafts with a ready featured
	// image, or, on a site that publishes without one, drafts whose featured
	// image failed ImageRetryLimit times.
	NeedImages bool
}

// Candidate is a subject a stage can work on; Need is how many items it
// lacks (ideas for a cluster, keywords for clustering), Params a publish
// request held with a draft.
type Candidate struct {
	SubjectID int64
	Need      int64
	Params    json.RawMessage
}

// inflightFree is true when the row aliased x has no unfinished job of type $3.
const inflightFree = ` NOT EXISTS (SELECT 1 FROM jobs j WHERE j.type = $3 AND j.subject_id = x.id
	AND j.state IN ('queued', 'running', 'batched'))`

// unseenKeywords is true when the site aliased x has an unclustered keyword
// that no succeeded clustering job ($3) has tried: one new since, or one
// left by a job that failed, was canceled or is still running.
const unseenKeywords = `(EXISTS (SELECT 1 FROM keywords k WHERE k.tenant_id = $1 AND k.site_id = x.id
		AND k.cluster_id IS NULL AND k.outlier_job IS NULL)
	OR EXISTS (SELECT 1 FROM jobs o WHERE o.tenant_id = $1 AND o.type = $3 AND o.subject_id = x.id
		AND o.state IN ('queued', 'running', 'batched', 'blocked', 'failed', 'canceled')
		AND EXISTS (SELECT 1 FROM keywords k WHERE k.site_id = x.id AND k.cluster_id IS NULL AND k.outlier_job = o.id)))`

// imageRetryDue is true when the draft aliased x has failed images that
// automation retries now: each failed fewer than $4 times, and the last
// failure is at least $5 seconds * 2^(failures-1) ago.
const imageRetryDue = `coalesce((SELECT max(im.failures) < $4 AND max(im.failed_at) <= now()
		- make_interval(secs => $5::float8 * power(2, max(im.failures) - 1))
	FROM images im WHERE im.draft_id = x.id AND im.state = 'failed'), false)`

// featuredFailed is true when the draft aliased x has a failed featured
// image; featuredGivenUp when automation retries it no more (failed $4
// times).
const (
	featuredFailed = `EXISTS (SELECT 1 FROM images im WHERE im.draft_id = x.id AND im.role = 'featured'
		AND im.state = 'failed')`
	featuredGivenUp = `EXISTS (SELECT 1 FROM images im WHERE im.draft_id = x.id AND im.role = 'featured'
		AND im.state = 'failed' AND im.failures >= $4)`
)

// candidateSQL returns the query of a stage's candidates (columns id, need,
// params) and its arguments after the tenant, site and job type.
func candidateSQL(q CandidateQuery) (string, []any, error) {
	switch q.Stage {
	case StageCluster:
		// A site whose unclustered keywords were all left over by clustering
		// needs nothing: clustering them again alone would group nothing new.
		// With a new keyword, the job tries the leftovers with it.
		return `SELECT x.id, CASE WHEN ` + unseenKeywords + ` THEN (SELECT count(*) FROM keywords k WHERE k.tenant_id = $1
		        AND k.site_id = x.id AND k.cluster_id IS NULL) ELSE 0 END AS need, NULL::jsonb FROM sites x
		        WHERE x.tenant_id = $1 AND x.id = $2 AND` + inflightFree, nil, nil
	case StageIdeas:
		return `SELECT x.id, $4::int - (SELECT count(*) FROM ideas i WHERE i.cluster_id = x.id) AS need, NULL::jsonb
		        FROM clusters x WHERE x.tenant_id = $1 AND x.site_id = $2 AND` + inflightFree,
			[]any{q.IdeasPerCluster}, nil
	case StageDrafts:
		return `SELECT x.id, 1::bigint AS need, NULL::jsonb FROM ideas x WHERE x.tenant_id = $1 AND x.site_id = $2
		        AND NOT EXISTS (SELECT 1 FROM drafts d WHERE d.idea_id = x.id) AND` + inflightFree, nil, nil
	case StageImages:
		// Drafts without images, and drafts whose failed images are due
		// for a retry.
		return `SELECT x.id, 1::bigint AS need, NULL::jsonb FROM drafts x WHERE x.tenant_id = $1 AND x.site_id = $2
		        AND x.wp_post_id IS NULL AND (NOT EXISTS (SELECT 1 FROM images im WHERE im.draft_id = x.id)
		                                      OR ` + imageRetryDue + `)
		        AND` + inflightFree, []any{ImageRetryLimit, ImageRetryBase.Seconds()}, nil
	case StagePublish:
		// A draft whose featured image failed waits for it, unless its site
		// publishes without one; in a run that makes images, such a site
		// waits until automation gave up retrying the image.
		return `SELECT x.id, 1::bigint AS need, x.publish_request FROM drafts x
		        JOIN sites s ON s.id = x.site_id
		        WHERE x.tenant_id = $1 AND x.site_id = $2 AND x.wp_post_id IS NULL
		        AND (x.status = 'approved' OR ($5::bool AND x.status = 'draft'))
		        AND (s.publish_without_image OR NOT ` + featuredFailed + `)
		        AND (NOT $6::bool OR EXISTS (SELECT 1 FROM images im WHERE im.draft_id = x.id
		                                     AND im.role = 'featured' AND im.state = 'ready')
		             OR (s.publish_without_image AND ` + featuredGivenUp + `))
		        AND` + inflightFree, []any{ImageRetryLimit, q.AutoApprove, q.NeedImages}, nil
	}
	return "", nil, fmt.Errorf("unknown automation stage %q", q.Stage)
}

// Candidates returns up to limit subjects the stage can work on, oldest
// first.
func (s *Store) Candidates(ctx context.Context, q CandidateQuery, limit int) ([]Candidate, error) {
	query, extra, err := candidateSQL(q)
	if err != nil {
		return nil, err
	}
	args := append([]any{q.TenantID, q.SiteID, q.JobType}, extra...)
	args = append(args, limit)
	rows, err := s.pool.Query(ctx, `SELECT * FROM (`+query+`) c WHERE c.need > 0 ORDER BY c.id LIMIT $`+
		fmt.Sprint(len(args)), args...)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (c Candidate, err error) {
		err = r.Scan(&c.SubjectID, &c.Need, &c.Params)
		return c, err
	})
}

// CountCandidates counts the subjects the stage can work on.
func (s *Store) CountCandidates(ctx context.Context, q CandidateQuery) (int64, error) {
	query, extra, err := candidateSQL(q)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM (`+query+`) c WHERE c.need > 0`,
		append([]any{q.TenantID, q.SiteID, q.JobType}, extra...)...).Scan(&n)
	return n, translate(err)
}

// StagePlan is the jobs a run creates for one stage.
type StagePlan struct {
	Stage string
	Jobs  []NewJob
}

// RunBatchID is the batch of a run's jobs of one stage.
func RunBatchID(runID, stage string) string { return runID + "-" + stage }

// FinishRun records what a run planned, in one transaction: the jobs of
// each stage (a batch per stage, the tenant able to afford them all), the
// run's record (done, or skipped when it created nothing) and the run's
// job, finished with o. A scheduled run skipped for the same reasons as
// the rule's previous record is folded into it (see foldSkip; the job's
// result names it as folded_into). It returns the jobs to put on the queue
// now (bulk jobs beyond the tenant's room stay held); a job id that exists
// already is not created again.
func (s *Store) FinishRun(ctx context.Context, o Outcome, plan []StagePlan, skipped []Skip) ([]Job, error) {
	var created, deliver []Job
	err := s.transact(ctx, func(tx pgx.Tx) error {
		enqueued := []StageJobs{}
		var quoted int64
		for _, sp := range plan {
			jobs, err := s.insertBatch(ctx, tx, o.TenantID, RunBatchID(o.JobID, sp.Stage), sp.Jobs, true)
			if err != nil {
				return err
			}
			if len(jobs) == 0 {
				continue
			}
			sj := StageJobs{Stage: sp.Stage, Jobs: len(jobs), BatchID: RunBatchID(o.JobID, sp.Stage)}
			for _, j := range jobs {
				sj.CreditsQuoted += j.CreditsQuoted
			}
			quoted += sj.CreditsQuoted
			enqueued = append(enqueued, sj)
			created = append(created, jobs...)
		}
		var err error
		if deliver, err = s.deliverable(ctx, tx, o.TenantID, created); err != nil {
			return err
		}
		status := RunDone
		if len(created) == 0 {
			status = RunSkipped
		}
		enc, _ := json.Marshal(enqueued)
		skip, _ := json.Marshal(append([]Skip{}, skipped...))
		if _, err := tx.Exec(ctx, `UPDATE automation_runs SET status = $3, enqueued = $4::jsonb, skipped = $5::jsonb,
			credits_quoted = $6, finished_at = now() WHERE tenant_id = $1 AND id = $2`,
			o.TenantID, o.JobID, status, string(enc), string(skip), quoted); err != nil {
			return fmt.Errorf("record run: %w", err)
		}
		result := map[string]any{"status": status, "enqueued": enqueued, "skipped": skipped}
		if status == RunSkipped {
			into, err := foldSkip(ctx, tx, o.JobID)
			if err != nil {
				return err
			}
			if into != "" {
				result["folded_into"] = into
			}
		}
		o.Result = result
		return finishJob(ctx, tx, o)
	})
	return deliver, err
}

// insertBatch creates a batch and its jobs. A batch that exists already
// is added to when existingOK, and is errs.ErrConflict otherwise.
func (s *Store) insertBatch(ctx context.Context, tx pgx.Tx, tenantID int64, batchID string, jobs []NewJob,
	existingOK bool) ([]Job, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	onConflict := ""
	if existingOK {
		onConflict = " ON CONFLICT (id) DO NOTHING"
	}
	if _, err := tx.Exec(ctx, `INSERT INTO batches (id, tenant_id, type, total) VALUES ($1, $2, $3, 0)`+onConflict,
		batchID, tenantID, jobs[0].Type); err != nil {
		return nil, fmt.Errorf("insert batch: %w", translate(err))
	}
	created, err := s.insertJobs(ctx, tx, tenantID, batchID, jobs)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE batches SET total = total + $2 WHERE id = $1`, batchID, len(created)); err != nil {
		return nil, fmt.Errorf("count batch: %w", err)
	}
	return created, nil
}

// RunJobs returns the jobs of a run still queued: those to enqueue again
// when the run's delivery is repeated.
func (s *Store) RunJobs(ctx context.Context, tenantID int64, runID string) ([]Job, error) {
	batches := make([]string, len(Stages))
	for i, st := range Stages {
		batches[i] = RunBatchID(runID, st)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE tenant_id = $1 AND batch_id = ANY($2) AND state = 'queued' AND NOT held`, tenantID, batches)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanJob)
}
