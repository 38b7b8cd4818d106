package httpapi

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

const principalKey = "principal"

// principal returns who the request acts as; set by authenticate.
func principal(c echo.Context) store.Principal {
	p, _ := c.Get(principalKey).(store.Principal)
	return p
}

// authenticate resolves the bearer key (or the session cookie) and checks
// the route's permission. An address with too many failed authentications
// this minute is refused before the lookup (admitAuth).
func (s *Server) authenticate(perm auth.Permission) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			header := c.Request().Header.Get(echo.HeaderAuthorization)
			if header == "" && !isMonitoring(c.Request().URL.Path) {
				if cookie, err := c.Cookie(auth.SessionCookie); err == nil && cookie.Value != "" {
					return s.authenticateSession(c, cookie.Value, perm, next)
				}
			}
			key, ok := bearerKey(header)
			if !ok {
				return errs.Public(errs.ErrUnauthenticated, "send an API key as: Authorization: Bearer <key>")
			}
			settle, err := s.admitAuth(c)
			if err != nil {
				return err
			}
			p, err := s.store.PrincipalByKeyHash(c.Request().Context(), auth.HashSecret(key))
			settle(errorsIsNotFound(err))
			if err != nil {
				if errorsIsNotFound(err) {
					return errs.Public(errs.ErrUnauthenticated, "the API key is unknown or revoked")
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
func bearerKey(header string) (string, bool) {
	scheme, key, _ := strings.Cut(strings.TrimSpace(header), " ")
	key = strings.TrimSpace(key)
	return key, strings.EqualFold(scheme, "Bearer") && key != ""
}

// admit lets principal p, a key's or a session's, make a request needing
// perm (auth.Permit). The request then carries p.
func admit(c echo.Context, p store.Principal, perm auth.Permission) error {
	if err := auth.Permit(p, perm); err != nil {
		return err
	}
	c.Set(principalKey, p)
	return nil
}

// sessionUserKey holds the signed-in user's id for a request authenticated
// by a session cookie.
const sessionUserKey = "session_user"

// authenticateSession is the path of a request without an Authorization
// header but with a session cookie (the web interface's pages calling the
// API): the principal is the user's tenant and role, checked with the same
// permissions as a key's, and a write must carry the session's CSRF token.
func (s *Server) authenticateSession(c echo.Context, token string, perm auth.Permission, next echo.HandlerFunc) error {
	settle, err := s.admitAuth(c)
	if err != nil {
		return err
	}
	ss, err := s.store.SessionByTokenHash(c.Request().Context(), auth.HashSecret(token))
	settle(errorsIsNotFound(err))
	if err != nil {
		if errorsIsNotFound(err) {
			return errs.Public(errs.ErrUnauthenticated, "the session has ended; sign in again")
		}
		return err
	}
	switch c.Request().Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if !auth.CSRFMatches(c.Request().Header.Get(auth.CSRFHeader), ss.CSRFToken) {
			return errs.Public(errs.ErrForbidden, "a write with a session cookie needs the session's %s header", auth.CSRFHeader)
		}
	}
	if err := admit(c, ss.Principal, perm); err != nil {
		return err
	}
	c.Set(sessionUserKey, ss.UserID)
	return next(c)
}
