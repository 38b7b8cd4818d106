package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
)

// listLinks answers a page of a site's link inventory, by id.
func (s *Server) listLinks(c echo.Context) error {
	return listOfSite(s, c, s.store.ListLinks, func(l store.Link) int64 { return l.ID })
}

// refreshLinks queues a refresh of a site's link inventory.
func (s *Server) refreshLinks(c echo.Context) error {
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
	return s.createJobs(c, []store.NewJob{jobs.LinksJob(newID(c, "links", siteID), siteID)})
}
