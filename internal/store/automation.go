package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/presswork/presswork/internal/errs"
)

// Automation stages, in pipeline order: their names in rules, run reports
// and the API. tasks.Pipeline gives each its task type and prompt stage.
const (
	StageCluster = "cluster"
	StageIdeas   = "ideas"
	StageDrafts  = "drafts"
	StageImages  = "images"
	StagePublish = "publish"
)

// Stages lists the automation stages in pipeline order.
var Stages = []string{StageCluster, StageIdeas, StageDrafts, StageImages, StagePublish}

// SetRunJob sets the type and queue of the job that delivers an automation
// run, the task that plans and enqueues a rule's work when it fires. Call
// it before the store is used: runs cannot be started until it is.
func (s *Store) SetRunJob(jobType, queue string) { s.runType, s.runQueue = jobType, queue }

// errNoRunJob is returned when a run is started before SetRunJob.
var errNoRunJob = errors.New("the automation run's job type and queue are not set (store.SetRunJob)")

// Condition is a test a rule's run makes before it enqueues anything:
// Field (a count of the site's backlog, or the credit balance) compared
// by Op with Value.
type Condition struct {
	Field string `json:"field"`
	Op    string `json:"op"`
	Value int64  `json:"value"`
}

// Rule is an automation rule: some stages of the pipeline for one site, on
// a schedule.
type Rule struct {
	ID       int64  `json:"id"`
	TenantID int64  `json:"-"`
	SiteID   int64  `json:"site_id"`
	Name     string `json:"name"`
	// Schedule is a robfig/cron spec read in Timezone.
	Schedule string   `json:"schedule"`
	Timezone string   `json:"timezone"`
	Stages   []string `json:"stages"`
	// IdeasPerCluster is how many ideas the ideas stage tops a cluster up to.
	IdeasPerCluster int `json:"ideas_per_cluster"`
	// AutoApprove lets the publish stage publish drafts nobody approved,
	// on sites that do not require review.
	AutoApprove bool `json:"auto_approve"`
	// MaxItems caps the jobs a run leaves unfinished, counting those of
	// earlier runs still in flight; MaxCredits (nil: no cap) caps the
	// credits one run quotes.
	MaxItems    int         `json:"max_items"`
	MaxCredits  *int64      `json:"max_credits"`
	Conditions  []Condition `json:"conditions"`
	Enabled     bool        `json:"enabled"`
	NextFireAt  *time.Time  `json:"next_fire_at"`
	LastFiredAt *time.Time  `json:"last_fired_at"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

const ruleColumns = `id, tenant_id, site_id, name, schedule, timezone, stages, ideas_per_cluster, auto_approve,
	max_items, max_credits, conditions, enabled, next_fire_at, last_fired_at, created_at, updated_at`

func scanRule(r pgx.Row) (rl Rule, err error) {
	var conditions []byte
	err = r.Scan(&rl.ID, &rl.TenantID, &rl.SiteID, &rl.Name, &rl.Schedule, &rl.Timezone, &rl.Stages,
		&rl.IdeasPerCluster, &rl.AutoApprove, &rl.MaxItems, &rl.MaxCredits, &conditions, &rl.Enabled,
		&rl.NextFireAt, &rl.LastFiredAt, &rl.CreatedAt, &rl.UpdatedAt)
	if err == nil {
		err = json.Unmarshal(conditions, &rl.Conditions)
	}
	return rl, err
}

func conditionsJSON(c []Condition) string {
	if len(c) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// CreateRule stores a new rule for one of the tenant's sites (not found
// when the site is not the tenant's); a name already used on the site is a
// conflict.
func (s *Store) CreateRule(ctx context.Context, tenantID int64, r Rule) (Rule, error) {
	rl, err := scanRule(s.pool.QueryRow(ctx, `
		INSERT INTO automation_rules (tenant_id, site_id, name, schedule, timezone, stages, ideas_per_cluster,
		                              auto_approve, max_items, max_credits, conditions, enabled, next_fire_at)
		SELECT $1, id, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13 FROM sites WHERE tenant_id = $1 AND id = $2
		RETURNING `+ruleColumns,
		tenantID, r.SiteID, r.Name, r.Schedule, r.Timezone, r.Stages, r.IdeasPerCluster, r.AutoApprove,
		r.MaxItems, r.MaxCredits, conditionsJSON(r.Conditions), r.Enabled, r.NextFireAt))
	if isNoRows(err) {
		return Rule{}, fmt.Errorf("%w: no site with id %d", errs.ErrNotFound, r.SiteID)
	}
	return rl, translate(err)
}

// GetRule returns one of a tenant's rules.
func (s *Store) GetRule(ctx context.Context, tenantID, id int64) (Rule, error) {
	rl, err := scanRule(s.pool.QueryRow(ctx,
		`SELECT `+ruleColumns+` FROM automation_rules WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return rl, missing(translate(err), "automation rule", id)
}

