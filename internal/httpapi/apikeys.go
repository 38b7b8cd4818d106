package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

type createKeyRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// createdKey is the one answer that shows a key's secret.
type createdKey struct {
	store.APIKey
	Key string `json:"key"`
}

func (s *Server) createAPIKey(c echo.Context) error {
	var req createKeyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p := principal(c)
	v := &errs.ValidationError{}
	v.CheckText("name", req.Name, 1, 100)
	if !slices.Contains(auth.TenantRoles, req.Role) {
		v.Add("role", "must be one of %s", strings.Join(auth.TenantRoles, ", "))
	} else if req.Role == "owner" && p.Role != "owner" {
		return errs.Public(errs.ErrForbidden, "only an owner may create owner keys")
	}
	if err := v.OrNil(); err != nil {
		return err
	}
	key, prefix, hash := auth.NewAPIKey()
	k, err := s.store.CreateAPIKey(c.Request().Context(), p.TenantID, req.Role, req.Name, prefix, hash)
	if err != nil {
		return err
	}
	s.audit(c, "api_key.create", fmt.Sprintf("api_key:%d role:%s", k.ID, k.Role))
	// A retry with the same Idempotency-Key gets the key without its secret.
	if err := setReplayBody(c, k); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, createdKey{APIKey: k, Key: key})
}

func (s *Server) listAPIKeys(c echo.Context) error {
	keys, err := s.store.ListAPIKeys(c.Request().Context(), principal(c).TenantID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, List[store.APIKey]{Items: keys})
}

func (s *Server) revokeAPIKey(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	p := principal(c)
	k, err := s.store.GetAPIKey(c.Request().Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	if k.Role == "owner" && p.Role != "owner" {
		return errs.Public(errs.ErrForbidden, "only an owner may revoke owner keys")
	}
	if k, err = s.store.RevokeAPIKey(c.Request().Context(), p.TenantID, id); err != nil {
		return err
	}
	s.audit(c, "api_key.revoke", fmt.Sprintf("api_key:%d", id))
	return c.JSON(http.StatusOK, k)
}
