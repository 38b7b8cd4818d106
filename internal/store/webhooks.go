package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/presswork/presswork/internal/errs"
)

// Event types: what a tenant's webhooks (and GET /v1/events) hear about.
const (
	EventJobFailed            = "job.failed"
	EventBatchFinished        = "batch.finished"
	EventDraftReady           = "draft.ready"
	EventDraftAwaitingReview  = "draft.awaiting_review"
	EventPostPublished        = "post.published"
	EventSiteUnhealthy        = "site.unhealthy"
	EventDeploymentFinished   = "deployment.finished"
	EventCreditsLow           = "credits.low"
	EventWebhookDisabled      = "webhook.disabled"
	webhookDisabledAfterFails = "failing for a day"
)

// EventTypes lists the event types a webhook may subscribe to.
var EventTypes = []string{EventJobFailed, EventBatchFinished, EventDraftReady, EventDraftAwaitingReview,
	EventPostPublished, EventSiteUnhealthy, EventDeploymentFinished, EventCreditsLow, EventWebhookDisabled}

// Event is one thing that happened to a tenant's objects.
type Event struct {
	ID        int64           `json:"id"`
	TenantID  int64           `json:"-"`
	Type      string          `json:"type"`
	Subject   string          `json:"subject"`
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"created_at"`
}

// recordEvent records an event inside tx, the transaction of the change it
// reports, and a pending delivery for each of the tenant's enabled
// webhooks that subscribe to its type: the event and its deliveries exist
// if and only if the change does.
func recordEvent(ctx context.Context, tx pgx.Tx, tenantID int64, typ, subject string, data any) error {
	encoded, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", typ, err)
	}
	// One statement: the event and its deliveries, one per enabled webhook
	// of the tenant that asked for the type.
	if _, err := tx.Exec(ctx, `WITH event AS (
			INSERT INTO events (tenant_id, type, subject, data) VALUES ($1, $2, $3, $4) RETURNING `+eventReturning+`),
		`+deliveriesStep+`
		SELECT`, tenantID, typ, subject, encoded); err != nil {
		return fmt.Errorf("record %s event: %w", typ, err)
	}
	// No NOTIFY: PostgreSQL serializes the commits of transactions that
	// notify, and every job's end records an event; the event stream
	// reads the outbox by id instead.
	return nil
}

// eventReturning and deliveriesStep record an event's deliveries in the
// statement that records the event: a step "event" inserting into events
// RETURNING eventReturning is followed by deliveriesStep, a delivery for
// each enabled webhook of the event's tenant that asked for its type.
const (
	eventReturning = `id, tenant_id, type`
	deliveriesStep = `deliveries AS (
		INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id)
		SELECT w.tenant_id, w.id, event.id FROM event JOIN webhooks w ON w.tenant_id = event.tenant_id
		WHERE w.enabled AND event.type = ANY (w.events))`
)

// endedJob is what the statement that ended a job returns for jobEnded.
type endedJob struct {
	typ, state                    string
	batchID, lastError, errorCode *string
	subjectID                     *int64
	// batchWaiting is whether another job of the batch was still waiting
	// (queued or batched) when this one ended: the batch cannot be closed
	// yet, and the end of a later job closes it.
	batchWaiting bool
}

// jobEnded records the events a job's end makes, inside the transaction
// that ended it: job.failed for a failed job. Whether it ended its batch
// is asked after that transaction commits (closeBatch): a transaction made
// by transact notes the batch, and transact closes it after its commit. A
// batch's jobs thus end in parallel; with the batch row locked in every
// ending transaction until its commit, they ended one at a time (#24).
//
// A job that ended while another of its batch still waited to start
// (batchWaiting) does not ask: that job ends later and asks then. So only
// the batch's last jobs, those that ran together at its end, pay the
// statement. The last of them to commit sees every end but in one case: a
// waiting job that started, ran and committed entirely between this job's
// end and its commit; the reconciler closes such a batch
// (CloseFinishedBatches).
func jobEnded(ctx context.Context, tx pgx.Tx, tenantID int64, jobID string, ended endedJob) error {
	if ended.state == JobFailed {
		data := map[string]any{"job_id": jobID, "type": ended.typ, "error": ended.lastError, "error_code": ended.errorCode,
			"subject_id": ended.subjectID, "batch_id": ended.batchID}
		if err := recordEvent(ctx, tx, tenantID, EventJobFailed, "job:"+jobID, data); err != nil {
			return err
		}
	}
	if ended.batchID == nil || ended.batchWaiting {
		return nil
	}
	if t, ok := tx.(*txn); ok {
		t.endedBatches = append(t.endedBatches, *ended.batchID)
		return nil
	}
	// A transaction not made by transact: the batch is locked and looked
	// at inside it.
	if _, err := tx.Exec(ctx, `SELECT 1 FROM batches WHERE id = $1 FOR UPDATE`, *ended.batchID); err != nil {
		return fmt.Errorf("lock batch %s: %w", *ended.batchID, err)
	}
	_, err := closeBatch(ctx, tx, *ended.batchID)
	return err
}

// closeBatch records batch.finished for the batch, with its counts, if
// none of its jobs is unfinished and it was not closed before; it reports
// whether it did. One statement: of two asking at once, the row lock of
// the update lets one close the batch. Run after the commit of the
// transaction that ended a job, its snapshot holds that job's end and the
// ends committed before: the last job's end to commit sees them all.
func closeBatch(ctx context.Context, q querier, batchID string) (bool, error) {
	var closed bool
	err := q.QueryRow(ctx, `WITH closed AS (
			UPDATE batches SET finished_at = now()
			WHERE id = $1 AND finished_at IS NULL
			  AND NOT EXISTS (SELECT 1 FROM jobs WHERE batch_id = $1 AND state IN ('queued', 'running', 'batched'))
			RETURNING id, tenant_id),
		counts AS (
			SELECT count(*) AS total, count(*) FILTER (WHERE state = 'succeeded') AS succeeded,
			       count(*) FILTER (WHERE state = 'failed') AS failed, count(*) FILTER (WHERE state = 'canceled') AS canceled,
			       min(type) AS type
			FROM jobs WHERE batch_id = $1 AND EXISTS (SELECT 1 FROM closed)),
		event AS (
			INSERT INTO events (tenant_id, type, subject, data)
			SELECT closed.tenant_id, $2, 'batch:' || closed.id, jsonb_build_object('batch_id', closed.id,
				'type', counts.type, 'total', counts.total, 'succeeded', counts.succeeded, 'failed', counts.failed,
				'canceled', counts.canceled)
			FROM closed, counts
			RETURNING `+eventReturning+`),
		`+deliveriesStep+`
		SELECT EXISTS (SELECT 1 FROM event)`, batchID, EventBatchFinished).Scan(&closed)
	if err != nil {
		return false, fmt.Errorf("close batch %s: %w", batchID, err)
	}
	return closed, nil
}

// CloseFinishedBatches closes (closeBatch) up to limit batches whose jobs
// all ended but which are not closed: a worker that died between a job's
// commit and the batch's closing. It returns how many it closed.
func (s *Store) CloseFinishedBatches(ctx context.Context, limit int) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT b.id FROM batches b
		WHERE b.finished_at IS NULL AND EXISTS (SELECT 1 FROM jobs j WHERE j.batch_id = b.id)
		  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.batch_id = b.id AND j.state IN ('queued', 'running', 'batched'))
		ORDER BY b.created_at LIMIT $1`, limit)
	if err != nil {
		return 0, translate(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, translate(err)
	}
	n := 0
	for _, id := range ids {
		closed, err := closeBatch(ctx, s.pool, id)
		if err != nil {
			return n, translate(err)
		}
		if closed {
			n++
		}
	}
	return n, nil
}

