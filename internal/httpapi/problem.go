package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
)

// Problem is an RFC 9457 problem document, the body of every error answer.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Errors    []errs.FieldProblem `json:"errors,omitempty"`
	Needed    *int64              `json:"needed,omitempty"`
	Available *int64              `json:"available,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
}

const problemBase = "https://presswork.dev/problems/"

// problemFor maps an error to its status and problem: the one place where
// the error vocabulary meets HTTP.
func problemFor(err error) Problem {
	var (
		ve  *errs.ValidationError
		ic  *errs.InsufficientCreditsError
		he  *echo.HTTPError
		bte *bodyTooLargeError
		mte *mediaTypeError
		rle *rateLimitedError
	)
	switch {
	case errors.As(err, &ve):
		return Problem{Type: problemBase + "invalid-input", Title: "The request is invalid", Status: http.StatusBadRequest,
			Detail: ve.Error(), Errors: ve.Problems}
	case errors.As(err, &ic):
		return Problem{Type: problemBase + "insufficient-credits", Title: "Not enough credits", Status: http.StatusPaymentRequired,
			Detail: ic.Error(), Needed: &ic.Needed, Available: &ic.Available}
	case errors.As(err, &bte):
		return Problem{Type: problemBase + "body-too-large", Title: "The request body is too large", Status: http.StatusRequestEntityTooLarge,
			Detail: bte.Error(), Errors: []errs.FieldProblem{{Field: "body", Problem: fmt.Sprintf("must be at most %d MiB", bte.limit>>20)}}}
	case errors.As(err, &mte):
		return Problem{Type: problemBase + "unsupported-media-type", Title: "Unsupported Content-Type", Status: http.StatusUnsupportedMediaType,
			Detail: mte.Error(), Errors: []errs.FieldProblem{{Field: "Content-Type", Problem: "must be " + mte.want}}}
	case errors.As(err, &rle):
		return Problem{Type: problemBase + "rate-limited", Title: "Too many requests", Status: http.StatusTooManyRequests,
			Detail: rle.Error()}
	case errors.Is(err, errs.ErrNotFound):
		return Problem{Type: problemBase + "not-found", Title: "Not found", Status: http.StatusNotFound, Detail: publicDetail(err)}
	case errors.Is(err, errs.ErrConflict):
		return Problem{Type: problemBase + "conflict", Title: "Conflict", Status: http.StatusConflict, Detail: publicDetail(err),
			Errors: conflictFields(err)}
	case errors.Is(err, errs.ErrUnauthenticated):
		return Problem{Type: problemBase + "unauthenticated", Title: "Authentication required", Status: http.StatusUnauthorized,
			Detail: publicDetail(err)}
	case errors.Is(err, errs.ErrForbidden):
		return Problem{Type: problemBase + "forbidden", Title: "Forbidden", Status: http.StatusForbidden, Detail: publicDetail(err)}
	case errors.Is(err, errs.ErrUnavailable):
		what := "a service Presswork depends on"
		if ue := (*errs.UnavailableError)(nil); errors.As(err, &ue) {
			what = ue.Service
		}
		return Problem{Type: problemBase + "unavailable", Title: "Service unavailable", Status: http.StatusServiceUnavailable,
			Detail: what + " is unavailable; try again shortly"}
	case errors.As(err, &he):
		return Problem{Type: "about:blank", Title: http.StatusText(he.Code), Status: he.Code, Detail: fmt.Sprint(he.Message)}
	}
	return Problem{Type: "about:blank", Title: "Internal server error", Status: http.StatusInternalServerError,
		Detail: "an unexpected error happened; it has been logged with the request id"}
}

// publicDetail returns the client-facing message of err if it has one.
func publicDetail(err error) string {
	var pe *errs.PublicError
	if errors.As(err, &pe) {
		return pe.Msg
	}
	return ""
}

// errorHandler writes every error as a problem document. Unexpected errors
// are logged in full and answered as a plain 500.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := problemFor(err)
	p.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	if p.Status >= 500 {
		s.log.Error("request failed", "error", err, "method", c.Request().Method, "path", c.Path(),
			"request_id", p.RequestID)
	}
	if p.Status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", "5")
	}
	if rle := (*rateLimitedError)(nil); errors.As(err, &rle) {
		c.Response().Header().Set("Retry-After", rle.retryAfterSeconds())
	}
	if p.Status == http.StatusUnauthorized {
		challenge := `Bearer realm="presswork"`
		if isMonitoring(c.Request().URL.Path) {
			challenge = `Basic realm="presswork monitoring"`
		}
		c.Response().Header().Set("WWW-Authenticate", challenge)
	}
	body, err := json.Marshal(p)
	if err == nil {
		err = c.Blob(p.Status, "application/problem+json", body)
	}
	if err != nil {
		s.log.Warn("writing error response", "error", err, slog.Int("status", p.Status))
	}
}
