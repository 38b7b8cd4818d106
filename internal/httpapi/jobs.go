package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
)

func (s *Server) listJobs(c echo.Context) error {
	limit, err := queryInt(c, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	f := store.JobFilter{State: c.QueryParam("state"), Type: c.QueryParam("type")}
	if f.State != "" && !slices.Contains([]string{"queued", "running", "succeeded", "failed", "canceled", "blocked", "batched"}, f.State) {
		return errs.Invalid("state", "must be one of queued, running, succeeded, failed, canceled, blocked, batched")
	}
	if types := jobs.Types(); f.Type != "" && !slices.Contains(types, f.Type) {
		return errs.Invalid("type", "must be one of %s", strings.Join(types, ", "))
	}
	if f.BatchID, err = queryTextID(c, "batch_id"); err != nil {
		return err
	}
	if f.Phase, err = queryWord(c, "phase"); err != nil {
		return err
	}
	if f.ErrorCode, err = queryWord(c, "error_code"); err != nil {
		return err
	}
	after, err := queryTextID(c, "after")
	if err != nil {
		return err
	}
	listed, err := s.store.ListJobs(c.Request().Context(), principal(c).TenantID, f, after, int(limit))
	if err != nil {
		return err
	}
	l := List[store.Job]{Items: listed}
	if len(listed) == int(limit) {
		l.NextAfter = listed[len(listed)-1].ID
	}
	return c.JSON(http.StatusOK, l)
}

func (s *Server) getJob(c echo.Context) error {
	return getByTextID(c, "job", s.store.GetJob)
}

func (s *Server) cancelJob(c echo.Context) error {
	id, err := textID(c, "id")
	if err != nil {
		return err
	}
	job, err := s.store.CancelJob(c.Request().Context(), principal(c).TenantID, id)
	switch {
	case errorsIsNotFound(err):
		return errs.Public(err, "no job with id %q", id)
	case errs.IsConflict(err):
		return errs.Public(err, "job %s has already finished", id)
	case err != nil:
		return err
	}
	// A bulk job's room goes to the tenant's next held job.
	s.jobs.Finished(c.Request().Context(), job.TenantID, job.Queue)
	return c.JSON(http.StatusOK, job)
}

func (s *Server) getBatch(c echo.Context) error {
	return getByTextID(c, "batch", s.store.GetBatch)
}

// queryWord reads an optional query parameter that names something in
// lower-case words joined by underscores (a phase, an error code).
func queryWord(c echo.Context, name string) (string, error) {
	v := c.QueryParam(name)
	if len(v) > 64 || strings.Trim(v, "abcdefghijklmnopqrstuvwxyz_") != "" {
		return "", errs.Invalid(name, "must be lower-case letters and underscores, at most 64")
	}
	return v, nil
}
