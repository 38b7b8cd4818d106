package httpapi

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/errs"
)

// monitoringPath is where the queue dashboard (asynqmon) is mounted.
const monitoringPath = "/monitoring"

// mountMonitoring serves the queue dashboard to operators: to an operator
// key (as a bearer key, or as the password of basic authentication for
// scripts) and to an operator person's web session. It is not in the route
// table: it is a third-party web UI with an API of its own under the
// prefix, not part of Presswork's API (so not in the OpenAPI document).
func (s *Server) mountMonitoring(h http.Handler) {
	// The dashboard changes queues with POSTs and DELETEs, and a browser
	// sends basic credentials and the session cookie by itself: refuse
	// cross-origin writes.
	h = http.NewCrossOriginProtection().Handler(h)
	mw := []echo.MiddlewareFunc{s.monitoringAuth(s.authenticate(auth.PermOperator))}
	s.echo.Any(monitoringPath, echo.WrapHandler(h), mw...)
	s.echo.Any(monitoringPath+"/*", echo.WrapHandler(h), mw...)
}

// monitoringAuth lets a browser into the dashboard. The password of HTTP
// basic authentication (any user name) is taken as the API key; the error
// handler's 401 there asks for basic credentials, so the browser prompts.
// Without any Authorization header, the web interface's session cookie
// signs in an operator person. Other requests go to byKey.
func (s *Server) monitoringAuth(byKey echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		keyed := byKey(next)
		return func(c echo.Context) error {
			r := c.Request()
			if _, key, ok := r.BasicAuth(); ok {
				r.Header.Set(echo.HeaderAuthorization, "Bearer "+key)
			} else if r.Header.Get(echo.HeaderAuthorization) == "" {
				if cookie, err := c.Cookie(auth.SessionCookie); err == nil && cookie.Value != "" {
					return s.monitoringSession(c, cookie.Value, next)
				}
			}
			return keyed(c)
		}
	}
}

// monitoringSession admits an operator's web session to the dashboard.
// Unlike the API's session path it asks no CSRF header (the dashboard's
// own script cannot send one): the cookie is SameSite=Lax and cross-origin
// writes are refused in front of the dashboard, as for basic credentials.
func (s *Server) monitoringSession(c echo.Context, token string, next echo.HandlerFunc) error {
	settle, err := s.admitAuth(c)
	if err != nil {
		return err
	}
	ss, err := s.store.SessionByTokenHash(c.Request().Context(), auth.HashSecret(token))
	settle(errorsIsNotFound(err))
	if errorsIsNotFound(err) {
		return errs.Public(errs.ErrUnauthenticated, "the session has ended; sign in again at /ui/login")
	}
	if err != nil {
		return err
	}
	if err := admit(c, ss.Principal, auth.PermOperator); err != nil {
		return err
	}
	c.Set(sessionUserKey, ss.UserID)
	return next(c)
}

// isMonitoring reports whether path is the dashboard's.
func isMonitoring(path string) bool {
	return path == monitoringPath || strings.HasPrefix(path, monitoringPath+"/")
}

// uiPath is where the editors' web interface is mounted.
const uiPath = "/ui"

// mountUI serves the web interface. Like the dashboard it is not in the
// route table (it is HTML for people, not part of the API); its pages call
// the API with their session cookie.
func (s *Server) mountUI(h http.Handler) {
	s.echo.Any(uiPath, echo.WrapHandler(h))
	s.echo.Any(uiPath+"/*", echo.WrapHandler(h))
	s.echo.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusFound, uiPath+"/") })
}