// ListRules returns a tenant's rules, optionally of one site (siteID 0:
// every site).
func (s *Store) ListRules(ctx context.Context, tenantID, siteID int64, page Page) ([]Rule, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+ruleColumns+` FROM automation_rules
		WHERE tenant_id = $1 AND ($2 = 0 OR site_id = $2) AND id > $3 ORDER BY id LIMIT $4`,
		tenantID, siteID, page.After, page.Limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanRule)
}

// UpdateRule changes a rule in one transaction: change gets the rule as
// stored (locked) and edits it; its error aborts the update. The site
// cannot change.
func (s *Store) UpdateRule(ctx context.Context, tenantID, id int64, change func(*Rule) error) (Rule, error) {
	var rl Rule
	err := s.transact(ctx, func(tx pgx.Tx) error {
		var err error
		rl, err = scanRule(tx.QueryRow(ctx,
			`SELECT `+ruleColumns+` FROM automation_rules WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tenantID, id))
		if err != nil {
			return err
		}
		if err := change(&rl); err != nil {
			return err
		}
		rl, err = scanRule(tx.QueryRow(ctx, `
			UPDATE automation_rules SET name = $3, schedule = $4, timezone = $5, stages = $6,
			       ideas_per_cluster = $7, auto_approve = $8, max_items = $9, max_credits = $10,
			       conditions = $11::jsonb, enabled = $12, next_fire_at = $13, updated_at = now()
			WHERE tenant_id = $1 AND id = $2 RETURNING `+ruleColumns,
			tenantID, id, rl.Name, rl.Schedule, rl.Timezone, rl.Stages, rl.IdeasPerCluster, rl.AutoApprove,
			rl.MaxItems, rl.MaxCredits, conditionsJSON(rl.Conditions), rl.Enabled, rl.NextFireAt))
		return err
	})
	return rl, err
}

// DeleteRule removes a rule and its run records; jobs its runs made go on.
func (s *Store) DeleteRule(ctx context.Context, tenantID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM automation_rules WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	return oneRow(tag.RowsAffected(), err)
}

// Run statuses. A missed record is not a run: it names the slots that came
// due while a firing was late (the scheduler down or behind) and were not
// fired.
const (
	RunQueued  = "queued"
	RunDone    = "done"
	RunSkipped = "skipped"
	RunMissed  = "missed"
)

// StageJobs is what a run enqueued for one stage.
type StageJobs struct {
	Stage         string `json:"stage"`
	Jobs          int    `json:"jobs"`
	BatchID       string `json:"batch_id"`
	CreditsQuoted int64  `json:"credits_quoted"`
}

// Skip is something a run did not do and why; Stage is empty when the
// whole run was skipped. Subjects names (some of) the subjects the stage
// left for a later run: sites, clusters, ideas or drafts by stage.
type Skip struct {
	Stage    string  `json:"stage,omitempty"`
	Reason   string  `json:"reason"`
	Subjects []int64 `json:"subjects,omitempty"`
}

// Run is the record of one firing of a rule.
type Run struct {
	ID            string      `json:"id"`
	TenantID      int64       `json:"-"`
	RuleID        int64       `json:"rule_id"`
	Trigger       string      `json:"trigger"`
	ScheduledFor  time.Time   `json:"scheduled_for"`
	FiredAt       time.Time   `json:"fired_at"`
	Status        string      `json:"status"`
	Enqueued      []StageJobs `json:"enqueued"`
	Skipped       []Skip      `json:"skipped"`
	CreditsQuoted int64       `json:"credits_quoted"`
	FinishedAt    *time.Time  `json:"finished_at"`
	// Count is how many slots the record stands for: 1, or more for
	// consecutive scheduled runs skipped for the same reasons (folded into
	// the first, LastScheduledFor and LastFiredAt being the latest's) and
	// for a missed record (slots ScheduledFor to LastScheduledFor).
	Count            int        `json:"count"`
	LastScheduledFor *time.Time `json:"last_scheduled_for"`
	LastFiredAt      *time.Time `json:"last_fired_at"`
}

const runColumns = `id, tenant_id, rule_id, trigger, scheduled_for, fired_at, status, enqueued, skipped,
	credits_quoted, finished_at, count, last_scheduled_for, last_fired_at`

func scanRun(r pgx.Row) (run Run, err error) {
	var enqueued, skipped []byte
	err = r.Scan(&run.ID, &run.TenantID, &run.RuleID, &run.Trigger, &run.ScheduledFor, &run.FiredAt, &run.Status,
		&enqueued, &skipped, &run.CreditsQuoted, &run.FinishedAt, &run.Count, &run.LastScheduledFor, &run.LastFiredAt)
	if err == nil {
		err = json.Unmarshal(enqueued, &run.Enqueued)
	}
	if err == nil {
		err = json.Unmarshal(skipped, &run.Skipped)
	}
	return run, err
}

// RunID is the id of the run (and of its job) for a rule's slot: the same
// slot always gets the same id, so a second enqueue of it is rejected.
func RunID(ruleID int64, slot time.Time) string {
	return fmt.Sprintf("run-%d-%d", ruleID, slot.Unix())
}

// Firing is one rule a pass of the scheduler fired.
type Firing struct {
	Rule Rule
	// Job is the run's job, to enqueue; nil when the run was recorded as
	// skipped (the rule's previous run has not finished).
	Job *Job
	// Missed is how many slots after the one fired were never fired.
	Missed int
}

// Advance is where a rule goes once its due slot fired: Next (zero
// disables the rule), and the slots after the fired one that came due
// before now and were not fired (the firing was late): Missed of them,
// from MissedFrom to MissedTo; AtLeast when counting stopped early.
type Advance struct {
	Next                 time.Time
	Missed               int
	MissedFrom, MissedTo time.Time
	AtLeast              bool
}

// MissedRunID is the id of the record of the slots missed from first on.
func MissedRunID(ruleID int64, first time.Time) string {
	return fmt.Sprintf("missed-%d-%d", ruleID, first.Unix())
}

// previousRunBusy is the reason of a run that found its rule's previous
// run still queued or running.
const previousRunBusy = "the rule's previous run had not finished planning"

// FireDueRules fires up to limit enabled rules whose next_fire_at is at or
// before now, in one transaction: it records one run per rule for the slot
// it was due (its job id from RunID), creates the run's job (see
// SetRunJob) and moves next_fire_at to next(rule).Next, or disables the
// rule when that is zero; the slots next says were missed get one record.
// Rules locked by a concurrent pass are left to it; a slot already recorded
// (by another scheduler) is not recorded again.
func (s *Store) FireDueRules(ctx context.Context, now time.Time, limit int,
	next func(Rule) Advance) ([]Firing, error) {
	if s.runType == "" {
		return nil, errNoRunJob
	}
	var firings []Firing
	err := s.transact(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+ruleColumns+` FROM automation_rules
			WHERE enabled AND next_fire_at <= $1 ORDER BY next_fire_at LIMIT $2 FOR UPDATE SKIP LOCKED`, now, limit)
		if err != nil {
			return err
		}
		rules, err := collect(rows, scanRule)
		if err != nil || len(rules) == 0 {
			return err
		}
		firings, err = s.fire(ctx, tx, now, rules, next)
		return err
	})
	return firings, err
}

func (s *Store) fire(ctx context.Context, tx pgx.Tx, now time.Time, rules []Rule, next func(Rule) Advance) ([]Firing, error) {
	n := len(rules)
	ids, tenants, ruleIDs, sites := make([]string, n), make([]int64, n), make([]int64, n), make([]int64, n)
	slots, nexts, advances := make([]time.Time, n), make([]*time.Time, n), make([]Advance, n)
	// record is the indexes of the slots to record a run for. A slot at or
	// before the rule's last fired one (as locked) was fired already:
	// next_fire_at went back (an edit computed it on a clock behind the
	// scheduler's). Its record may be gone, folded into an earlier one, so
	// the run's primary key no longer stops it from being recorded again.
	record := make([]int, 0, n)
	for i, r := range rules {
		ids[i], tenants[i], ruleIDs[i], sites[i], slots[i] = RunID(r.ID, *r.NextFireAt), r.TenantID, r.ID, r.SiteID, *r.NextFireAt
		advances[i] = next(r)
		if t := advances[i].Next; !t.IsZero() {
			nexts[i] = &t
		}
		if r.LastFiredAt == nil || r.LastFiredAt.Before(*r.NextFireAt) {
			record = append(record, i)
		}
	}
	if err := recordRuns(ctx, tx, now, record, ids, tenants, ruleIDs, slots); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO jobs (id, tenant_id, type, queue, site_id, subject_id, state)
		SELECT t.id, t.tenant_id, $5, $6, t.site_id, t.rule_id, 'queued'
		FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[]) AS t(id, tenant_id, site_id, rule_id)
		JOIN automation_runs r ON r.id = t.id AND r.status = 'queued'
		ON CONFLICT DO NOTHING
		RETURNING `+jobColumns, ids, tenants, sites, ruleIDs, s.runType, s.runQueue)
	if err != nil {
		return nil, fmt.Errorf("create run jobs: %w", err)
	}
	jobs, err := collect(rows, scanJob)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*Job, len(jobs))
	for i := range jobs {
		byID[jobs[i].ID] = &jobs[i]
	}
	if err := skipBusy(ctx, tx, ids); err != nil {
		return nil, err
	}
	if err := recordMissed(ctx, tx, now, rules, advances); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `
		UPDATE automation_rules r SET next_fire_at = u.next, enabled = u.next IS NOT NULL,
		       last_fired_at = greatest(r.last_fired_at, u.slot)
		FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[]) AS u(id, slot, next)
		WHERE r.id = u.id`, ruleIDs, slots, nexts); err != nil {
		return nil, fmt.Errorf("advance rules: %w", err)
	}
	firings := make([]Firing, n)
	for i, r := range rules {
		firings[i] = Firing{Rule: r, Job: byID[ids[i]], Missed: advances[i].Missed}
	}
	return firings, nil
}

// recordRuns records a queued scheduled run fired at now for each slot
// whose index is in record; a slot recorded already is left alone.
func recordRuns(ctx context.Context, tx pgx.Tx, now time.Time, record []int,
	ids []string, tenants, ruleIDs []int64, slots []time.Time) error {
	if len(record) == 0 {
		return nil
	}
	rIDs, rTenants, rRules, rSlots := make([]string, len(record)), make([]int64, len(record)),
		make([]int64, len(record)), make([]time.Time, len(record))
	for k, i := range record {
		rIDs[k], rTenants[k], rRules[k], rSlots[k] = ids[i], tenants[i], ruleIDs[i], slots[i]
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO automation_runs (id, tenant_id, rule_id, trigger, scheduled_for, fired_at)
		SELECT id, tenant_id, rule_id, 'schedule', slot, $5 FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::timestamptz[])
		       AS t(id, tenant_id, rule_id, slot)
		ON CONFLICT DO NOTHING`, rIDs, rTenants, rRules, rSlots, now); err != nil {
		return fmt.Errorf("record runs: %w", err)
	}
	return nil
}

// skipBusy records as skipped the runs among ids that got no job (their
// rule's previous run is still planning), each folded into the rule's
// previous record when that was skipped for the same reason.
func skipBusy(ctx context.Context, tx pgx.Tx, ids []string) error {
	busy, _ := json.Marshal([]Skip{{Reason: previousRunBusy}})
	rows, err := tx.Query(ctx, `
		UPDATE automation_runs r SET status = 'skipped', skipped = $2::jsonb, finished_at = now()
		WHERE r.id = ANY($1) AND r.status = 'queued' AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = r.id)
		RETURNING r.id`, ids, string(busy))
	if err != nil {
		return fmt.Errorf("skip busy runs: %w", err)
	}
	skipped, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("skip busy runs: %w", err)
	}
	for _, id := range skipped {
		if _, err := foldSkip(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

// recordMissed writes one missed record per rule whose advance says slots
// were missed.
func recordMissed(ctx context.Context, tx pgx.Tx, now time.Time, rules []Rule, advances []Advance) error {
	for i, r := range rules {
		a := advances[i]
		if a.Missed == 0 {
			continue
		}
		span := fmt.Sprintf("%d slots from %s to %s", a.Missed,
			a.MissedFrom.UTC().Format(time.RFC3339), a.MissedTo.UTC().Format(time.RFC3339))
		if a.AtLeast {
			span = fmt.Sprintf("at least %d slots from %s on (counting stopped at %s)", a.Missed,
				a.MissedFrom.UTC().Format(time.RFC3339), a.MissedTo.UTC().Format(time.RFC3339))
		}
		reason, _ := json.Marshal([]Skip{{Reason: fmt.Sprintf(
			"missed: the rule fired late (the scheduler was down or behind); %s were not fired (the run of %s, fired at %s, stood for them)",
			span, r.NextFireAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))}})
		if _, err := tx.Exec(ctx, `
			INSERT INTO automation_runs (id, tenant_id, rule_id, trigger, scheduled_for, fired_at, status, skipped,
			                             count, last_scheduled_for, finished_at)
			VALUES ($1, $2, $3, 'schedule', $4, $5, 'missed', $6::jsonb, $7, $8, $5)
			ON CONFLICT DO NOTHING`,
			MissedRunID(r.ID, a.MissedFrom), r.TenantID, r.ID, a.MissedFrom, now, string(reason), a.Missed, a.MissedTo); err != nil {
			return fmt.Errorf("record missed slots of rule %d: %w", r.ID, err)
		}
	}
	return nil
}

// foldSkip folds the skipped scheduled run id into the rule's previous
// record when that is a scheduled run skipped for the very same reasons,
// so that a rule that cannot run says so once, with a count, instead of at
// every slot. It returns the id of the record folded into, or "".
func foldSkip(ctx context.Context, tx pgx.Tx, id string) (string, error) {
	var into string
	err := tx.QueryRow(ctx, `
		SELECT p.id FROM automation_runs r
		JOIN LATERAL (SELECT * FROM automation_runs p WHERE p.rule_id = r.rule_id AND p.scheduled_for < r.scheduled_for
		              ORDER BY p.scheduled_for DESC LIMIT 1) p ON true
		WHERE r.id = $1 AND r.status = 'skipped' AND r.trigger = 'schedule'
		  AND p.status = 'skipped' AND p.trigger = 'schedule' AND p.skipped = r.skipped`, id).Scan(&into)
	if isNoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("fold run %s: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `
		UPDATE automation_runs p SET count = p.count + r.count,
		       last_scheduled_for = coalesce(r.last_scheduled_for, r.scheduled_for),
		       last_fired_at = coalesce(r.last_fired_at, r.fired_at), finished_at = now()
		FROM automation_runs r WHERE p.id = $1 AND r.id = $2`, into, id); err != nil {
		return "", fmt.Errorf("fold run %s into %s: %w", id, into, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM automation_runs WHERE id = $1`, id); err != nil {
		return "", fmt.Errorf("fold run %s: %w", id, err)
	}
	return into, nil
}

