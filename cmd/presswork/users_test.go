package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/web"
)

func TestCreateUser(t *testing.T) {
	web.BcryptCost = bcrypt.MinCost // the hashes' strength is not under test
	h := apptest.Start(t)
	tk, _ := h.Tenant(t, "cli-users", 0)
	ctx := context.Background()
	tenant := []string{"-tenant", itoa(tk.Tenant.ID)}
	var out bytes.Buffer
	err := createUser(ctx, opened(h.App), append(tenant, "-email", "Ann@Example.com", "-role", "editor"),
		strings.NewReader("a long enough password\n"), &out)
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	if u, err := h.App.Store.UserByEmail(ctx, "ann@example.com"); err != nil || u.Role != "editor" {
		t.Fatalf("stored user = %+v, %v", u, err)
	}
	if strings.Contains(out.String(), "password") {
		t.Errorf("a password given on stdin was printed: %q", out.String())
	}

	out.Reset()
	if err := createUser(ctx, opened(h.App), append(tenant, "-email", "bob@example.com"), strings.NewReader(""), &out); err != nil {
		t.Fatalf("create user with a generated password: %v", err)
	}
	if !strings.Contains(out.String(), "password (shown once, keep it): ") {
		t.Errorf("no generated password printed: %q", out.String())
	}
	out.Reset()
	if err := createUser(ctx, opened(h.App), []string{"-email", "op@example.com", "-role", "operator"}, strings.NewReader("an operator password\n"), &out); err != nil {
		t.Fatalf("create an operator: %v", err)
	}
	if !strings.Contains(out.String(), "(operator)") {
		t.Errorf("operator created: %q", out.String())
	}
	for _, tc := range []struct {
		args  []string
		stdin string
	}{
		{append(tenant, "-email", "ann@example.com"), "another long password\n"}, // taken
		{append(tenant, "-email", "carl@example.com", "-role", "bot"), "a long enough password\n"},
		{append(tenant, "-email", "dora@example.com"), "short\n"},
		{[]string{"-tenant", "999999", "-email", "eve@example.com"}, "a long enough password\n"},
		{append(tenant, "-email", "fay@example.com", "-role", "operator"), "a long enough password\n"},
		{[]string{"-email", "gil@example.com"}, "a long enough password\n"}, // no tenant
	} {
		if err := createUser(ctx, opened(h.App), tc.args, strings.NewReader(tc.stdin), &out); err == nil {
			t.Errorf("createUser(%v) succeeded, want an error", tc.args)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
