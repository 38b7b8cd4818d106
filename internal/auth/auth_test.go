package auth

import (
	"errors"
	"testing"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

func TestAllowed(t *testing.T) {
	tests := []struct {
		role string
		perm Permission
		want bool
	}{
		{"owner", PermAudit, true},
		{"owner", PermOperator, false},
		{"admin", PermKeys, true},
		{"admin", PermAudit, false},
		{"editor", PermContent, true},
		{"editor", PermSites, false},
		{"viewer", PermRead, true},
		{"viewer", PermContent, false},
		{"bot", PermContent, true},
		{"bot", PermKeys, false},
		{"operator", PermOperator, true},
		{"operator", PermRead, false},
		{"stranger", PermRead, false},
		{"", PermRead, false},
	}
	for _, tt := range tests {
		if got := Allowed(tt.role, tt.perm); got != tt.want {
			t.Errorf("Allowed(%q, %q) = %v, want %v", tt.role, tt.perm, got, tt.want)
		}
	}
}

func TestTenantRolesAreRoles(t *testing.T) {
	for _, role := range TenantRoles {
		if _, ok := Roles[role]; !ok {
			t.Errorf("tenant role %q has no permissions", role)
		}
		if Allowed(role, PermOperator) {
			t.Errorf("tenant role %q has the operator permission", role)
		}
	}
}

func TestPermit(t *testing.T) {
	active := func(role string) store.Principal { return store.Principal{Role: role, TenantStatus: "active"} }
	suspended := func(role string) store.Principal { return store.Principal{Role: role, TenantStatus: "suspended"} }
	tests := []struct {
		name    string
		p       store.Principal
		perm    Permission
		wantMsg string // "" when permitted
	}{
		{"owner writes", active("owner"), PermSites, ""},
		{"viewer reads", active("viewer"), PermRead, ""},
		{"viewer writes", active("viewer"), PermContent, "the viewer role may not do this (needs content permission)"},
		{"operator", store.Principal{Role: "operator"}, PermOperator, ""},
		{"suspended reads", suspended("owner"), PermRead, ""},
		{"suspended reads credits", suspended("owner"), PermBilling, ""},
		{"suspended reads audit", suspended("owner"), PermAudit, ""},
		{"suspended writes", suspended("owner"), PermContent, "the tenant is suspended; only reading is allowed"},
		{"suspended manages keys", suspended("admin"), PermKeys, "the tenant is suspended; only reading is allowed"},
		{"suspended without the role", suspended("viewer"), PermKeys, "the viewer role may not do this (needs keys permission)"},
	}
	for _, tt := range tests {
		err := Permit(tt.p, tt.perm)
		if tt.wantMsg == "" {
			if err != nil {
				t.Errorf("%s: %v, want permitted", tt.name, err)
			}
			continue
		}
		var ae *errs.PublicError
		if !errors.As(err, &ae) || !errors.Is(err, errs.ErrForbidden) || ae.Msg != tt.wantMsg {
			t.Errorf("%s: %v (%T), want a forbidden *errs.PublicError %q", tt.name, err, err, tt.wantMsg)
		}
	}
}
