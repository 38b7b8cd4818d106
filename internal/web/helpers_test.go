package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/web"
)

func createUser(t *testing.T, h *apptest.Harness, tenantID int64, email, password, role string) {
	t.Helper()
	hash, err := web.HashPassword(password)
	apptest.Must(t, err, "hash")
	_, err = h.App.Store.CreateUser(context.Background(), tenantID, email, hash, role)
	apptest.Must(t, err, "create user")
}

func decodeJSON(res *http.Response, v any) error { return json.NewDecoder(res.Body).Decode(v) }
