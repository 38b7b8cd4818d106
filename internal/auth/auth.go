// Package auth is who may do what in Presswork: roles and their
// permissions, API keys and session tokens (made and hashed here, stored by
// internal/store), and the operator's tenant management (creation with a
// first owner key, suspension, plan changes). The API, the web interface
// and the command line all use it; it knows nothing of HTTP beyond the
// names of the session cookie and the CSRF header.
package auth

import (
	"slices"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// Permission is what an action needs.
type Permission string

// Permissions, from the roles table in the README.
const (
	PermRead     Permission = "read"     // read a tenant's data
	PermContent  Permission = "content"  // import keywords, run and cancel jobs
	PermSites    Permission = "sites"    // add, change and remove sites
	PermKeys     Permission = "keys"     // create and revoke API keys
	PermBilling  Permission = "billing"  // read credits and the ledger
	PermPay      Permission = "pay"      // start Stripe checkouts and portal sessions (#26)
	PermAudit    Permission = "audit"    // read the tenant's audit log
	PermOperator Permission = "operator" // manage tenants
)

// Roles maps each role to its permissions.
var Roles = map[string][]Permission{
	"owner":    {PermRead, PermContent, PermSites, PermKeys, PermBilling, PermAudit, PermPay},
	"admin":    {PermRead, PermContent, PermSites, PermKeys, PermBilling},
	"editor":   {PermRead, PermContent},
	"viewer":   {PermRead},
	"bot":      {PermRead, PermContent},
	"operator": {PermOperator},
}

// TenantRoles are the roles a tenant key may have, highest first.
var TenantRoles = []string{"owner", "admin", "editor", "viewer", "bot"}

// Allowed reports whether role has perm.
func Allowed(role string, perm Permission) bool {
	return slices.Contains(Roles[role], perm)
}

// Permit decides whether principal p, a key's or a session's, may do
// something needing perm: its role must have the permission, and a
// suspended tenant may only read (its data, credits and audit log) and pay. A
// refusal is an *errs.PublicError of kind errs.ErrForbidden.
func Permit(p store.Principal, perm Permission) error {
	if !Allowed(p.Role, perm) {
		return errs.Public(errs.ErrForbidden, "the %s role may not do this (needs %s permission)", p.Role, perm)
	}
	if p.TenantStatus == "suspended" && perm != PermRead && perm != PermBilling && perm != PermAudit && perm != PermPay {
		return errs.Public(errs.ErrForbidden, "the tenant is suspended; only reading is allowed")
	}
	return nil
}
