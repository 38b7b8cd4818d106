package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// Plans are the tenant plans.
var Plans = []string{"free", "starter", "pro", "agency"}

// MaxGrant bounds one credit grant or a new tenant's opening balance.
const MaxGrant = 1_000_000_000

// maxTenantName bounds a tenant's name, in characters.
const maxTenantName = 100

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// NewTenantRequest is a new tenant: the body of POST /v1/admin/tenants and
// the flags of "presswork tenant create".
type NewTenantRequest struct {
	Name    string `json:"name"`
	Slug    string `json:"slug"`
	Plan    string `json:"plan"`
	Credits int64  `json:"credits"`
}

// Validate checks a tenant request.
func (r NewTenantRequest) Validate() error {
	v := &errs.ValidationError{}
	v.CheckText("name", r.Name, 1, maxTenantName)
	if len(r.Slug) < 2 || len(r.Slug) > 40 || !slugPattern.MatchString(r.Slug) {
		v.Add("slug", "must be 2 to 40 lower-case letters, digits and single hyphens, such as acme-media")
	}
	if !slices.Contains(Plans, r.Plan) {
		v.Add("plan", "must be one of %s", strings.Join(Plans, ", "))
	}
	if r.Credits < 0 || r.Credits > MaxGrant {
		v.Add("credits", "must be from 0 to %d", MaxGrant)
	}
	return v.OrNil()
}

// TenantWithKey is a new tenant and its first owner key, shown once.
type TenantWithKey struct {
	Tenant   store.Tenant `json:"tenant"`
	OwnerKey string       `json:"owner_key"`
}

// CreateTenant creates a tenant and its first owner key. A taken slug is an
// *errs.PublicError of kind errs.ErrConflict.
func CreateTenant(ctx context.Context, st *store.Store, req NewTenantRequest) (TenantWithKey, error) {
	if err := req.Validate(); err != nil {
		return TenantWithKey{}, err
	}
	t, err := st.CreateTenant(ctx, store.NewTenant{Slug: req.Slug, Name: req.Name, Plan: req.Plan, Credits: req.Credits})
	if err != nil {
		if errs.IsConflict(err) {
			return TenantWithKey{}, errs.Public(errs.ErrConflict, "a tenant with slug %q exists already", req.Slug)
		}
		return TenantWithKey{}, fmt.Errorf("create tenant %q: %w", req.Slug, err)
	}
	key, prefix, hash := NewAPIKey()
	if _, err := st.CreateAPIKey(ctx, t.ID, "owner", "first owner key", prefix, hash); err != nil {
		return TenantWithKey{}, fmt.Errorf("create the owner key of tenant %d: %w", t.ID, err)
	}
	return TenantWithKey{Tenant: t, OwnerKey: key}, nil
}

// TenantChangeRequest is a change of a tenant: a new status, a new plan, or
// both (the body of PATCH /v1/admin/tenants/:id).
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

// Releaser lets a tenant's held bulk jobs that its fair-share room now fits
// go to the queue, and says how many it let go.
type Releaser interface {
	Release(ctx context.Context, tenantID int64) (int, error)
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

// ChangeTenant suspends, reactivates or changes the plan of a tenant. The
// plan sets the tenant's fair-share room (BULK_INFLIGHT) as it does at
// creation: held bulk jobs that a larger room now fits are released at
// once, and a smaller room lets no more go until the tenant is under it.
// An unknown tenant is an *errs.PublicError of kind errs.ErrNotFound.
func ChangeTenant(ctx context.Context, st *store.Store, rel Releaser, id int64, req TenantChangeRequest) (TenantChanged, error) {
	if err := req.Validate(); err != nil {
		return TenantChanged{}, err
	}
	t, oldPlan, err := st.ChangeTenant(ctx, id, store.TenantChange{Status: req.Status, Plan: req.Plan})
	if err != nil {
		if errors.Is(err, errs.ErrNotFound) {
			return TenantChanged{}, errs.Public(err, "no tenant with id %d", id)
		}
		return TenantChanged{}, fmt.Errorf("change tenant %d: %w", id, err)
	}
	out := TenantChanged{Tenant: t, OldPlan: oldPlan}
	if req.Plan != nil && *req.Plan != oldPlan {
		out.Released, out.ReleaseErr = rel.Release(ctx, id)
	}
	return out, nil
}

// PlanChangeTarget is the audit log's target of a plan change.
func PlanChangeTarget(id int64, from, to string) string {
	return fmt.Sprintf("tenant:%d plan:%s was:%s", id, to, from)
}
