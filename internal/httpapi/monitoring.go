package httpapi

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/auth"
)

// monitoringPath is where the queue dashboard (asynqmon) is mounted.
const monitoringPath = "/monitoring"

// mountMonitoring serves the queue dashboard to operator keys. It is not in
// the route table: it is a third-party web UI with an API of its own under
// the prefix, not part of Presswork's API (so not in the OpenAPI document).
func (s *Server) mountMonitoring(h http.Handler) {
	// The dashboard changes queues with POSTs and DELETEs, and a browser
	// sends basic credentials by itself: refuse cross-origin writes.
	h = http.NewCrossOriginProtection().Handler(h)
	mw := []echo.MiddlewareFunc{s.basicAuthKey, s.authenticate(auth.PermOperator)}
	s.echo.Any(monitoringPath, echo.WrapHandler(h), mw...)
	s.echo.Any(monitoringPath+"/*", echo.WrapHandler(h), mw...)
}

// basicAuthKey lets a browser log in to the dashboard: the password of HTTP
// basic authentication (any user name) is taken as the API key. The error
// handler's 401 there asks for basic credentials, so the browser prompts.
func (s *Server) basicAuthKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if _, key, ok := r.BasicAuth(); ok {
			r.Header.Set(echo.HeaderAuthorization, "Bearer "+key)
		}
		return next(c)
	}
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
