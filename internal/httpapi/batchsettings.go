package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

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
// batch when the tenant's default (batch_min_items) covers n, else
// ordinary.
func (s *Server) draftMode(c echo.Context, asked string, n int) (string, error) {
	if asked != "" {
		return asked, nil
	}
	least, err := s.store.BatchMinItems(c.Request().Context(), principal(c).TenantID)
	if err != nil {
		return "", err
	}
	if least != nil && n >= *least {
		return modeBatch, nil
	}
	return modeOrdinary, nil
}
