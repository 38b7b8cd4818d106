package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// Plans are the tenant plans.
var Plans = []string{"free", "starter", "pro", "agency"}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// maxGrant bounds one credit grant or opening balance.
const maxGrant = 1_000_000_000

// NewTenantRequest is the body of POST /v1/admin/tenants.
type NewTenantRequest struct {
	Name    string `json:"name"`
	Slug    string `json:"slug"`
	Plan    string `json:"plan"`
	Credits int64  `json:"credits"`
}

// Validate checks a tenant request.
func (r NewTenantRequest) Validate() error {
	v := &errs.ValidationError{}
	checkText(v, "name", r.Name, 1, 100)
	if len(r.Slug) < 2 || len(r.Slug) > 40 || !slugPattern.MatchString(r.Slug) {
		v.Add("slug", "must be 2 to 40 lower-case letters, digits and single hyphens, such as acme-media")
	}
	if !slices.Contains(Plans, r.Plan) {
		v.Add("plan", "must be one of %s", strings.Join(Plans, ", "))
	}
	if r.Credits < 0 || r.Credits > maxGrant {
		v.Add("credits", "must be from 0 to %d", maxGrant)
	}
	return v.OrNil()
}

// TenantWithKey is a new tenant and its first owner key, shown once.
type TenantWithKey struct {
	Tenant   store.Tenant `json:"tenant"`
	OwnerKey string       `json:"owner_key"`
}

// CreateTenant creates a tenant and its first owner key; the API and the
// command line both use it.
func CreateTenant(ctx context.Context, st *store.Store, req NewTenantRequest) (TenantWithKey, error) {
	if err := req.Validate(); err != nil {
		return TenantWithKey{}, err
	}
	t, err := st.CreateTenant(ctx, store.NewTenant{Slug: req.Slug, Name: req.Name, Plan: req.Plan, Credits: req.Credits})
	if err != nil {
		if errs.IsConflict(err) {
			return TenantWithKey{}, public(errs.ErrConflict, "a tenant with slug %q exists already", req.Slug)
		}
		return TenantWithKey{}, err
	}
	key, prefix, hash := NewAPIKey()
	if _, err := st.CreateAPIKey(ctx, t.ID, "owner", "first owner key", prefix, hash); err != nil {
		return TenantWithKey{}, err
	}
	return TenantWithKey{Tenant: t, OwnerKey: key}, nil
}

func (s *Server) createTenant(c echo.Context) error {
	var req NewTenantRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	out, err := CreateTenant(c.Request().Context(), s.store, req)
	if err != nil {
		return err
	}
	s.auditTenant(c, out.Tenant.ID, "tenant.create", fmt.Sprintf("tenant:%d", out.Tenant.ID))
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) listTenants(c echo.Context) error {
	ts, err := s.store.ListTenants(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, List[store.Tenant]{Items: ts})
}

func (s *Server) getTenantAdmin(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	t, err := s.store.GetTenant(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

// TenantChangeRequest is the body of PATCH /v1/admin/tenants/:id: a new
// status, a new plan, or both.
type TenantChangeRequest struct {
	Status *string `json:"status"`
	Plan   *string `json:"plan"`
}

// Validate checks a change request: at least one field, each valid.
func (r TenantChangeRequest) Validate() error {
	v := &errs.ValidationError{}
	if r.Status == nil && r.Plan == nil {
		v.Add("status", "give status, plan or both")
		v.Add("plan", "give status, plan or both")
	}
	if r.Status != nil && *r.Status != "active" && *r.Status != "suspended" {
		v.Add("status", "must be active or suspended")
	}
	if r.Plan != nil && !slices.Contains(Plans, *r.Plan) {
		v.Add("plan", "must be one of %s", strings.Join(Plans, ", "))
	}
	return v.OrNil()
}

// TenantChanged is what ChangeTenant did.
type TenantChanged struct {
	Tenant  store.Tenant
	OldPlan string
	// Released counts the held bulk jobs that the new plan's room let go
	// to the queue at once. ReleaseErr is why that failed, if it did: the
	// change stands, and the reconciler's next pass releases them.
	Released   int
	ReleaseErr error
}

// ChangeTenant suspends, reactivates or changes the plan of a tenant; the
// API and the command line both use it. The plan sets the tenant's
// fair-share room (BULK_INFLIGHT) as it does at creation: held bulk jobs
// that a larger room now fits are released and enqueued at once, and a
// smaller room lets no more go until the tenant is under it.
func ChangeTenant(ctx context.Context, st *store.Store, enq Enqueuer, id int64, req TenantChangeRequest) (TenantChanged, error) {
	if err := req.Validate(); err != nil {
		return TenantChanged{}, err
	}
	t, oldPlan, err := st.ChangeTenant(ctx, id, store.TenantChange{Status: req.Status, Plan: req.Plan})
	if err != nil {
		if errorsIsNotFound(err) {
			return TenantChanged{}, public(err, "no tenant with id %d", id)
		}
		return TenantChanged{}, err
	}
	out := TenantChanged{Tenant: t, OldPlan: oldPlan}
	if req.Plan != nil && *req.Plan != oldPlan {
		released, err := st.ReleaseHeld(ctx, id)
		if err == nil && len(released) > 0 {
			err = enq.Enqueue(ctx, released)
		}
		out.Released, out.ReleaseErr = len(released), err
	}
	return out, nil
}

func (s *Server) updateTenant(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req TenantChangeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	out, err := ChangeTenant(c.Request().Context(), s.store, s.enqueuer, id, req)
	if err != nil {
		return err
	}
	if out.ReleaseErr != nil {
		s.log.Warn("releasing held jobs failed; the reconciler will", "error", out.ReleaseErr, "tenant", id)
	}
	if req.Status != nil {
		s.auditTenant(c, id, "tenant."+*req.Status, fmt.Sprintf("tenant:%d", id))
	}
	if req.Plan != nil {
		s.auditTenant(c, id, "tenant.plan", PlanChangeTarget(id, out.OldPlan, out.Tenant.Plan))
	}
	return c.JSON(http.StatusOK, out.Tenant)
}

// PlanChangeTarget is the audit log's target of a plan change.
func PlanChangeTarget(id int64, from, to string) string {
	return fmt.Sprintf("tenant:%d plan:%s was:%s", id, to, from)
}

type grantRequest struct {
	Amount int64  `json:"amount"`
	Note   string `json:"note"`
}

func (s *Server) grantCredits(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req grantRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v := &errs.ValidationError{}
	if req.Amount < 1 || req.Amount > maxGrant {
		v.Add("amount", "must be from 1 to %d credits", maxGrant)
	}
	if strings.TrimSpace(req.Note) != "" { // optional
		checkText(v, "note", req.Note, 1, 500)
	}
	if err := v.OrNil(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var balance int64
	replayed := false
	if key := c.Request().Header.Get(idempotencyHeader); key == "" {
		balance, err = s.store.GrantCredits(ctx, id, req.Amount, req.Note)
	} else if err = checkIdempotencyKey(key); err == nil {
		// A retried grant with the same Idempotency-Key grants nothing more.
		balance, replayed, err = s.store.GrantCreditsOnce(ctx, id, req.Amount, req.Note, key)
	}
	if err != nil {
		return err
	}
	if replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	} else {
		s.auditTenant(c, id, "credits.grant", fmt.Sprintf("tenant:%d amount:%d", id, req.Amount))
	}
	return c.JSON(http.StatusOK, map[string]int64{"balance": balance})
}
