package httpapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
)

// RequestLimiter admits a request on a key under a rate per minute, or
// refuses it with an *errs.ThrottledError saying when to come back; a
// ratelimit.Limiter on Redis is one, shared by every API replica.
type RequestLimiter interface {
	Allow(ctx context.Context, key string, perMinute int) error
}

// limitRequests is the middleware, after authentication, that holds each
// API key to API_RATE_PER_KEY requests a minute and each tenant's keys
// together to API_RATE_PER_TENANT. A refused request gets 429 with
// Retry-After and does nothing. When Redis cannot be asked, the request
// goes through (the limits protect the service; they are not worth an
// outage of the API) and the failure is logged.
func (s *Server) limitRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := principal(c)
		ctx := c.Request().Context()
		who := "api-key:" + strconv.FormatInt(p.KeyID, 10)
		if u, ok := c.Get(sessionUserKey).(int64); ok {
			who = "api-user:" + strconv.FormatInt(u, 10) // a session counts as a key of its own
		}
		err := s.limiter.Allow(ctx, who, s.cfg.APIKeyRate)
		if err == nil && p.TenantID != 0 {
			err = s.limiter.Allow(ctx, "api-tenant:"+strconv.FormatInt(p.TenantID, 10), s.cfg.APITenantRate)
		}
		var th *errs.ThrottledError
		switch {
		case errors.As(err, &th):
			return &rateLimitedError{retryAfter: th.RetryAfter}
		case err != nil:
			s.log.Warn("API rate limit not checked", "error", err,
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		}
		return next(c)
	}
}

// rateLimitedError is the 429 of a request over its key's or tenant's rate.
type rateLimitedError struct{ retryAfter time.Duration }

func (e *rateLimitedError) Error() string {
	return fmt.Sprintf("too many requests: retry after %s", e.retryAfter.Round(time.Millisecond))
}

// retryAfterSeconds is the Retry-After header's value: whole seconds,
// rounded up, at least 1.
func (e *rateLimitedError) retryAfterSeconds() string {
	return strconv.Itoa(max(1, int(math.Ceil(e.retryAfter.Seconds()))))
}
