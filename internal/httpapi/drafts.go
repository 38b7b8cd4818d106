package httpapi

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/markup"
	"github.com/presswork/presswork/internal/store"
)

func (s *Server) listDrafts(c echo.Context) error {
	return listBySite(c, s.store.ListDrafts, func(d store.Draft) int64 { return d.ID })
}

func (s *Server) getDraft(c echo.Context) error {
	return getByID(c, s.store.GetDraft)
}

// draftEditRequest holds the fields an editor may change on a draft.
type draftEditRequest struct {
	Title           *string   `json:"title"`
	Slug            *string   `json:"slug"`
	Excerpt         *string   `json:"excerpt"`
	MetaTitle       *string   `json:"meta_title"`
	MetaDescription *string   `json:"meta_description"`
	FocusKeyword    *string   `json:"focus_keyword"`
	BodyHTML        *string   `json:"body_html"`
	Categories      *[]string `json:"categories"`
	Tags            *[]string `json:"tags"`
}

// slugPattern is the shape of a post's slug: lower-case letters and digits
// in words joined by single hyphens.
var slugPattern = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// Limits of an edited draft's fields.
const (
	maxBodyHTML = 512 << 10
	maxSlug     = 200
)

func (r draftEditRequest) edit() (store.DraftEdit, error) {
	v := &errs.ValidationError{}
	e := store.DraftEdit{}
	text := func(field string, val *string, lo, hi int) *string {
		if val == nil {
			return nil
		}
		v.CheckText(field, *val, lo, hi)
		t := strings.TrimSpace(*val)
		return &t
	}
	e.Title = text("title", r.Title, 1, 200)
	e.Excerpt = text("excerpt", r.Excerpt, 0, 1000)
	e.MetaTitle = text("meta_title", r.MetaTitle, 0, 200)
	e.MetaDescription = text("meta_description", r.MetaDescription, 0, 400)
	e.FocusKeyword = text("focus_keyword", r.FocusKeyword, 0, 100)
	if r.Slug != nil {
		if len(*r.Slug) > maxSlug || !slugPattern.MatchString(*r.Slug) {
			v.Add("slug", "must be lower-case ASCII letters and digits in words joined by single hyphens, at most %d characters", maxSlug)
		}
		e.Slug = r.Slug
	}
	if r.BodyHTML != nil {
		e.BodyHTML, e.WordCount = sanitizedBody(v, *r.BodyHTML)
	}
	if r.Categories != nil {
		checkTermNames(v, "categories", *r.Categories)
		e.Categories = trimmed(*r.Categories)
	}
	if r.Tags != nil {
		checkTermNames(v, "tags", *r.Tags)
		e.Tags = trimmed(*r.Tags)
	}
	return e, v.OrNil()
}

// sanitizedBody checks an edited body and returns it sanitized, with its
// word count.
func sanitizedBody(v *errs.ValidationError, body string) (*string, *int) {
	switch {
	case !utf8.ValidString(body):
		v.Add("body_html", "is not valid UTF-8")
		return nil, nil
	case len(body) > maxBodyHTML:
		v.Add("body_html", "must be at most %d bytes", maxBodyHTML)
		return nil, nil
	}
	clean := strings.TrimSpace(markup.SanitizeHTML(body))
	words := markup.WordCount(clean)
	if words == 0 {
		v.Add("body_html", "must contain some text")
	}
	return &clean, &words
}

// editDraft changes a draft's text or terms. A published draft keeps its
// post: publishing it again updates that post.
func (s *Server) editDraft(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req draftEditRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	e, err := req.edit()
	if err != nil {
		return err
	}
	d, err := s.store.EditDraft(c.Request().Context(), principal(c).TenantID, id, e)
	if err != nil {
		return err
	}
	s.audit(c, "draft.edit", fmt.Sprintf("draft:%d", d.ID))
	return c.JSON(http.StatusOK, d)
}

// getDraftImage answers a draft's featured image without its bytes.
func (s *Server) getDraftImage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	img, err := s.store.GetImage(c.Request().Context(), principal(c).TenantID, id, store.ImageRoleFeatured)
	if err != nil {
		return errs.Public(err, "draft %d has no image", id)
	}
	return c.JSON(http.StatusOK, img)
}

// getDraftImageContent answers the file of a draft's ready featured image.
func (s *Server) getDraftImageContent(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	contentType, data, err := s.store.ImageContent(c.Request().Context(), principal(c).TenantID, id, store.ImageRoleFeatured)
	if err != nil {
		return errs.Public(err, "draft %d has no ready image", id)
	}
	c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	c.Response().Header().Set(echo.HeaderCacheControl, "private, max-age=300")
	return c.Blob(http.StatusOK, contentType, data)
}

// listDraftImages answers every image of a draft: the featured image and
// the in-article ones, without their bytes.
func (s *Server) listDraftImages(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx, tenant := c.Request().Context(), principal(c).TenantID
	if _, err := s.store.GetDraft(ctx, tenant, id); err != nil {
		return err
	}
	images, err := s.store.ListImages(ctx, tenant, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, images)
}

// getImageContent answers the file of a ready image.
func (s *Server) getImageContent(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	contentType, data, err := s.store.ImageContentByID(c.Request().Context(), principal(c).TenantID, id)
	if err != nil {
		return errs.Public(err, "no ready image with id %d", id)
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=3600")
	return c.Blob(http.StatusOK, contentType, data)
}
