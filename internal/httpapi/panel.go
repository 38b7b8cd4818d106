package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
)

// defaultProject is the Easypanel project of a tenant's panel when it names none.
const defaultProject = "sites"

// projectPattern is the shape of an Easypanel project name.
var projectPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// panelSettings is what the API shows of a tenant's Easypanel: never the
// password.
type panelSettings struct {
	Configured bool       `json:"configured"`
	URL        *string    `json:"url"`
	Email      *string    `json:"email"`
	Project    *string    `json:"project"`
	UpdatedAt  *time.Time `json:"updated_at,omitempty"`
	// OperatorPanel says whether the operator's panel can be used instead.
	OperatorPanel bool `json:"operator_panel"`
}

func (s *Server) panelSettingsOf(c store.PanelCredentials, found bool) panelSettings {
	out := panelSettings{OperatorPanel: s.cfg.Easypanel.URL != ""}
	if found {
		out.Configured, out.URL, out.Email, out.Project, out.UpdatedAt = true, &c.URL, &c.Email, &c.Project, &c.UpdatedAt
	}
	return out
}

func (s *Server) getPanelSettings(c echo.Context) error {
	creds, err := s.store.GetPanelCredentials(c.Request().Context(), principal(c).TenantID)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	return c.JSON(http.StatusOK, s.panelSettingsOf(creds, err == nil))
}

type panelRequest struct {
	URL      *string `json:"url"`
	Email    *string `json:"email"`
	Password *string `json:"password"`
	Project  *string `json:"project"`
}

// putPanelSettings stores the tenant's Easypanel access, its password
// sealed.
func (s *Server) putPanelSettings(c echo.Context) error {
	var req panelRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v := &errs.ValidationError{}
	creds := store.PanelCredentials{TenantID: principal(c).TenantID, Project: defaultProject}
	if req.URL == nil {
		v.Add("url", "is required")
	} else if problem := panelURLProblem(*req.URL, s.cfg.AllowPrivateURLs); problem != "" {
		v.Add("url", "%s", problem)
	} else {
		creds.URL = strings.TrimRight(strings.TrimSpace(*req.URL), "/")
	}
	if req.Email == nil {
		v.Add("email", "is required")
	} else if v.CheckText("email", *req.Email, 3, 200); !strings.Contains(*req.Email, "@") {
		v.Add("email", "must be an email address")
	}
	if req.Password == nil {
		v.Add("password", "is required")
	} else {
		v.CheckText("password", *req.Password, 1, 200)
	}
	if req.Project != nil {
		if creds.Project = *req.Project; !projectPattern.MatchString(creds.Project) {
			v.Add("project", "must be 1 to 40 lower-case letters, digits, dashes or underscores")
		}
	}
	if err := v.OrNil(); err != nil {
		return err
	}
	creds.Email = strings.TrimSpace(*req.Email)
	if err := s.checkPanel(c.Request().Context(), creds, *req.Password); err != nil {
		return err // panelcheck.go: the login and the project, checked on the panel
	}
	enc, err := s.box.Seal([]byte(*req.Password), secret.PanelPasswordAD(creds.TenantID))
	if err != nil {
		return fmt.Errorf("seal the panel password: %w", err)
	}
	creds.PasswordEnc = enc
	if creds, err = s.store.PutPanelCredentials(c.Request().Context(), creds); err != nil {
		return err
	}
	s.audit(c, "easypanel.set", "easypanel:"+creds.URL)
	return c.JSON(http.StatusOK, s.panelSettingsOf(creds, true))
}

// panelURLProblem checks a panel's address: https (the password crosses
// it), no credentials, and no private address unless the operator allows
// them (then http is accepted too, for panels on the local network).
func panelURLProblem(raw string, allowPrivate bool) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return "must be the panel's address, such as https://panel.example.com"
	case u.User != nil:
		return "must not contain credentials; send email and password as their own fields"
	case u.Scheme == "http" && !allowPrivate:
		return "must use https: the panel's password is sent to it"
	}
	return siteURLProblem(raw, allowPrivate)
}

func (s *Server) deletePanelSettings(c echo.Context) error {
	err := s.store.DeletePanelCredentials(c.Request().Context(), principal(c).TenantID)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	s.audit(c, "easypanel.clear", "easypanel")
	return c.NoContent(http.StatusNoContent)
}
