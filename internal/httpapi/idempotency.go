package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

const idempotencyHeader = "Idempotency-Key"

// replayBodyKey holds, when a handler set it, the body to store for replays
// instead of the one sent: a secret shown once (a new API key) must be
// neither kept in the database nor shown again.
const replayBodyKey = "idempotency.replay_body"

// setReplayBody makes v, JSON-encoded, the body replayed to retries of this
// request.
func setReplayBody(c echo.Context, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode replay body: %w", err)
	}
	c.Set(replayBodyKey, body)
	return nil
}

// idempotent makes a POST with an Idempotency-Key safe to retry: the first
// successful answer is stored and replayed for every retry of the same
// request; a different request with the same key is refused. Job ids are
// derived from the key as well (newID), so even a request that crashed
// half-way cannot create its jobs twice.
func (s *Server) idempotent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := c.Request().Header.Get(idempotencyHeader)
		if key == "" {
			return next(c)
		}
		if err := checkIdempotencyKey(key); err != nil {
			return err
		}
		body, err := readBody(c, maxImportBody)
		if err != nil {
			return err
		}
		c.Request().Body = io.NopCloser(bytes.NewReader(body))
		tenant := principal(c).TenantID
		ctx := c.Request().Context()
		stored, err := s.store.ClaimIdempotencyKey(ctx, tenant, key, fingerprint(c, body))
		if err != nil {
			return errs.Public(err, "%s", conflictText(err))
		}
		if stored != nil {
			c.Response().Header().Set("Idempotent-Replayed", "true")
			return c.Blob(stored.Status, echo.MIMEApplicationJSON, stored.Body)
		}
		rec := &recorder{ResponseWriter: c.Response().Writer}
		c.Response().Writer = rec
		err = next(c)
		status := c.Response().Status
		if err == nil && status >= 200 && status < 300 {
			replay := rec.body.Bytes()
			if b, ok := c.Get(replayBodyKey).([]byte); ok {
				replay = b
			}
			err = s.store.SaveIdempotentResponse(ctx, tenant, key, store.StoredResponse{Status: status, Body: replay})
			if err != nil {
				s.log.Warn("saving idempotent response", "error", err)
			}
			return nil
		}
		if rerr := s.store.ReleaseIdempotencyKey(ctx, tenant, key); rerr != nil {
			s.log.Warn("releasing idempotency key", "error", rerr)
		}
		return err
	}
}

func conflictText(err error) string {
	var msg string
	if errs.IsConflict(err) {
		msg = err.Error()
		if i := bytes.LastIndex([]byte(msg), []byte(": conflict")); i > 0 {
			msg = msg[:i]
		}
	}
	return msg
}

func fingerprint(c echo.Context, body []byte) string {
	h := sha256.New()
	h.Write([]byte(c.Request().Method + " " + c.Request().URL.RequestURI() + "\n"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// recorder keeps a copy of the response body.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// checkIdempotencyKey validates an Idempotency-Key header.
func checkIdempotencyKey(key string) error {
	if len(key) > 200 || !printableASCII(key) {
		return errs.Invalid(idempotencyHeader, "must be 1 to 200 printable ASCII characters")
	}
	return nil
}
