package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/errs"
)

func TestUsersAndSessions(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 0)
	email := fmt.Sprintf("Editor%d@Example.com", next())
	u, err := st.CreateUser(ctx, tn.ID, email, "hash-1", "editor")
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if _, err := st.CreateUser(ctx, tn.ID, email, "hash-2", "viewer"); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("second user with the same address (other case): %v, want ErrConflict", err)
	}
	got, err := st.UserByEmail(ctx, " "+email+" ")
	if err != nil || got.ID != u.ID || got.PasswordHash != "hash-1" {
		t.Fatalf("UserByEmail = %+v, %v", got, err)
	}

	tok1, tok2, expired := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32)
	for _, tok := range [][]byte{tok1, tok2} {
		if err := st.CreateSession(ctx, tok, u.ID, "csrf", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateSession(ctx, expired, u.ID, "csrf", time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	s, err := st.SessionByTokenHash(ctx, tok1)
	if err != nil || s.UserID != u.ID || s.TenantID != tn.ID || s.Role != "editor" || s.CSRFToken != "csrf" || s.TenantStatus != "active" {
		t.Fatalf("SessionByTokenHash = %+v, %v", s, err)
	}
	if _, err := st.SessionByTokenHash(ctx, expired); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("expired session: %v, want ErrNotFound", err)
	}

	// A password change ends the other sessions.
	if err := st.SetUserPassword(ctx, u.ID, "hash-3", tok1); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SessionByTokenHash(ctx, tok2); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("other session after a password change: %v, want ErrNotFound", err)
	}
	if err := st.DeleteSession(ctx, tok1); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SessionByTokenHash(ctx, tok1); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("session after sign-out: %v, want ErrNotFound", err)
	}
}
