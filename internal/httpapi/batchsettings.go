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

// workMode is the mode of a request for n items of stage (drafts, or
// the clusters of an ideas request): the one it names, else batch when
// the tenant's default (batch_min_items) says so for n, else ordinary.
// Batch mode needs a Batch API to serve the stage: the tenant's own OpenAI
// key's when it brought one, else the server's (OpenAI or Azure OpenAI)
// with the worker's own model or a catalogue model of those providers. A
// tenant whose stage another provider's model serves gets the ordinary
// mode by default, and a 400 naming the reason when it asks for batch
// mode, never a batch quote for work run the ordinary way.
func (s *Server) workMode(c echo.Context, asked string, n int, stage ai.Stage) (string, error) {
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
	why, err := s.batchUnavailable(c, stage)
	switch {
	case err != nil:
		return "", err
	case why == "":
		return modeBatch, nil
	case asked == modeBatch:
		v := &errs.ValidationError{}
		v.Add("mode", "batch mode is not available: %s", why)
		return "", v
	}
	return modeOrdinary, nil
}

// batchUnavailable says why the tenant's work of stage cannot go through
// the server's Batch API, "" when it can.
func (s *Server) batchUnavailable(c echo.Context, stage ai.Stage) (string, error) {
	ctx, tenantID := c.Request().Context(), principal(c).TenantID
	what := stageWork[stage]
	settings, err := s.store.GetTenantAISettings(ctx, tenantID)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return "", err
	}
	if err == nil && settings.OpenAIKeyEnc != nil {
		return "", nil // its own key's Batch API serves it (the catalogue routes no stage of such a tenant)
	}
	m, err := s.store.RoutedModel(ctx, tenantID, string(stage))
	if err != nil {
		return "", err
	}
	if m != nil && !m.Batchable() {
		return fmt.Sprintf("the account's %s are written by %s, chosen in the model catalogue, and only OpenAI "+
			"and Azure OpenAI chat models have a Batch API", what, m.Name()), nil
	}
	return "", nil
}

// stageWork names the work of the stages batch mode serves.
var stageWork = map[ai.Stage]string{ai.StageDraft: "drafts", ai.StageIdeas: "ideas",
	ai.StageImagePrompt: "image prompts"}
