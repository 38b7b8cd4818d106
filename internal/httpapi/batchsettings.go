package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// batchSettings is the body and answer of /v1/batch-settings (#23): a
// request for at least BatchMinItems drafts that names no mode is sent in
// batch mode; null turns the default off.
type batchSettings struct {
	BatchMinItems store.Nullable[int] `json:"batch_min_items"`
}

// batchSettingsAnswer is what GET and PUT /v1/batch-settings answer.
type batchSettingsAnswer struct {
	BatchMinItems *int `json:"batch_min_items"`
}

func (s *Server) getBatchSettings(c echo.Context) error {
	n, err := s.store.BatchMinItems(c.Request().Context(), principal(c).TenantID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, batchSettingsAnswer{BatchMinItems: n})
}

// putBatchSettings sets the tenant's default for bulk drafts and answers
// as GET does.
func (s *Server) putBatchSettings(c echo.Context) error {
	var req batchSettings
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if !req.BatchMinItems.Set {
		v := &errs.ValidationError{}
		v.Add("batch_min_items", "is required: the fewest drafts a request sends in batch mode by default, or null for none")
		return v
	}
	if err := s.store.SetBatchMinItems(c.Request().Context(), principal(c).TenantID, req.BatchMinItems.Value); err != nil {
		return err
	}
	s.audit(c, "batch_settings.set", "tenant")
	return s.getBatchSettings(c)
}

// draftMode is the mode of a request for n drafts: the one it names, else
// batch when the tenant's default (batch_min_items) says so for n, else
// ordinary. Batch mode needs the server's own OpenAI model to write the
// drafts (the Batch API is that account's): a tenant whose drafts its own
// key or a catalogue route serves gets ordinary drafts by default, and a
// 400 naming the reason when it asks for batch mode, never a batch quote
// for work run the ordinary way.
func (s *Server) draftMode(c echo.Context, asked string, n int) (string, error) {
	mode := asked
	if mode == "" {
		least, err := s.store.BatchMinItems(c.Request().Context(), principal(c).TenantID)
		if err != nil {
			return "", err
		}
		mode = modeOrdinary
		if least != nil && n >= *least {
			mode = modeBatch
		}
	}
	if mode != modeBatch {
		return mode, nil
	}
	why, err := s.batchUnavailable(c)
	switch {
	case err != nil:
		return "", err
	case why == "":
		return modeBatch, nil
	case asked == modeBatch:
		v := &errs.ValidationError{}
		v.Add("mode", "batch mode is not available: %s; the Batch API serves the server's own model only", why)
		return "", v
	}
	return modeOrdinary, nil
}

// batchUnavailable says why the tenant's drafts cannot go through the
// server's Batch API, "" when they can.
func (s *Server) batchUnavailable(c echo.Context) (string, error) {
	ctx, tenantID := c.Request().Context(), principal(c).TenantID
	settings, err := s.store.GetTenantAISettings(ctx, tenantID)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return "", err
	}
	if err == nil && settings.OpenAIKeyEnc != nil {
		return "the account's drafts are written with its own OpenAI key", nil
	}
	m, err := s.store.RoutedModel(ctx, tenantID, string(ai.StageDraft))
	if err != nil {
		return "", err
	}
	if m != nil {
		return fmt.Sprintf("the account's drafts are written by %s, chosen in the model catalogue", m.Name()), nil
	}
	return "", nil
}
