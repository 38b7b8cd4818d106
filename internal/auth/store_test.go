package auth

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/testenv"
)

// fakeReleaser records the tenants it was asked to release jobs of.
type fakeReleaser struct {
	tenants  []int64
	released int
	err      error
}

func (f *fakeReleaser) Release(_ context.Context, tenantID int64) (int, error) {
	f.tenants = append(f.tenants, tenantID)
	return f.released, f.err
}

func TestCreateTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testenv.Store(t)
	tk, err := CreateTenant(ctx, st, NewTenantRequest{Name: "Acme", Slug: "acme", Plan: "starter", Credits: 50})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Tenant.Slug != "acme" || tk.Tenant.Plan != "starter" || tk.Tenant.CreditBalance != 50 {
		t.Errorf("tenant %+v, want acme on starter with 50 credits", tk.Tenant)
	}
	p, err := st.PrincipalByKeyHash(ctx, HashSecret(tk.OwnerKey))
	if err != nil {
		t.Fatalf("the owner key is unknown: %v", err)
	}
	if p.TenantID != tk.Tenant.ID || p.Role != "owner" {
		t.Errorf("the owner key is %+v, want tenant %d's owner", p, tk.Tenant.ID)
	}

	_, err = CreateTenant(ctx, st, NewTenantRequest{Name: "Acme again", Slug: "acme", Plan: "pro"})
	var ae *errs.PublicError
	if !errors.As(err, &ae) || !errors.Is(err, errs.ErrConflict) || ae.Msg != `a tenant with slug "acme" exists already` {
		t.Errorf("a taken slug: %v (%T), want a conflict *errs.PublicError", err, err)
	}
	var ve *errs.ValidationError
	if _, err := CreateTenant(ctx, st, NewTenantRequest{Slug: "x"}); !errors.As(err, &ve) {
		t.Errorf("an invalid request: %v, want a validation error", err)
	}
}

func TestChangeTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testenv.Store(t)
	tk, err := CreateTenant(ctx, st, NewTenantRequest{Name: "Acme", Slug: "acme", Plan: "pro"})
	if err != nil {
		t.Fatal(err)
	}
	id := tk.Tenant.ID
	ptr := func(s string) *string { return &s }

	rel := &fakeReleaser{}
	changed, err := ChangeTenant(ctx, st, rel, id, TenantChangeRequest{Status: ptr("suspended")})
	if err != nil || changed.Tenant.Status != "suspended" || changed.OldPlan != "pro" || len(rel.tenants) != 0 {
		t.Errorf("suspending: %+v, %v, released for %v; want suspended and no release", changed, err, rel.tenants)
	}

	rel = &fakeReleaser{released: 3, err: errors.New("redis down")}
	changed, err = ChangeTenant(ctx, st, rel, id, TenantChangeRequest{Plan: ptr("agency")})
	if err != nil || changed.Tenant.Plan != "agency" || changed.OldPlan != "pro" {
		t.Fatalf("a plan change: %+v, %v; want agency, was pro", changed, err)
	}
	if len(rel.tenants) != 1 || rel.tenants[0] != id || changed.Released != 3 || changed.ReleaseErr != rel.err {
		t.Errorf("a plan change released for %v: %d, %v; want tenant %d's release and its error",
			rel.tenants, changed.Released, changed.ReleaseErr, id)
	}

	rel = &fakeReleaser{}
	if _, err := ChangeTenant(ctx, st, rel, id, TenantChangeRequest{Plan: ptr("agency")}); err != nil || len(rel.tenants) != 0 {
		t.Errorf("the same plan again: %v, released for %v; want no release", err, rel.tenants)
	}

	var ae *errs.PublicError
	_, err = ChangeTenant(ctx, st, rel, id+1000, TenantChangeRequest{Status: ptr("active")})
	if !errors.As(err, &ae) || !errors.Is(err, errs.ErrNotFound) || ae.Msg != fmt.Sprintf("no tenant with id %d", id+1000) {
		t.Errorf("an unknown tenant: %v (%T), want a not-found *errs.PublicError", err, err)
	}
	var ve *errs.ValidationError
	if _, err := ChangeTenant(ctx, st, rel, id, TenantChangeRequest{}); !errors.As(err, &ve) {
		t.Errorf("an empty change: %v, want a validation error", err)
	}
}
