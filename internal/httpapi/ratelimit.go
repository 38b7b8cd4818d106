package httpapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
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

// rateLimitedError is the 429 of a request over its key's or tenant's
// rate, or from an address with too many failed authentications (reason
// says which, for the problem's detail; "" is the rate).
type rateLimitedError struct {
	retryAfter time.Duration
	reason     string
}

func (e *rateLimitedError) Error() string {
	reason := e.reason
	if reason == "" {
		reason = "too many requests"
	}
	return fmt.Sprintf("%s: retry after %s", reason, e.retryAfter.Round(time.Millisecond))
}

// retryAfterSeconds is the Retry-After header's value: whole seconds,
// rounded up, at least 1.
func (e *rateLimitedError) retryAfterSeconds() string {
	return strconv.Itoa(max(1, int(math.Ceil(e.retryAfter.Seconds()))))
}

// FailureCounter counts failed authentications per client address; a
// ratelimit.Failures on Redis is one, shared by every API replica.
type FailureCounter interface {
	// Admit admits one credential lookup from key, or refuses it with an
	// *errs.ThrottledError once limit failures were counted on key in the
	// current window, or while those and the lookups admitted but not yet
	// settled reach limit (so that wrong keys sent all at once are held to
	// the limit too). settle ends the lookup, counting it when it failed.
	Admit(ctx context.Context, key string, limit int) (settle func(ctx context.Context, failed bool) error, err error)
}

// AuthFailuresPerMinute is how many failed authentications (unknown or
// revoked keys, ended sessions) one client address may make in a minute;
// past it the address's requests are answered 429 before any database
// lookup, correct keys included, until the minute is over. Wrong keys
// would otherwise be unlimited lookups, and unlimited guesses. The lookups
// one address has in flight at once count too, since any of them may fail
// (see ratelimit.Failures.Admit): an address that failed this minute may
// have its failures and lookups in flight add up to the limit, another ten
// times the limit in flight; past that a request is answered 429 with a
// Retry-After of a second.
const AuthFailuresPerMinute = 20

// authFailedReason is the 429's detail for an address over the limit.
const authFailedReason = "too many failed (or simultaneous) authentications from this address"

// LimitAuthFailures sets how many failed authentications a client address
// may make a minute (AuthFailuresPerMinute unless set; 0 or less: no
// limit). It is safe to call while the server serves.
func (s *Server) LimitAuthFailures(perMinute int) { s.authFailLimit.Store(int64(perMinute)) }

// admitAuth refuses a request from an address that failed to
// authenticate too often this minute, or that has too many lookups in
// flight; otherwise it returns settle, which the caller calls once the
// credential was looked up (failed: it named no key or session). It runs
// before the credential is looked up; when Redis cannot be asked the
// request goes through (logged), as with the request rates.
func (s *Server) admitAuth(c echo.Context) (settle func(failed bool), err error) {
	settle = func(bool) {}
	limit := int(s.authFailLimit.Load())
	if s.authFailures == nil || limit <= 0 {
		return settle, nil
	}
	done, err := s.authFailures.Admit(c.Request().Context(), authFailureKey(c.RealIP()), limit)
	var th *errs.ThrottledError
	switch {
	case errors.As(err, &th):
		return nil, &rateLimitedError{retryAfter: th.RetryAfter, reason: authFailedReason}
	case err != nil:
		s.log.Warn("failed-authentication limit not checked", "error", err,
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		return settle, nil
	}
	return func(failed bool) {
		// The request's context may end with the request; the count must not.
		ctx := context.WithoutCancel(c.Request().Context())
		if err := done(ctx, failed); err != nil {
			s.log.Warn("failed authentication not counted", "error", err,
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		}
	}, nil
}

// authFailureKey is the counter of a client address, under the failure
// counter's own prefix. An IPv6 client usually holds a whole /64, so that
// is what is counted; an IPv4 address (also IPv4-mapped IPv6) is counted
// alone.
func authFailureKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		p, _ := addr.Prefix(64) // cannot fail for an IPv6 address and 64
		return p.String()
	}
	return addr.String()
}
