package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/presswork/presswork/internal/web"
)

// createUser adds a person who signs in to the web interface. The password
// comes from the first line of in, so it is never in the shell's history
// or the process list; with none a random one is made and printed once.
func createUser(ctx context.Context, open opener, args []string, in io.Reader, out io.Writer) error {
	fs := commandFlags("user create", out)
	tenant := fs.Int64("tenant", 0, "tenant id (required)")
	email := fs.String("email", "", "e-mail address, used to sign in (required)")
	role := fs.String("role", "owner", "role: owner, admin, editor, viewer, or operator (with no -tenant)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !slices.Contains([]string{"owner", "admin", "editor", "viewer", "operator"}, *role) {
		return fmt.Errorf("-role must be owner, admin, editor, viewer or operator, not %q", *role)
	}
	if !strings.Contains(*email, "@") {
		return errors.New("-email is required")
	}
	if (*role == "operator") != (*tenant == 0) || *tenant < 0 {
		return errors.New("-tenant is required, except for an operator, who belongs to no tenant")
	}
	a, err := open()
	if err != nil {
		return err
	}
	password, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the password: %w", err)
	}
	password = strings.TrimRight(password, "\r\n")
	generated := password == ""
	if generated {
		b := make([]byte, 15)
		_, _ = rand.Read(b) // crypto/rand.Read never fails
		password = base64.RawURLEncoding.EncodeToString(b)
	}
	if *tenant != 0 {
		if _, err := a.Store.GetTenant(ctx, *tenant); err != nil {
			return fmt.Errorf("tenant %d: %w", *tenant, err)
		}
	}
	hash, err := web.HashPassword(password)
	if err != nil {
		return err
	}
	u, err := a.Store.CreateUser(ctx, *tenant, *email, hash, *role)
	if err != nil {
		return err
	}
	if err := cliAudit(ctx, a, *tenant, "user.create", fmt.Sprintf("user:%d", u.ID)); err != nil {
		return err
	}
	if u.TenantID == 0 {
		fmt.Fprintf(out, "user %d %s (operator)\n", u.ID, u.Email)
	} else {
		fmt.Fprintf(out, "user %d %s (%s of tenant %d)\n", u.ID, u.Email, u.Role, u.TenantID)
	}
	if generated {
		fmt.Fprintf(out, "password (shown once, keep it): %s\n", password)
	}
	return nil
}
