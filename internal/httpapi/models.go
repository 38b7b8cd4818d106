package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// The model catalogue (#23): operators keep the models, their prices and
// the route of each stage; tenants choose among the enabled models.

func (s *Server) listModelsAdmin(c echo.Context) error {
	ms, err := s.store.ListModels(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, List[store.AIModel]{Items: ms})
}

func (s *Server) createModel(c echo.Context) error {
	var f store.ModelFields
	if err := decodeJSON(c, &f); err != nil {
		return err
	}
	m, err := s.store.CreateModel(c.Request().Context(), f)
	if err != nil {
		return err
	}
	s.audit(c, "model.create", modelTarget(m))
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/v1/admin/models/%d", m.ID))
	return c.JSON(http.StatusCreated, m)
}

// modelTarget names a model in the audit log.
func modelTarget(m store.AIModel) string {
	return fmt.Sprintf("model:%d %s (%s)", m.ID, m.Name(), m.Kind)
}

func (s *Server) getModelAdmin(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	m, err := s.store.GetModel(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

func (s *Server) updateModel(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var f store.ModelFields
	if err := decodeJSON(c, &f); err != nil {
		return err
	}
	m, err := s.store.UpdateModel(c.Request().Context(), id, f)
	if err != nil {
		return err
	}
	action := "model.update"
	if f.Enabled != nil {
		action = map[bool]string{true: "model.enable", false: "model.disable"}[*f.Enabled]
	}
	s.audit(c, action, modelTarget(m))
	return c.JSON(http.StatusOK, m)
}

func (s *Server) deleteModel(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	m, err := s.store.GetModel(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteModel(ctx, id); err != nil {
		return err
	}
	s.audit(c, "model.delete", modelTarget(m))
	return c.NoContent(http.StatusNoContent)
}

// testModel answers POST /v1/admin/models/:id/test: a tiny request to the
// model's provider, made by a worker, and what failed in plain words; 503
// when no worker answered.
func (s *Server) testModel(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := noBody(c); err != nil {
		return err
	}
	m, err := s.store.GetModel(c.Request().Context(), id)
	if err != nil {
		return err
	}
	result, err := s.tester.Test(c.Request().Context(), m)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, result)
}

func (s *Server) listRoutes(c echo.Context) error {
	rs, err := s.store.ListRoutes(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, List[store.StageRoute]{Items: rs})
}

// routeRequest is the body of PUT /v1/admin/routes/:stage.
type routeRequest struct {
	ModelID            *int64  `json:"model_id"`
	FallbackIDs        []int64 `json:"fallback_ids"`
	FallbackOnThrottle bool    `json:"fallback_on_throttle"`
}

func (s *Server) putRoute(c echo.Context) error {
	stage := c.Param("stage")
	if _, ok := store.StageKind(stage); !ok {
		return errs.Public(errs.ErrNotFound, "no stage has that name (stages: %s)", strings.Join(store.ModelStages, ", "))
	}
	var req routeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.ModelID == nil {
		return errs.Invalid("model_id", "is required")
	}
	rt, err := s.store.SetRoute(c.Request().Context(), store.StageRoute{Stage: stage, ModelID: *req.ModelID,
		FallbackIDs: req.FallbackIDs, FallbackOnThrottle: req.FallbackOnThrottle})
	if err != nil {
		return err
	}
	s.audit(c, "route.set", routeTarget(rt))
	return c.JSON(http.StatusOK, rt)
}

// routeTarget names a route and its models in the audit log.
func routeTarget(rt store.StageRoute) string {
	fb := make([]string, len(rt.FallbackIDs))
	for i, id := range rt.FallbackIDs {
		fb[i] = fmt.Sprint(id)
	}
	return fmt.Sprintf("route:%s model:%d fallbacks:[%s] on_throttle:%t", rt.Stage, rt.ModelID, strings.Join(fb, ","),
		rt.FallbackOnThrottle)
}

// tenantModel is a catalogue model as tenants see it: no provider prices.
type tenantModel struct {
	ID               int64   `json:"id"`
	Provider         string  `json:"provider"`
	Model            string  `json:"model"`
	Kind             string  `json:"kind"`
	DisplayName      string  `json:"display_name"`
	StructuredOutput bool    `json:"structured_output"`
	CreditMultiplier float64 `json:"credit_multiplier"`
}

func tenantModelOf(m store.AIModel) tenantModel {
	return tenantModel{ID: m.ID, Provider: m.Provider, Model: m.Model, Kind: m.Kind, DisplayName: m.DisplayName,
		StructuredOutput: m.StructuredOutput, CreditMultiplier: m.CreditMultiplier}
}

// listTenantModels answers GET /v1/models: the models the tenant may
// choose for its stages.
func (s *Server) listTenantModels(c echo.Context) error {
	ms, err := s.store.TenantModels(c.Request().Context(), principal(c).TenantID)
	if err != nil {
		return err
	}
	out := make([]tenantModel, len(ms))
	for i, m := range ms {
		out[i] = tenantModelOf(m)
	}
	return c.JSON(http.StatusOK, List[tenantModel]{Items: out})
}

// stageModel is one stage of GET /v1/stage-models: the tenant's choice
// (nil: the operator's default) and the model that serves the stage now.
type stageModel struct {
	Stage        string      `json:"stage"`
	ModelID      *int64      `json:"model_id"`
	Serving      tenantModel `json:"serving"`
	TenantChoice bool        `json:"tenant_choice"`
}

// stageModelsRequest is the body of PUT /v1/stage-models: the model of
// each stage the tenant chooses; absent or null is the operator's default.
type stageModelsRequest struct {
	ClusterName *int64 `json:"cluster_name"`
	Ideas       *int64 `json:"ideas"`
	Draft       *int64 `json:"draft"`
	ImagePrompt *int64 `json:"image_prompt"`
	Embeddings  *int64 `json:"embeddings"` // refused by the store, naming the field
	Images      *int64 `json:"images"`
}

func (r stageModelsRequest) choices() []store.TenantChoice {
	var out []store.TenantChoice
	for i, id := range []*int64{r.ClusterName, r.Ideas, r.Draft, r.ImagePrompt, r.Embeddings, r.Images} {
		if id != nil {
			out = append(out, store.TenantChoice{Stage: store.ModelStages[i], ModelID: *id})
		}
	}
	return out
}

func (s *Server) getStageModels(c echo.Context) error {
	return s.stageModels(c)
}

func (s *Server) putStageModels(c echo.Context) error {
	var req stageModelsRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	choices, err := s.store.SetTenantChoices(c.Request().Context(), principal(c).TenantID, req.choices())
	if err != nil {
		return err
	}
	parts := make([]string, len(choices))
	for i, ch := range choices {
		parts[i] = fmt.Sprintf("%s=%d", ch.Stage, ch.ModelID)
	}
	s.audit(c, "stage_models.set", "stage_models:"+strings.Join(parts, ","))
	return s.stageModels(c)
}

// stageModels answers with the tenant's stages and the models serving them.
func (s *Server) stageModels(c echo.Context) error {
	ctx, tenantID := c.Request().Context(), principal(c).TenantID
	choices, err := s.store.TenantChoices(ctx, tenantID)
	if err != nil {
		return err
	}
	routes, err := s.store.ListRoutes(ctx)
	if err != nil {
		return err
	}
	out := make([]stageModel, 0, len(routes))
	for _, rt := range routes {
		chain, err := s.store.StageChainFor(ctx, tenantID, rt.Stage)
		if err != nil {
			return err
		}
		sm := stageModel{Stage: rt.Stage, Serving: tenantModelOf(chain.Models[0]), TenantChoice: chain.TenantChoice}
		for _, ch := range choices {
			if ch.Stage == rt.Stage {
				sm.ModelID = &ch.ModelID
			}
		}
		out = append(out, sm)
	}
	return c.JSON(http.StatusOK, List[stageModel]{Items: out})
}
