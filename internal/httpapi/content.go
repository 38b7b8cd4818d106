package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/kwimport"
	"github.com/presswork/presswork/internal/store"
)

// maxReportedInvalid bounds the invalid rows listed in an import answer;
// invalid_count always gives the total.
const maxReportedInvalid = 1000

type importReport struct {
	Total              int                 `json:"total"`
	Imported           int                 `json:"imported"`
	DuplicatesInFile   int                 `json:"duplicates_in_file"`
	DuplicatesExisting int                 `json:"duplicates_existing"`
	InvalidCount       int                 `json:"invalid_count"`
	Invalid            []kwimport.RowError `json:"invalid"`
}

func (s *Server) importKeywords(c echo.Context) error {
	siteID, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx, p := c.Request().Context(), principal(c)
	if _, err := s.store.GetSite(ctx, p.TenantID, siteID); err != nil {
		return err
	}
	parsed, err := s.parseImport(c)
	if err != nil {
		return err
	}
	if len(parsed.Rows) == 0 {
		return noValidRows(parsed.Invalid)
	}
	stored, err := s.store.ImportKeywords(ctx, p.TenantID, siteID, parsed.Rows)
	if err != nil {
		return err
	}
	report := importReport{Total: parsed.Total, Imported: stored.Imported, DuplicatesInFile: parsed.DuplicatesInFile,
		DuplicatesExisting: stored.DuplicatesExisting, InvalidCount: len(parsed.Invalid),
		Invalid: append([]kwimport.RowError{}, parsed.Invalid[:min(len(parsed.Invalid), maxReportedInvalid)]...)}
	return c.JSON(http.StatusOK, report)
}

// noValidRows refuses a file none of whose rows is valid: it is bad input
// as a whole, not an import of nothing. Each row's problem names its field.
func noValidRows(invalid []kwimport.RowError) error {
	v := &errs.ValidationError{}
	for _, r := range invalid[:min(len(invalid), maxReportedInvalid)] {
		v.Add(r.Field, "row %d: %s", r.Row, r.Problem)
	}
	if len(invalid) > maxReportedInvalid {
		v.Add("file", "%d more rows are invalid", len(invalid)-maxReportedInvalid)
	}
	if len(v.Problems) == 0 {
		v.Add("file", "has no valid keyword rows")
	}
	return v
}

func (s *Server) parseImport(c echo.Context) (kwimport.Result, error) {
	mt := mediaType(c)
	if mt != "application/json" && mt != "text/csv" {
		return kwimport.Result{}, &mediaTypeError{want: "text/csv or application/json"}
	}
	body, err := readBody(c, maxImportBody)
	if err != nil {
		return kwimport.Result{}, err
	}
	if mt == "text/csv" {
		return kwimport.ParseCSV(bytesReader(body), s.cfg.MaxImportRows)
	}
	return kwimport.ParseJSON(bytesReader(body), s.cfg.MaxImportRows)
}

func (s *Server) listKeywords(c echo.Context) error {
	siteID, err := pathID(c, "id")
	if err != nil {
		return err
	}
	p, err := page(c)
	if err != nil {
		return err
	}
	clusterID, err := queryInt(c, "cluster_id", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	unclustered, err := queryBool(c, "unclustered")
	if err != nil {
		return err
	}
	ctx, tenant := c.Request().Context(), principal(c).TenantID
	if _, err := s.store.GetSite(ctx, tenant, siteID); err != nil {
		return err
	}
	kws, err := s.store.ListKeywords(ctx, tenant, siteID, store.KeywordFilter{ClusterID: clusterID, Unclustered: unclustered}, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(kws, p, func(k store.Keyword) int64 { return k.ID }))
}

func (s *Server) listClusters(c echo.Context) error {
	return listOfSite(s, c, s.store.ListClusters, func(cl store.Cluster) int64 { return cl.ID })
}

// listIdeaConflicts lists the ideas refused on a site because the site
// already had an idea (or a page) for the same query.
func (s *Server) listIdeaConflicts(c echo.Context) error {
	return listOfSite(s, c, s.store.ListIdeaConflicts, func(ic store.IdeaConflict) int64 { return ic.ID })
}

// listOfSite answers a page of rows of the site named by the path's :id
// (404 when the tenant has no such site), by id.
func listOfSite[T any](s *Server, c echo.Context, list func(ctx context.Context, tenantID, siteID int64, p store.Page) ([]T, error),
	id func(T) int64) error {
	siteID, err := pathID(c, "id")
	if err != nil {
		return err
	}
	p, err := page(c)
	if err != nil {
		return err
	}
	ctx, tenant := c.Request().Context(), principal(c).TenantID
	if _, err := s.store.GetSite(ctx, tenant, siteID); err != nil {
		return err
	}
	rows, err := list(ctx, tenant, siteID, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(rows, p, id))
}

// clusterWithKeywords is a cluster as GET /v1/clusters/{id} shows it.
type clusterWithKeywords struct {
	store.Cluster
	Keywords []store.Keyword `json:"keywords"`
}

func (s *Server) getCluster(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx, tenant := c.Request().Context(), principal(c).TenantID
	cl, err := s.store.GetCluster(ctx, tenant, id)
	if err != nil {
		return err
	}
	kws, err := s.store.ClusterKeywords(ctx, tenant, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, clusterWithKeywords{Cluster: cl, Keywords: kws})
}

func (s *Server) listIdeas(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	var f store.IdeaFilter
	if f.SiteID, err = queryInt(c, "site_id", 0, 0, 1<<62); err != nil {
		return err
	}
	if f.ClusterID, err = queryInt(c, "cluster_id", 0, 0, 1<<62); err != nil {
		return err
	}
	if f.WithoutDraft, err = queryBool(c, "without_draft"); err != nil {
		return err
	}
	ideas, err := s.store.ListIdeas(c.Request().Context(), principal(c).TenantID, f, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(ideas, p, func(i store.Idea) int64 { return i.ID }))
}

func (s *Server) getIdea(c echo.Context) error {
	return getByID(c, s.store.GetIdea)
}

// getByID answers one of the tenant's rows named by the numeric id in the
// path; a missing row is the store's not-found error.
func getByID[T any](c echo.Context, get func(ctx context.Context, tenantID, id int64) (T, error)) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := get(c.Request().Context(), principal(c).TenantID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// getByTextID answers one of the tenant's rows named by a text id (a job,
// a batch, a run); what names the kind in the not-found message.
func getByTextID[T any](c echo.Context, what string, get func(ctx context.Context, tenantID int64, id string) (T, error)) error {
	id, err := textID(c, "id")
	if err != nil {
		return err
	}
	v, err := get(c.Request().Context(), principal(c).TenantID, id)
	if err != nil {
		return errs.Public(err, "no %s with id %q", what, id)
	}
	return c.JSON(http.StatusOK, v)
}

// listBySite answers a page of the tenant's rows, of one site when
// ?site_id= is given.
func listBySite[T any](c echo.Context, list func(ctx context.Context, tenantID, siteID int64, p store.Page) ([]T, error),
	idOf func(T) int64) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	siteID, err := queryInt(c, "site_id", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	rows, err := list(c.Request().Context(), principal(c).TenantID, siteID, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(rows, p, idOf))
}