// StartManualRun records a run of a rule started by hand now, with its job,
// in one transaction. A run of the rule still planning is a conflict.
func (s *Store) StartManualRun(ctx context.Context, tenantID, ruleID int64, runID string, now time.Time) (Run, Job, error) {
	if s.runType == "" {
		return Run{}, Job{}, errNoRunJob
	}
	var run Run
	var job Job
	err := s.transact(ctx, func(tx pgx.Tx) error {
		rl, err := scanRule(tx.QueryRow(ctx,
			`SELECT `+ruleColumns+` FROM automation_rules WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tenantID, ruleID))
		if err != nil {
			return err
		}
		run, err = scanRun(tx.QueryRow(ctx, `
			INSERT INTO automation_runs (id, tenant_id, rule_id, trigger, scheduled_for, fired_at)
			VALUES ($1, $2, $3, 'manual', $4, $4) RETURNING `+runColumns, runID, tenantID, ruleID, now))
		if err != nil {
			return err
		}
		job, err = scanJob(tx.QueryRow(ctx, `
			INSERT INTO jobs (id, tenant_id, type, queue, site_id, subject_id, state)
			VALUES ($1, $2, $3, $4, $5, $6, 'queued') RETURNING `+jobColumns,
			runID, tenantID, s.runType, s.runQueue, rl.SiteID, rl.ID))
		if err != nil {
			return fmt.Errorf("%w: a run of rule %d is already being planned", errs.ErrConflict, ruleID)
		}
		return nil
	})
	return run, job, err
}

// GetRun returns one of a tenant's runs; the id of a run folded into an
// earlier record (skipped for the same reasons) gives that record.
func (s *Store) GetRun(ctx context.Context, tenantID int64, id string) (Run, error) {
	run, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runColumns+` FROM automation_runs
		WHERE tenant_id = $1 AND id = coalesce((SELECT j.result->>'folded_into' FROM jobs j
		      WHERE j.tenant_id = $1 AND j.id = $2 AND j.type = $3 AND j.state = 'succeeded'
		        AND NOT EXISTS (SELECT 1 FROM automation_runs r WHERE r.id = $2)), $2)`, tenantID, id, s.runType))
	return run, missing(translate(err), "automation run", id)
}

// ListRuns returns a rule's runs, newest first, fired before before (zero:
// from the newest).
func (s *Store) ListRuns(ctx context.Context, tenantID, ruleID int64, before time.Time, limit int) ([]Run, error) {
	if before.IsZero() {
		before = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+runColumns+` FROM automation_runs
		WHERE tenant_id = $1 AND rule_id = $2 AND scheduled_for < $3 ORDER BY scheduled_for DESC LIMIT $4`,
		tenantID, ruleID, before, limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanRun)
}