// deploymentSettled records deployment.finished when a deployment comes to
// rest from another status.
func deploymentSettled(ctx context.Context, tx pgx.Tx, tenantID, id int64, before, after, userError string) error {
	if before == after || !slices.Contains([]string{"running", "stopped", "failed", "destroyed"}, after) {
		return nil
	}
	var siteID int64
	if err := tx.QueryRow(ctx, `SELECT site_id FROM deployments WHERE id = $1`, id).Scan(&siteID); err != nil {
		return fmt.Errorf("read deployment %d: %w", id, err)
	}
	return recordEvent(ctx, tx, tenantID, EventDeploymentFinished, fmt.Sprintf("deployment:%d", id), map[string]any{
		"deployment_id": id, "site_id": siteID, "status": after, "error": userError})
}

// siteHealthChanged records site.unhealthy when a site's health turns
// unhealthy from another value, inside tx, the transaction that stores the
// new health.
func siteHealthChanged(ctx context.Context, tx pgx.Tx, tenantID, siteID int64, before string, c SiteCheck) error {
	if c.Health != HealthUnhealthy || before == HealthUnhealthy {
		return nil
	}
	return recordEvent(ctx, tx, tenantID, EventSiteUnhealthy, fmt.Sprintf("site:%d", siteID), map[string]any{
		"site_id": siteID, "reason": c.Reason, "code": c.Code, "previous": before})
}

