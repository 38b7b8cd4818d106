package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/errs"
)

// The outcomes of a job attempt.
const (
	OutcomeSucceeded   = "succeeded"   // done (or already final: nothing to do)
	OutcomeFailed      = "failed"      // failed for good (asynq.SkipRetry)
	OutcomeRetry       = "retry"       // failed; asynq retries it with back-off
	OutcomeThrottled   = "throttled"   // the provider is rate limiting; retried later, not a failure
	OutcomeRevoked     = "revoked"     // dropped from the queue (asynq.RevokeTask); the reconciler delivers it again
	OutcomeInterrupted = "interrupted" // the worker shut down during the attempt; back on the queue
)

// JobOutcome classifies what a task handler returned; ctx is the handler's
// context.
func JobOutcome(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return OutcomeSucceeded
	case errors.Is(err, asynq.SkipRetry):
		return OutcomeFailed
	case errors.Is(err, asynq.RevokeTask):
		return OutcomeRevoked
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return OutcomeInterrupted
	}
	if _, ok := errors.AsType[*errs.ThrottledError](err); ok {
		return OutcomeThrottled
	}
	return OutcomeRetry
}

// PlanSource looks up a tenant's plan.
type PlanSource interface {
	TenantPlan(ctx context.Context, tenantID int64) (string, error)
}

// Plans caches tenants' plans for PlanTTL, so that counting a job costs no
// query in the common case. It is safe for concurrent use.
type Plans struct {
	src PlanSource
	now func() time.Time

	mu    sync.Mutex
	cache map[int64]planEntry
}

type planEntry struct {
	plan    string
	expires time.Time
}

// PlanTTL is how long a tenant's plan is cached: a plan change shows in the
// metrics within it.
const PlanTTL = time.Minute

// planLookupTimeout bounds the query of a plan not cached; past it the
// job is counted under "unknown".
const planLookupTimeout = 2 * time.Second

// maxCachedPlans bounds the cache; past it, expired entries are dropped.
const maxCachedPlans = 10000

// The plan labels of jobs whose plan is not known.
const (
	planNone    = "none"    // the payload names no tenant
	planUnknown = "unknown" // the lookup failed
)

// NewPlans returns a cache over src; now is the clock (nil: time.Now).
func NewPlans(src PlanSource, now func() time.Time) *Plans {
	if now == nil {
		now = time.Now
	}
	return &Plans{src: src, now: now, cache: map[int64]planEntry{}}
}

// Plan returns the plan of tenantID, from the cache when it is fresh.
func (p *Plans) Plan(ctx context.Context, tenantID int64) string {
	if tenantID == 0 {
		return planNone
	}
	now := p.now()
	p.mu.Lock()
	e, ok := p.cache[tenantID]
	p.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.plan
	}
	plan, err := p.src.TenantPlan(ctx, tenantID)
	if err != nil {
		return planUnknown
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.cache) >= maxCachedPlans {
		for id, e := range p.cache {
			if !now.Before(e.expires) {
				delete(p.cache, id)
			}
		}
	}
	p.cache[tenantID] = planEntry{plan: plan, expires: now.Add(PlanTTL)}
	return plan
}

// JobMiddleware records every job attempt's type, tenant plan, outcome and
// duration; register it with the worker's ServeMux.Use.
func (r *Registry) JobMiddleware(plans *Plans) asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			start := time.Now()
			err := next.ProcessTask(WithRegistry(ctx, r), t)
			outcome := JobOutcome(ctx, err)
			lookup, cancel := context.WithTimeout(context.WithoutCancel(ctx), planLookupTimeout)
			plan := plans.Plan(lookup, payloadTenant(t.Payload()))
			cancel()
			r.jobs.WithLabelValues(t.Type(), plan, outcome).Inc()
			r.jobDuration.WithLabelValues(t.Type(), outcome).Observe(time.Since(start).Seconds())
			return err
		})
	}
}

// payloadTenant is the tenant_id of a task's JSON payload; 0 when it has
// none.
func payloadTenant(payload []byte) int64 {
	var p struct {
		TenantID int64 `json:"tenant_id"`
	}
	if json.Unmarshal(payload, &p) != nil {
		return 0
	}
	return p.TenantID
}
