package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// unmatched is the route label of requests no route matched.
const unmatched = "unmatched"

// HTTPMiddleware records every request's route template, method, status
// and duration. Errors are handed to Echo's error handler here, so that the
// status recorded is the one sent.
func (r *Registry) HTTPMiddleware() echo.MiddlewareFunc {
	var routes routeSet
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			route := routes.label(c)
			method := methodLabel(c.Request().Method)
			status := strconv.Itoa(c.Response().Status)
			r.httpRequests.WithLabelValues(route, method, status).Inc()
			r.httpDuration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
			return nil
		}
	}
}

// routeSet knows the paths of the Echo's routes, read on first use (after
// every route is added).
type routeSet struct {
	once  sync.Once
	paths map[string]bool
}

// label is c's route template, or "unmatched" when no route has it (Echo
// reports a partial match's path, or none, for a request it cannot route).
func (s *routeSet) label(c echo.Context) string {
	s.once.Do(func() {
		s.paths = map[string]bool{}
		for _, rt := range c.Echo().Routes() {
			s.paths[rt.Path] = true
		}
	})
	if p := c.Path(); p != "" && s.paths[p] {
		return p
	}
	return unmatched
}

// methodLabel bounds the method label to the standard methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}