// EventsAfter returns the tenant's events with ids above after, oldest
// first.
func (s *Store) EventsAfter(ctx context.Context, tenantID, after int64, limit int) ([]Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, tenant_id, type, subject, data, created_at FROM events
		WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`, tenantID, after, limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanEvent)
}

// PruneEvents deletes events recorded before cutoff that no delivery is
// still pending for, with their deliveries, and says how many.
func (s *Store) PruneEvents(ctx context.Context, cutoff time.Time) (int64, error) {
	return s.pruneLoop(ctx, `DELETE FROM events WHERE id IN (SELECT id FROM events e WHERE created_at < $1
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.status = 'pending') LIMIT $2)`,
		cutoff)
}

// LatestEventID is the id of the tenant's latest event, 0 when none.
func (s *Store) LatestEventID(ctx context.Context, tenantID int64) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM events WHERE tenant_id = $1`, tenantID).Scan(&id)
	return id, translate(err)
}

func scanEvent(r pgx.Row) (e Event, err error) {
	err = r.Scan(&e.ID, &e.TenantID, &e.Type, &e.Subject, &e.Data, &e.CreatedAt)
	return e, err
}

// Webhook is a tenant's endpoint for events. Its secret is sealed and
// never read back.
type Webhook struct {
	ID             int64      `json:"id"`
	URL            string     `json:"url"`
	Events         []string   `json:"events"`
	Enabled        bool       `json:"enabled"`
	FailingSince   *time.Time `json:"failing_since"`
	DisabledReason *string    `json:"disabled_reason"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

const webhookColumns = `id, url, events, enabled, failing_since, disabled_reason, created_at, updated_at`

func scanWebhook(r pgx.Row) (w Webhook, err error) {
	err = r.Scan(&w.ID, &w.URL, &w.Events, &w.Enabled, &w.FailingSince, &w.DisabledReason, &w.CreatedAt, &w.UpdatedAt)
	return w, err
}

// WebhookFields are a webhook's writable fields; nil ones are kept on
// update.
type WebhookFields struct {
	URL       *string
	Events    []string
	Enabled   *bool
	SecretEnc []byte
}

// CreateWebhook records a tenant's endpoint.
func (s *Store) CreateWebhook(ctx context.Context, tenantID int64, f WebhookFields) (Webhook, error) {
	enabled := f.Enabled == nil || *f.Enabled
	w, err := scanWebhook(s.pool.QueryRow(ctx, `INSERT INTO webhooks (tenant_id, url, events, secret_enc, enabled)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+webhookColumns, tenantID, *f.URL, f.Events, f.SecretEnc, enabled))
	return w, translate(err)
}

