package auth

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/errs"
)

// problemFields returns the fields err, a validation error, names.
func problemFields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *errs.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("%v (%T), want a validation error", err, err)
	}
	var fields []string
	for _, p := range ve.Problems {
		fields = append(fields, p.Field)
	}
	return fields
}

func TestNewTenantRequestValidate(t *testing.T) {
	ok := NewTenantRequest{Name: "Acme Media", Slug: "acme-media", Plan: "starter", Credits: 50}
	with := func(change func(*NewTenantRequest)) NewTenantRequest {
		r := ok
		change(&r)
		return r
	}
	tests := []struct {
		name string
		req  NewTenantRequest
		want []string
	}{
		{"valid", ok, nil},
		{"no credits", with(func(r *NewTenantRequest) { r.Credits = 0 }), nil},
		{"most credits", with(func(r *NewTenantRequest) { r.Credits = MaxGrant }), nil},
		{"empty name", with(func(r *NewTenantRequest) { r.Name = "  " }), []string{"name"}},
		{"long name", with(func(r *NewTenantRequest) { r.Name = strings.Repeat("é", 101) }), []string{"name"}},
		{"control in name", with(func(r *NewTenantRequest) { r.Name = "Acme\x00" }), []string{"name"}},
		{"invalid UTF-8 name", with(func(r *NewTenantRequest) { r.Name = "Acme\xff" }), []string{"name"}},
		{"short slug", with(func(r *NewTenantRequest) { r.Slug = "a" }), []string{"slug"}},
		{"long slug", with(func(r *NewTenantRequest) { r.Slug = strings.Repeat("a", 41) }), []string{"slug"}},
		{"upper-case slug", with(func(r *NewTenantRequest) { r.Slug = "Acme" }), []string{"slug"}},
		{"double hyphen", with(func(r *NewTenantRequest) { r.Slug = "acme--media" }), []string{"slug"}},
		{"trailing hyphen", with(func(r *NewTenantRequest) { r.Slug = "acme-" }), []string{"slug"}},
		{"unknown plan", with(func(r *NewTenantRequest) { r.Plan = "gold" }), []string{"plan"}},
		{"negative credits", with(func(r *NewTenantRequest) { r.Credits = -1 }), []string{"credits"}},
		{"too many credits", with(func(r *NewTenantRequest) { r.Credits = MaxGrant + 1 }), []string{"credits"}},
		{"all wrong", NewTenantRequest{Credits: -1}, []string{"name", "slug", "plan", "credits"}},
	}
	for _, tt := range tests {
		if got := problemFields(t, tt.req.Validate()); !slices.Equal(got, tt.want) {
			t.Errorf("%s: problems with %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTenantChangeRequestValidate(t *testing.T) {
	ptr := func(s string) *string { return &s }
	tests := []struct {
		name string
		req  TenantChangeRequest
		want []string
	}{
		{"status", TenantChangeRequest{Status: ptr("suspended")}, nil},
		{"plan", TenantChangeRequest{Plan: ptr("agency")}, nil},
		{"both", TenantChangeRequest{Status: ptr("active"), Plan: ptr("free")}, nil},
		{"neither", TenantChangeRequest{}, []string{"status", "plan"}},
		{"unknown status", TenantChangeRequest{Status: ptr("deleted")}, []string{"status"}},
		{"unknown plan", TenantChangeRequest{Plan: ptr("")}, []string{"plan"}},
		{"both unknown", TenantChangeRequest{Status: ptr("x"), Plan: ptr("y")}, []string{"status", "plan"}},
	}
	for _, tt := range tests {
		if got := problemFields(t, tt.req.Validate()); !slices.Equal(got, tt.want) {
			t.Errorf("%s: problems with %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPlanChangeTarget(t *testing.T) {
	if got, want := PlanChangeTarget(7, "pro", "agency"), "tenant:7 plan:agency was:pro"; got != want {
		t.Errorf("PlanChangeTarget = %q, want %q", got, want)
	}
}
