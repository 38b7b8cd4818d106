package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/ai"
)

// profileAnswer is the answer of GET and PUT /v1/profile and
// /v1/sites/:id/profile: the fields the tenant or site sets itself and the
// profile its articles are written with once the unset fields are taken
// from the tenant and the built-in defaults.
type profileAnswer struct {
	SiteID    *int64             `json:"site_id,omitempty"`
	Profile   ai.ProfileSettings `json:"profile"`
	Effective ai.Profile         `json:"effective"`
}

// readSettings decodes a stored settings document for an answer.
func readSettings(doc []byte) (ai.ProfileSettings, error) {
	var s ai.ProfileSettings
	if len(doc) == 0 {
		return s, nil
	}
	if err := json.Unmarshal(doc, &s); err != nil {
		return s, fmt.Errorf("stored content profile: %w", err)
	}
	return s, nil
}

func (s *Server) getTenantProfile(c echo.Context) error {
	doc, err := s.store.TenantContentProfile(c.Request().Context(), principal(c).TenantID)
	if err != nil {
		return err
	}
	return answerProfile(c, nil, doc, nil)
}

// putTenantProfile replaces the tenant's default profile: the fields sent
// are set, those left out or null are the built-in defaults.
func (s *Server) putTenantProfile(c echo.Context) error {
	settings, doc, err := profileBody(c)
	if err != nil {
		return err
	}
	p := principal(c)
	if err := s.store.SetTenantContentProfile(c.Request().Context(), p.TenantID, doc); err != nil {
		return err
	}
	s.audit(c, "profile.update", fmt.Sprintf("tenant:%d", p.TenantID))
	return c.JSON(http.StatusOK, profileAnswer{Profile: settings, Effective: ai.EffectiveProfile(settings, ai.ProfileSettings{})})
}

func (s *Server) getSiteProfile(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	docs, err := s.store.ContentProfiles(c.Request().Context(), principal(c).TenantID, id)
	if err != nil {
		return err
	}
	return answerProfile(c, &id, docs.Site, docs.Tenant)
}

// putSiteProfile replaces a site's profile: the fields sent are set, those
// left out or null take the tenant's.
func (s *Server) putSiteProfile(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	settings, doc, err := profileBody(c)
	if err != nil {
		return err
	}
	p := principal(c)
	ctx := c.Request().Context()
	if err := s.store.SetSiteContentProfile(ctx, p.TenantID, id, doc); err != nil {
		return err
	}
	s.audit(c, "site.profile.update", fmt.Sprintf("site:%d", id))
	docs, err := s.store.ContentProfiles(ctx, p.TenantID, id)
	if err != nil {
		return err
	}
	tenant, err := readSettings(docs.Tenant)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, profileAnswer{SiteID: &id, Profile: settings, Effective: ai.EffectiveProfile(settings, tenant)})
}

// profileBody reads and validates a PUT body, returning the normalized
// settings and the document to store.
func profileBody(c echo.Context) (ai.ProfileSettings, []byte, error) {
	var req ai.ProfileSettings
	if err := decodeJSON(c, &req); err != nil {
		return req, nil, err
	}
	settings, err := req.Normalize()
	if err != nil {
		return req, nil, err
	}
	doc, err := json.Marshal(settings)
	return settings, doc, err
}

// answerProfile answers own (a site's or, with tenant nil, the tenant's
// document) and the profile it makes over tenant.
func answerProfile(c echo.Context, siteID *int64, own, tenant []byte) error {
	o, err := readSettings(own)
	if err != nil {
		return err
	}
	t, err := readSettings(tenant)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, profileAnswer{SiteID: siteID, Profile: o, Effective: ai.EffectiveProfile(o, t)})
}