// GetWebhook returns one of the tenant's webhooks.
func (s *Store) GetWebhook(ctx context.Context, tenantID, id int64) (Webhook, error) {
	w, err := scanWebhook(s.pool.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return w, webhookMissing(translate(err), id)
}

func webhookMissing(err error, id int64) error {
	if errors.Is(err, errs.ErrNotFound) {
		return errs.Public(errs.ErrNotFound, "no webhook %d in this tenant", id)
	}
	return err
}

// ListWebhooks pages through the tenant's webhooks by id.
func (s *Store) ListWebhooks(ctx context.Context, tenantID int64, page Page) ([]Webhook, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`, tenantID, page.After, page.Limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanWebhook)
}

// UpdateWebhook changes a webhook. Enabling it clears its failure record;
// disabling it fails its pending deliveries.
func (s *Store) UpdateWebhook(ctx context.Context, tenantID, id int64, f WebhookFields) (Webhook, error) {
	var w Webhook
	err := s.transact(ctx, func(tx pgx.Tx) error {
		var err error
		w, err = scanWebhook(tx.QueryRow(ctx, `UPDATE webhooks SET url = coalesce($3, url),
			events = coalesce($4, events), enabled = coalesce($5, enabled),
			failing_since = CASE WHEN $5 THEN NULL ELSE failing_since END,
			disabled_reason = CASE WHEN $5 IS NOT NULL THEN NULL ELSE disabled_reason END,
			updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING `+webhookColumns,
			tenantID, id, f.URL, f.Events, f.Enabled))
		if err != nil {
			return webhookMissing(translate(err), id)
		}
		if !w.Enabled {
			return failPending(ctx, tx, id, "the endpoint is disabled")
		}
		return nil
	})
	return w, err
}

// DeleteWebhook removes a webhook and its deliveries.
func (s *Store) DeleteWebhook(ctx context.Context, tenantID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	return webhookMissing(oneRow(tag.RowsAffected(), err), id)
}

func failPending(ctx context.Context, tx pgx.Tx, webhookID int64, why string) error {
	_, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET status = 'failed', error = $2
		WHERE webhook_id = $1 AND status = 'pending'`, webhookID, why)
	return err
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Delivery is one event sent (or to send) to one webhook.
type Delivery struct {
	ID            int64      `json:"id"`
	WebhookID     int64      `json:"webhook_id"`
	EventID       int64      `json:"event_id"`
	EventType     string     `json:"event_type"`
	Attempts      int        `json:"attempts"`
	Status        string     `json:"status"`
	ResponseCode  *int       `json:"response_code"`
	Error         *string    `json:"error"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	DeliveredAt   *time.Time `json:"delivered_at"`
	CreatedAt     time.Time  `json:"created_at"`
}

const deliveryColumns = `d.id, d.webhook_id, d.event_id, e.type, d.attempts, d.status, d.response_code, d.error,
	CASE WHEN d.status = 'pending' THEN d.next_attempt_at END, d.last_attempt_at, d.delivered_at, d.created_at`

func scanDelivery(r pgx.Row) (d Delivery, err error) {
	err = r.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.EventType, &d.Attempts, &d.Status, &d.ResponseCode, &d.Error,
		&d.NextAttemptAt, &d.LastAttemptAt, &d.DeliveredAt, &d.CreatedAt)
	return d, err
}

// ListDeliveries pages through a webhook's deliveries, newest first:
// those with ids below page.After when it is set.
func (s *Store) ListDeliveries(ctx context.Context, tenantID, webhookID int64, page Page) ([]Delivery, error) {
	if _, err := s.GetWebhook(ctx, tenantID, webhookID); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d
		JOIN events e ON e.id = d.event_id
		WHERE d.tenant_id = $1 AND d.webhook_id = $2 AND ($3 = 0 OR d.id < $3) ORDER BY d.id DESC LIMIT $4`,
		tenantID, webhookID, page.After, page.Limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanDelivery)
}

// Redeliver makes a delivery pending again, due now and retried for
// another day, whatever became of it: the one way a delivered event is
// sent again. The webhook must be enabled (errs.ErrConflict).
func (s *Store) Redeliver(ctx context.Context, tenantID, webhookID, deliveryID int64) (Delivery, error) {
	w, err := s.GetWebhook(ctx, tenantID, webhookID)
	if err != nil {
		return Delivery{}, err
	}
	if !w.Enabled {
		return Delivery{}, errs.Public(errs.ErrConflict, "webhook %d is disabled: enable it first", webhookID)
	}
	d, err := scanDelivery(s.pool.QueryRow(ctx, `WITH d AS (UPDATE webhook_deliveries SET status = 'pending',
		next_attempt_at = now(), retry_until = now() + interval '1 day', error = NULL, delivered_at = NULL
		WHERE tenant_id = $1 AND webhook_id = $2 AND id = $3 RETURNING *)
		SELECT `+deliveryColumns+` FROM d JOIN events e ON e.id = d.event_id`, tenantID, webhookID, deliveryID))
	err = translate(err)
	if errors.Is(err, errs.ErrNotFound) {
		return Delivery{}, errs.Public(errs.ErrNotFound, "no delivery %d of webhook %d", deliveryID, webhookID)
	}
	return d, err
}

// DeliveryClaim is a delivery handed to a worker: Attempt numbers the
// send, and a worker holding an older number sends nothing.
type DeliveryClaim struct {
	ID, TenantID int64
	Attempt      int
}

