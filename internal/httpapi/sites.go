package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/netguard"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// siteRequest is the body of site writes; on update nil fields are kept.
type siteRequest struct {
	Name                *string `json:"name"`
	URL                 *string `json:"url"`
	Username            *string `json:"username"`
	ApplicationPassword *string `json:"application_password"`
	RequireReview       *bool   `json:"require_review"`
	SEOPlugin           *string `json:"seo_plugin"`
	InlineImages        *int    `json:"inline_images"`
	// DefaultCategories is nil when absent; an empty list clears it.
	DefaultCategories *[]string `json:"default_categories"`
	// PublishWithoutImage true publishes a draft whose featured image
	// failed without one.
	PublishWithoutImage *bool `json:"publish_without_image"`
	// Enabled false makes automation rules leave the site alone.
	Enabled *bool `json:"enabled"`
	// Clustering is how strictly keywords are grouped (cluster.Strictness).
	Clustering *string `json:"clustering"`
	// Backlinks is how many older posts get a link to a post just
	// published (0 is off).
	Backlinks *int `json:"backlinks"`
}

// Limits of a site's publishing settings.
const (
	maxInlineImages = 5
	maxBacklinks    = 10
	maxTermNames    = 10
	maxTermName     = 100
)

func (r siteRequest) validate(create, allowPrivate bool) error {
	v := &errs.ValidationError{}
	required := func(field string, val *string) bool {
		if val == nil && create {
			v.Add(field, "is required")
		}
		return val != nil
	}
	if required("name", r.Name) {
		v.CheckText("name", *r.Name, 1, 100)
	}
	if required("url", r.URL) {
		if problem := siteURLProblem(*r.URL, allowPrivate); problem != "" {
			v.Add("url", "%s", problem)
		}
	}
	if required("username", r.Username) {
		v.CheckText("username", *r.Username, 1, 60)
	}
	if required("application_password", r.ApplicationPassword) {
		v.CheckText("application_password", *r.ApplicationPassword, 1, 200)
	}
	if r.SEOPlugin != nil && !slices.Contains([]string{"none", "yoast", "rankmath"}, *r.SEOPlugin) {
		v.Add("seo_plugin", "must be none, yoast or rankmath")
	}
	if r.Clustering != nil && !slices.Contains(store.ClusteringLevels, *r.Clustering) {
		v.Add("clustering", "must be strict, balanced or inclusive")
	}
	if r.InlineImages != nil && (*r.InlineImages < 0 || *r.InlineImages > maxInlineImages) {
		v.Add("inline_images", "must be from 0 to %d", maxInlineImages)
	}
	if r.Backlinks != nil && (*r.Backlinks < 0 || *r.Backlinks > maxBacklinks) {
		v.Add("backlinks", "must be from 0 (off) to %d", maxBacklinks)
	}
	if r.DefaultCategories != nil {
		checkTermNames(v, "default_categories", *r.DefaultCategories)
	}
	return v.OrNil()
}

// checkTermNames validates a list of category or tag names.
func checkTermNames(v *errs.ValidationError, field string, names []string) {
	if len(names) > maxTermNames {
		v.Add(field, "may list at most %d names", maxTermNames)
		return
	}
	for i, name := range names {
		v.CheckText(fmt.Sprintf("%s[%d]", field, i), name, 1, maxTermName)
	}
}

// trimmed returns the names with surrounding spaces removed.
func trimmed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.TrimSpace(n)
	}
	return out
}

// privateHostProblem is the answer to a tenant's URL that names this machine
// or a private network.
const privateHostProblem = "must not name this machine or a private network address " +
	"(the operator can allow them with ALLOW_PRIVATE_URLS=true)"

// numericHostProblem is the answer to a host that spells an IPv4 address
// other than as four decimal numbers (2130706433, 127.1, 0x7f.1): clients
// disagree on what it names.
const numericHostProblem = "must write an IPv4 address as four decimal numbers, such as 93.184.216.34"

// hostProblem says what is wrong with the host of a URL a tenant gives
// (a site, an OpenAI-compatible server, where a deployment's source is
// fetched from), or "".
func hostProblem(host string, allowPrivate bool) string {
	switch {
	case !allowPrivate && netguard.CheckHost(host) != nil:
		return privateHostProblem
	case netguard.CheckSpelling(host) != nil:
		return numericHostProblem
	}
	return ""
}

