package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// Sources of a stage's active prompt templates.
const (
	promptSourceDefault  = "default"
	promptSourceOverride = "override"
)

// activePrompt is the templates a stage's jobs use: the embedded default or
// the tenant's override.
type activePrompt struct {
	Stage  string `json:"stage"`
	Source string `json:"source"`
	// Version, CreatedAt and CreatedByKeyID describe an override.
	Version        *int       `json:"version,omitempty"`
	System         string     `json:"system"`
	User           string     `json:"user"`
	CreatedAt      *time.Time `json:"created_at,omitempty"`
	CreatedByKeyID *int64     `json:"created_by_key_id,omitempty"`
}

// activeOf describes v when it is an override, else the stage's default.
func activeOf(stage ai.Stage, v *store.PromptVersion) (activePrompt, error) {
	if v != nil && v.Kind == store.PromptOverride {
		return activePrompt{Stage: string(stage), Source: promptSourceOverride, Version: &v.Version,
			System: *v.System, User: *v.User, CreatedAt: &v.CreatedAt, CreatedByKeyID: v.CreatedByKeyID}, nil
	}
	d, err := ai.DefaultPrompt(stage)
	if err != nil {
		return activePrompt{}, err
	}
	return activePrompt{Stage: string(stage), Source: promptSourceDefault, System: d.System, User: d.User}, nil
}

// promptStage reads the :stage path parameter; a stage without prompt
// templates is not found.
func promptStage(c echo.Context) (ai.Stage, error) {
	name := c.Param("stage")
	if stage, ok := ai.ParsePromptStage(name); ok {
		return stage, nil
	}
	names := make([]string, 0, len(ai.PromptStages()))
	for _, s := range ai.PromptStages() {
		names = append(names, string(s))
	}
	if !validTextID(name) {
		return "", errs.Public(errs.ErrNotFound, "no such stage; the stages with prompt templates are %s", strings.Join(names, ", "))
	}
	return "", errs.Public(errs.ErrNotFound, "no stage %q; the stages with prompt templates are %s", name, strings.Join(names, ", "))
}

func (s *Server) listPrompts(c echo.Context) error {
	overrides, err := s.store.ActivePrompts(c.Request().Context(), principal(c).TenantID)
	if err != nil {
		return err
	}
	byStage := make(map[string]*store.PromptVersion, len(overrides))
	for i := range overrides {
		byStage[overrides[i].Stage] = &overrides[i]
	}
	items := make([]activePrompt, 0, len(ai.PromptStages()))
	for _, stage := range ai.PromptStages() {
		a, err := activeOf(stage, byStage[string(stage)])
		if err != nil {
			return err
		}
		items = append(items, a)
	}
	return c.JSON(http.StatusOK, List[activePrompt]{Items: items})
}

func (s *Server) listPromptVersions(c echo.Context) error {
	stage, err := promptStage(c)
	if err != nil {
		return err
	}
	p, err := page(c)
	if err != nil {
		return err
	}
	versions, err := s.store.PromptVersions(c.Request().Context(), principal(c).TenantID, string(stage), p)
	if err != nil {
		return err
	}
	// Newest first: the next page holds older versions.
	return c.JSON(http.StatusOK, listOf(versions, p, func(v store.PromptVersion) int64 { return int64(v.Version) }))
}

// promptRequest is the body of PUT /v1/prompts/:stage.
type promptRequest struct {
	System *string `json:"system"`
	User   *string `json:"user"`
}

// putPrompt stores the templates as the stage's next version, after
// checking that they parse and render with sample data, and answers it with
// 201. Sending the active override's templates again stores nothing and
// answers that version with 200.
func (s *Server) putPrompt(c echo.Context) error {
	stage, err := promptStage(c)
	if err != nil {
		return err
	}
	var req promptRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v := &errs.ValidationError{}
	if req.System == nil {
		v.Add("system", "is required")
	}
	if req.User == nil {
		v.Add("user", "is required")
	}
	if err := v.OrNil(); err != nil {
		return err
	}
	if err := ai.CheckPrompt(stage, *req.System, *req.User); err != nil {
		return err
	}
	p := principal(c)
	ver, created, err := s.store.SavePromptOverride(c.Request().Context(), p.TenantID, p.KeyID, string(stage), *req.System, *req.User)
	if err != nil {
		return err
	}
	if !created {
		return c.JSON(http.StatusOK, ver)
	}
	s.audit(c, "prompt.override", fmt.Sprintf("prompt:%s version:%d", stage, ver.Version))
	return c.JSON(http.StatusCreated, ver)
}

// revertPrompt makes the stage's default templates active again with a
// version that records the revert, and answers it with 200. When the
// defaults are already active it stores nothing: it answers the latest
// version (a revert) with 200, or 204 when the stage was never overridden.
func (s *Server) revertPrompt(c echo.Context) error {
	stage, err := promptStage(c)
	if err != nil {
		return err
	}
	p := principal(c)
	ver, created, err := s.store.RevertPrompt(c.Request().Context(), p.TenantID, p.KeyID, string(stage))
	if err != nil {
		return err
	}
	if created {
		s.audit(c, "prompt.revert", fmt.Sprintf("prompt:%s version:%d", stage, ver.Version))
	}
	if ver.Version == 0 {
		return c.NoContent(http.StatusNoContent)
	}
	return c.JSON(http.StatusOK, ver)
}
