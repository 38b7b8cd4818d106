package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// maxUsageDays bounds one usage report.
const maxUsageDays = 366

// UsageReport is what a tenant's AI work consumed in a date range: by day,
// stage and model, by stage, and in total.
type UsageReport struct {
	From    string           `json:"from"`
	To      string           `json:"to"`
	Days    []store.UsageRow `json:"days"`
	ByStage []store.UsageRow `json:"by_stage"`
	Total   store.UsageRow   `json:"total"`
}

// getUsage reports the key's tenant's usage.
func (s *Server) getUsage(c echo.Context) error {
	return s.usageOf(c, principal(c).TenantID)
}

// getTenantUsage reports any tenant's usage to an operator.
func (s *Server) getTenantUsage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.GetTenant(c.Request().Context(), id); err != nil {
		return err
	}
	return s.usageOf(c, id)
}

func (s *Server) usageOf(c echo.Context, tenantID int64) error {
	from, to, err := usageRange(c, time.Now().UTC())
	if err != nil {
		return err
	}
	rows, err := s.store.Usage(c.Request().Context(), tenantID, from, to.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, summarizeUsage(rows, from, to))
}

// usageRange reads ?from= and ?to= (dates, UTC, both included); the
// default is the last 30 days up to today.
func usageRange(c echo.Context, now time.Time) (from, to time.Time, err error) {
	var ve errs.ValidationError
	today := now.Truncate(24 * time.Hour)
	to = readDate(c, "to", today, &ve)
	from = readDate(c, "from", to.AddDate(0, 0, -29), &ve)
	if ve.Problems == nil {
		switch {
		case from.After(to):
			ve.Add("from", "must not be after to (%s)", to.Format(time.DateOnly))
		case to.Sub(from) >= maxUsageDays*24*time.Hour:
			ve.Add("from", "the range must be at most %d days", maxUsageDays)
		}
	}
	return from, to, ve.OrNil()
}

func readDate(c echo.Context, name string, def time.Time, ve *errs.ValidationError) time.Time {
	v := c.QueryParam(name)
	if v == "" {
		return def
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		ve.Add(name, "must be a date like 2026-01-31, got %q", truncateForMessage(v))
		return def
	}
	return d
}

func truncateForMessage(v string) string {
	if len(v) > 40 {
		return v[:40] + "..."
	}
	return v
}

func summarizeUsage(rows []store.UsageRow, from, to time.Time) UsageReport {
	r := UsageReport{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Days: rows,
		ByStage: []store.UsageRow{}}
	if r.Days == nil {
		r.Days = []store.UsageRow{}
	}
	index := map[string]int{}
	for _, row := range rows {
		i, ok := index[row.Stage]
		if !ok {
			i = len(r.ByStage)
			index[row.Stage] = i
			r.ByStage = append(r.ByStage, store.UsageRow{Stage: row.Stage})
		}
		addUsage(&r.ByStage[i], row)
		addUsage(&r.Total, row)
	}
	return r
}

func addUsage(sum *store.UsageRow, row store.UsageRow) {
	sum.Jobs += row.Jobs
	sum.TokensIn += row.TokensIn
	sum.TokensOut += row.TokensOut
	sum.CostUSD += row.CostUSD
	sum.Credits += row.Credits
}
