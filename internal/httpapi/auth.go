package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
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

// authenticate resolves the bearer key (or the session cookie) and checks
// the route's permission. An address with too many failed authentications
// this minute is refused before the lookup (admitAuth).
func (s *Server) authenticate(perm Permission) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			auth := c.Request().Header.Get(echo.HeaderAuthorization)
			if auth == "" && !isMonitoring(c.Request().URL.Path) {
				if cookie, err := c.Cookie(SessionCookie); err == nil && cookie.Value != "" {
					return s.authenticateSession(c, cookie.Value, perm, next)
				}
			}
			key, ok := bearerKey(auth)
			if !ok {
				return public(errs.ErrUnauthenticated, "send an API key as: Authorization: Bearer <key>")
			}
			settle, err := s.admitAuth(c)
			if err != nil {
				return err
			}
			p, err := s.store.PrincipalByKeyHash(c.Request().Context(), HashAPIKey(key))
			settle(errorsIsNotFound(err))
			if err != nil {
				if errorsIsNotFound(err) {
					return public(errs.ErrUnauthenticated, "the API key is unknown or revoked")
				}
				return err
			}
			if err := admit(c, p, perm); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// bearerKey returns the key of an Authorization header of the Bearer
// scheme. A scheme name is case-insensitive (RFC 9110, section 11.1), so
// "bearer" and "BEARER" are the same scheme.
func bearerKey(auth string) (string, bool) {
	scheme, key, _ := strings.Cut(strings.TrimSpace(auth), " ")
	key = strings.TrimSpace(key)
	return key, strings.EqualFold(scheme, "Bearer") && key != ""
}

// admit lets principal p, a key's or a session's, make a request needing
// perm: its role must have the permission, and a suspended tenant may only
// read. The request then carries p.
func admit(c echo.Context, p store.Principal, perm Permission) error {
	if !Allowed(p.Role, perm) {
		return public(errs.ErrForbidden, "the %s role may not do this (needs %s permission)", p.Role, perm)
	}
	if p.TenantStatus == "suspended" && perm != PermRead && perm != PermBilling && perm != PermAudit {
		return public(errs.ErrForbidden, "the tenant is suspended; only reading is allowed")
	}
	c.Set(principalKey, p)
	return nil
}

// SessionCookie is the web interface's session cookie (internal/web sets
// it); CSRFHeader is the header its pages' writes carry the session's CSRF
// token in.
const (
	SessionCookie = "presswork_session"
	CSRFHeader    = "X-CSRF-Token"
)

// sessionUserKey holds the signed-in user's id for a request authenticated
// by a session cookie.
const sessionUserKey = "session_user"

// authenticateSession is the path of a request without an Authorization
// header but with a session cookie (the web interface's pages calling the
// API): the principal is the user's tenant and role, checked with the same
// permissions as a key's, and a write must carry the session's CSRF token.
func (s *Server) authenticateSession(c echo.Context, token string, perm Permission, next echo.HandlerFunc) error {
	settle, err := s.admitAuth(c)
	if err != nil {
		return err
	}
	ss, err := s.store.SessionByTokenHash(c.Request().Context(), HashAPIKey(token))
	settle(errorsIsNotFound(err))
	if err != nil {
		if errorsIsNotFound(err) {
			return public(errs.ErrUnauthenticated, "the session has ended; sign in again")
		}
		return err
	}
	switch c.Request().Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		got := c.Request().Header.Get(CSRFHeader)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(ss.CSRFToken)) != 1 {
			return public(errs.ErrForbidden, "a write with a session cookie needs the session's %s header", CSRFHeader)
		}
	}
	if err := admit(c, ss.Principal, perm); err != nil {
		return err
	}
	c.Set(sessionUserKey, ss.UserID)
	return next(c)
}
