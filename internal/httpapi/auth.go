package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// Permission is what a route needs.
type Permission string

// Permissions, from the roles table in the README.
const (
	PermRead     Permission = "read"     // read a tenant's data
	PermContent  Permission = "content"  // import keywords, run and cancel jobs
	PermSites    Permission = "sites"    // add, change and remove sites
	PermKeys     Permission = "keys"     // create and revoke API keys
	PermBilling  Permission = "billing"  // read credits and the ledger
	PermAudit    Permission = "audit"    // read the tenant's audit log
	PermOperator Permission = "operator" // manage tenants
)

// Roles maps each role to its permissions.
var Roles = map[string][]Permission{
	"owner":    {PermRead, PermContent, PermSites, PermKeys, PermBilling, PermAudit},
	"admin":    {PermRead, PermContent, PermSites, PermKeys, PermBilling},
	"editor":   {PermRead, PermContent},
	"viewer":   {PermRead},
	"bot":      {PermRead, PermContent},
	"operator": {PermOperator},
}

// tenantRoles are the roles a tenant key may have, highest first.
var tenantRoles = []string{"owner", "admin", "editor", "viewer", "bot"}

// Allowed reports whether role has perm.
func Allowed(role string, perm Permission) bool {
	return slices.Contains(Roles[role], perm)
}

const principalKey = "principal"

// principal returns who the request acts as; set by authenticate.
func principal(c echo.Context) store.Principal {
	p, _ := c.Get(principalKey).(store.Principal)
	return p
}

// NewAPIKey returns a new random key, its display prefix and its hash.
func NewAPIKey() (key, prefix string, hash []byte) {
	buf := make([]byte, 24)
	_, _ = rand.Read(buf) // crypto/rand.Read never fails
	secret := base64.RawURLEncoding.EncodeToString(buf)
	key = "pw_" + secret
	return key, key[:11], HashAPIKey(key)
}

// HashAPIKey hashes a key for storage and lookup. Keys are 192 random bits,
// so a plain SHA-256 is enough (no password stretching needed).
func HashAPIKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// authenticate resolves the bearer key and checks the route's permission.
func (s *Server) authenticate(perm Permission) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			key, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
			if !ok || key == "" {
				return public(errs.ErrUnauthenticated, "send an API key as: Authorization: Bearer <key>")
			}
			p, err := s.store.PrincipalByKeyHash(c.Request().Context(), HashAPIKey(strings.TrimSpace(key)))
			if err != nil {
				if errorsIsNotFound(err) {
					return public(errs.ErrUnauthenticated, "the API key is unknown or revoked")
				}
				return err
			}
			if !Allowed(p.Role, perm) {
				return public(errs.ErrForbidden, "the %s role may not do this (needs %s permission)", p.Role, perm)
			}
			if p.TenantStatus == "suspended" && perm != PermRead && perm != PermBilling && perm != PermAudit {
				return public(errs.ErrForbidden, "the tenant is suspended; only reading is allowed")
			}
			c.Set(principalKey, p)
			return next(c)
		}
	}
}
