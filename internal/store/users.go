package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/presswork/presswork/internal/errs"
)

// User is a person who signs in to the web interface.
type User struct {
	ID           int64      `json:"id"`
	TenantID     int64      `json:"tenant_id"`
	Email        string     `json:"email"`
	Role         string     `json:"role"`
	CreatedAt    time.Time  `json:"created_at"`
	DisabledAt   *time.Time `json:"disabled_at,omitempty"`
	PasswordHash string     `json:"-"`
}

// Session is a signed-in user's session: who acts and the CSRF token its
// writes must carry.
type Session struct {
	Principal
	UserID    int64
	Email     string
	CSRFToken string
	ExpiresAt time.Time
}

const userColumns = `id, coalesce(tenant_id, 0), email, role, created_at, disabled_at, password_hash`

func scanUser(r pgx.Row) (u User, err error) {
	err = r.Scan(&u.ID, &u.TenantID, &u.Email, &u.Role, &u.CreatedAt, &u.DisabledAt, &u.PasswordHash)
	return u, err
}

// CreateUser adds a user to a tenant (tenant 0 for an operator). The
// e-mail address is stored
// lower-case; one already taken (in any tenant) is errs.ErrConflict.
func (s *Store) CreateUser(ctx context.Context, tenantID int64, email, passwordHash, role string) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx,
		`INSERT INTO users (tenant_id, email, password_hash, role) VALUES (nullif($1, 0), $2, $3, $4) RETURNING `+userColumns,
		tenantID, strings.ToLower(strings.TrimSpace(email)), passwordHash, role))
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", translate(err))
	}
	return u, nil
}

// UserByEmail finds an enabled user by e-mail address (any case).
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx,
		`SELECT `+userColumns+` FROM users WHERE email = $1 AND disabled_at IS NULL`,
		strings.ToLower(strings.TrimSpace(email))))
	if err != nil {
		return User{}, fmt.Errorf("user by email: %w", translate(err))
	}
	return u, nil
}

// GetUser returns a user by id.
func (s *Store) GetUser(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return User{}, fmt.Errorf("get user %d: %w", id, translate(err))
	}
	return u, nil
}

// SetUserPassword replaces a user's password hash and ends every session of
// the user except keepSession (the hash of the session that changed it).
func (s *Store) SetUserPassword(ctx context.Context, userID int64, passwordHash string, keepSession []byte) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, userID, passwordHash); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, userID, keepSession)
		return err
	})
}

// CreateSession stores a session (its token's hash) for a user.
func (s *Store) CreateSession(ctx context.Context, tokenHash []byte, userID int64, csrfToken string, expiresAt time.Time) error {
	_, err := s.pool.Exec(ctx,
		`INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)`,
		tokenHash, userID, csrfToken, expiresAt)
	if err != nil {
		return fmt.Errorf("create session: %w", translate(err))
	}
	return nil
}

// SessionByTokenHash finds a live session of an enabled user and notes that
// it was seen. An expired or unknown session is errs.ErrNotFound.
func (s *Store) SessionByTokenHash(ctx context.Context, tokenHash []byte) (Session, error) {
	var ss Session
	err := s.pool.QueryRow(ctx,
		`UPDATE sessions se SET last_seen_at = now()
		 FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id
		 WHERE se.token_hash = $1 AND se.expires_at > now() AND u.id = se.user_id AND u.disabled_at IS NULL
		 RETURNING u.id, u.email, coalesce(u.tenant_id, 0), u.role, coalesce(t.status, ''), se.csrf_token, se.expires_at`, tokenHash).
		Scan(&ss.UserID, &ss.Email, &ss.TenantID, &ss.Role, &ss.TenantStatus, &ss.CSRFToken, &ss.ExpiresAt)
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", translate(err))
	}
	return ss, nil
}

// DeleteSession ends a session (signing out); an unknown one is no error.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1 OR expires_at < now()`, tokenHash)
	return translate(err)
}

// ListUsers returns a tenant's users, oldest first.
func (s *Store) ListUsers(ctx context.Context, tenantID int64) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE tenant_id = $1 ORDER BY id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", translate(err))
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("list users: %w", translate(err))
	}
	return users, nil
}

// Invitation is a pending invitation of a person to a tenant.
type Invitation struct {
	TenantID  int64
	Email     string
	Role      string
	ExpiresAt time.Time
}

// CreateInvitation stores an invitation (its token's hash). An address that
// is already a user's is errs.ErrConflict.
func (s *Store) CreateInvitation(ctx context.Context, tokenHash []byte, inv Invitation, invitedBy int64) error {
	email := strings.ToLower(strings.TrimSpace(inv.Email))
	return s.transact(ctx, func(tx pgx.Tx) error {
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)`, email).Scan(&taken); err != nil {
			return fmt.Errorf("check address: %w", err)
		}
		if taken {
			return fmt.Errorf("invite %s: %w", email, errs.ErrConflict)
		}
		_, err := tx.Exec(ctx,
			`INSERT INTO invitations (token_hash, tenant_id, email, role, invited_by, expires_at)
			 VALUES ($1, $2, $3, $4, nullif($5, 0), $6)`,
			tokenHash, inv.TenantID, email, inv.Role, invitedBy, inv.ExpiresAt)
		if err != nil {
			return fmt.Errorf("create invitation: %w", err)
		}
		return nil
	})
}

// PendingInvitation returns the live, unaccepted invitation with this
// token hash; any other is errs.ErrNotFound.
func (s *Store) PendingInvitation(ctx context.Context, tokenHash []byte) (Invitation, error) {
	var inv Invitation
	err := s.pool.QueryRow(ctx,
		`SELECT tenant_id, email, role, expires_at FROM invitations
		 WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > now()`, tokenHash).
		Scan(&inv.TenantID, &inv.Email, &inv.Role, &inv.ExpiresAt)
	if err != nil {
		return Invitation{}, fmt.Errorf("invitation: %w", translate(err))
	}
	return inv, nil
}

// AcceptInvitation creates the invited user with passwordHash and marks
// the invitation used, once: a used, expired or unknown invitation is
// errs.ErrNotFound; an address taken meanwhile is errs.ErrConflict.
func (s *Store) AcceptInvitation(ctx context.Context, tokenHash []byte, passwordHash string) (User, error) {
	var u User
	err := s.transact(ctx, func(tx pgx.Tx) error {
		var inv Invitation
		err := tx.QueryRow(ctx,
			`UPDATE invitations SET accepted_at = now()
			 WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > now()
			 RETURNING tenant_id, email, role`, tokenHash).Scan(&inv.TenantID, &inv.Email, &inv.Role)
		if err != nil {
			return fmt.Errorf("accept invitation: %w", err)
		}
		u, err = scanUser(tx.QueryRow(ctx,
			`INSERT INTO users (tenant_id, email, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING `+userColumns,
			inv.TenantID, inv.Email, passwordHash, inv.Role))
		if err != nil {
			return fmt.Errorf("create invited user: %w", err)
		}
		return nil
	})
	return u, err
}