// ClaimDeliveries hands out up to limit pending deliveries of enabled
// webhooks due at now: each gets its next attempt number and is not due
// again before now+lease, so that a send lost with its worker is made
// again then.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]DeliveryClaim, error) {
	rows, err := s.pool.Query(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $2
		WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
			WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND w.enabled
			ORDER BY d.next_attempt_at LIMIT $3 FOR UPDATE OF d SKIP LOCKED)
		RETURNING id, tenant_id, attempts`, now, now.Add(lease), limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (c DeliveryClaim, err error) {
		err = r.Scan(&c.ID, &c.TenantID, &c.Attempt)
		return c, err
	})
}

// OutgoingDelivery is what a worker sends: the delivery, its endpoint and
// its event.
type OutgoingDelivery struct {
	ID, TenantID, WebhookID int64
	Attempts                int
	Status                  string
	RetryUntil              time.Time
	URL                     string
	SecretEnc               []byte
	Enabled                 bool
	Event                   Event
}

// OutgoingDelivery reads a delivery with its endpoint and event.
func (s *Store) OutgoingDelivery(ctx context.Context, id int64) (OutgoingDelivery, error) {
	var d OutgoingDelivery
	e := &d.Event
	err := s.pool.QueryRow(ctx, `SELECT d.id, d.tenant_id, d.webhook_id, d.attempts, d.status, d.retry_until,
		w.url, w.secret_enc, w.enabled, e.id, e.tenant_id, e.type, e.subject, e.data, e.created_at
		FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id
		WHERE d.id = $1`, id).Scan(&d.ID, &d.TenantID, &d.WebhookID, &d.Attempts, &d.Status, &d.RetryUntil,
		&d.URL, &d.SecretEnc, &d.Enabled, &e.ID, &e.TenantID, &e.Type, &e.Subject, &e.Data, &e.CreatedAt)
	return d, translate(err)
}

// DeliveryResult is what one send of a delivery met.
type DeliveryResult struct {
	ID      int64
	Attempt int
	At      time.Time
	// Delivered: the endpoint answered 2xx.
	Delivered bool
	Code      int    // the response's status, 0 when none came
	Error     string // what went wrong, "" when delivered
	// RetryAt is when to send again; zero: the delivery has failed for good.
	RetryAt time.Time
	// DisableAfter: a failure of a webhook failing for this long disables it.
	DisableAfter time.Duration
}

// RecordDeliveryResult stores a send's result unless the delivery has
// moved on (redelivered, claimed again, or no longer pending); a success
// clears the webhook's failure record, and a failure of a webhook failing
// for DisableAfter disables it, fails its pending deliveries and records
// a webhook.disabled event, in one transaction.
func (s *Store) RecordDeliveryResult(ctx context.Context, r DeliveryResult) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		status := DeliveryPending
		switch {
		case r.Delivered:
			status = DeliveryDelivered
		case r.RetryAt.IsZero():
			status = DeliveryFailed
		}
		var tenantID, webhookID int64
		err := tx.QueryRow(ctx, `UPDATE webhook_deliveries SET status = $3::text, response_code = nullif($4::int, 0),
			error = nullif($5::text, ''), last_attempt_at = $6::timestamptz,
			delivered_at = CASE WHEN $3::text = 'delivered' THEN $6::timestamptz END,
			next_attempt_at = coalesce($7::timestamptz, next_attempt_at)
			WHERE id = $1 AND attempts = $2 AND status = 'pending' RETURNING tenant_id, webhook_id`,
			r.ID, r.Attempt, status, r.Code, r.Error, r.At, nullTime(r.RetryAt)).Scan(&tenantID, &webhookID)
		if isNoRows(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("record delivery %d: %w", r.ID, err)
		}
		if r.Delivered {
			_, err := tx.Exec(ctx, `UPDATE webhooks SET failing_since = NULL WHERE id = $1`, webhookID)
			return err
		}
		return webhookFailed(ctx, tx, tenantID, webhookID, r.At, r.DisableAfter)
	})
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// webhookFailed notes a failed send on its webhook, and disables a webhook
// failing since before at-disableAfter.
func webhookFailed(ctx context.Context, tx pgx.Tx, tenantID, webhookID int64, at time.Time, disableAfter time.Duration) error {
	var url string
	err := tx.QueryRow(ctx, `UPDATE webhooks SET failing_since = coalesce(failing_since, $2), enabled = false,
		disabled_reason = $4, updated_at = now()
		WHERE id = $1 AND enabled AND coalesce(failing_since, $2) <= $3 RETURNING url`,
		webhookID, at, at.Add(-disableAfter), webhookDisabledAfterFails).Scan(&url)
	if isNoRows(err) {
		_, err := tx.Exec(ctx, `UPDATE webhooks SET failing_since = coalesce(failing_since, $2) WHERE id = $1`,
			webhookID, at)
		return err
	}
	if err != nil {
		return fmt.Errorf("disable webhook %d: %w", webhookID, err)
	}
	if err := failPending(ctx, tx, webhookID, "the endpoint was disabled after a day of failures"); err != nil {
		return err
	}
	return recordEvent(ctx, tx, tenantID, EventWebhookDisabled, fmt.Sprintf("webhook:%d", webhookID),
		map[string]any{"webhook_id": webhookID, "url": url, "reason": webhookDisabledAfterFails})
}

// KnownEventType says whether typ is an event type webhooks can receive.
func KnownEventType(typ string) bool { return slices.Contains(EventTypes, typ) }