// siteURLProblem says what is wrong with a WordPress site URL, or "".
func siteURLProblem(raw string, allowPrivate bool) string {
	if len(raw) > 2000 {
		return "must be at most 2000 characters"
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "must be an absolute URL such as https://example.com"
	}
	if problem := hostProblem(u.Hostname(), allowPrivate); problem != "" {
		return problem
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return "must start with https:// or http://"
	case u.User != nil:
		return "must not contain a user name or password; send them as username and application_password"
	case u.RawQuery != "" || u.Fragment != "":
		return "must not have a query or fragment"
	}
	return ""
}

func (s *Server) sealPassword(tenantID int64, password *string) ([]byte, error) {
	if password == nil {
		return nil, nil
	}
	return s.box.Seal([]byte(*password), secret.SitePasswordAD(tenantID))
}

func (r siteRequest) fields(enc []byte) store.SiteFields {
	trim := func(p *string) *string {
		if p == nil {
			return nil
		}
		t := strings.TrimSpace(*p)
		return &t
	}
	f := store.SiteFields{Name: trim(r.Name), URL: trim(r.URL), WPUser: trim(r.Username), AppPasswordEnc: enc,
		RequireReview: r.RequireReview, SEOPlugin: r.SEOPlugin, InlineImages: r.InlineImages,
		PublishWithoutImage: r.PublishWithoutImage, Enabled: r.Enabled, Clustering: r.Clustering,
		Backlinks: r.Backlinks}
	if r.DefaultCategories != nil {
		f.DefaultCategories = trimmed(*r.DefaultCategories)
	}
	if f.URL != nil {
		u := strings.TrimRight(*f.URL, "/")
		f.URL = &u
	}
	return f
}

func (s *Server) createSite(c echo.Context) error {
	var req siteRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := req.validate(true, s.cfg.AllowPrivateURLs); err != nil {
		return err
	}
	p := principal(c)
	enc, err := s.sealPassword(p.TenantID, req.ApplicationPassword)
	if err != nil {
		return err
	}
	site, err := s.store.CreateSite(c.Request().Context(), p.TenantID, req.fields(enc))
	if err != nil {
		return err
	}
	s.audit(c, "site.create", fmt.Sprintf("site:%d", site.ID))
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/v1/sites/%d", site.ID))
	return c.JSON(http.StatusCreated, site)
}

func (s *Server) updateSite(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req siteRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := req.validate(false, s.cfg.AllowPrivateURLs); err != nil {
		return err
	}
	p := principal(c)
	enc, err := s.sealPassword(p.TenantID, req.ApplicationPassword)
	if err != nil {
		return err
	}
	site, err := s.store.UpdateSite(c.Request().Context(), p.TenantID, id, req.fields(enc))
	if err != nil {
		return err
	}
	s.audit(c, "site.update", fmt.Sprintf("site:%d", site.ID))
	return c.JSON(http.StatusOK, site)
}

func (s *Server) getSite(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	site, err := s.store.GetSite(c.Request().Context(), principal(c).TenantID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, site)
}

func (s *Server) listSites(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	sites, err := s.store.ListSites(c.Request().Context(), principal(c).TenantID, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(sites, p, func(s store.Site) int64 { return s.ID }))
}

func (s *Server) deleteSite(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteSite(c.Request().Context(), principal(c).TenantID, id); err != nil {
		return deploymentProblem(err, id)
	}
	s.audit(c, "site.delete", fmt.Sprintf("site:%d", id))
	return c.NoContent(http.StatusNoContent)
}

// checkSiteConnection queues a connection check of a site.
func (s *Server) checkSiteConnection(c echo.Context) error {
	siteID, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := noBody(c); err != nil {
		return err
	}
	if _, err := s.store.GetSite(c.Request().Context(), principal(c).TenantID, siteID); err != nil {
		return err
	}
	return s.createJobs(c, []store.NewJob{{ID: newID(c, "check", siteID), Type: tasks.TypeCheck,
		Queue: jobs.QueueDefault, SiteID: siteID, SubjectID: siteID}})
}
