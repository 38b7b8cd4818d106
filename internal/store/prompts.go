package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/presswork/presswork/internal/errs"
)

// The kinds of prompt template versions.
const (
	PromptOverride = "override" // the tenant's own templates
	PromptRevert   = "revert"   // back to the embedded defaults
)

// PromptVersion is one version of a tenant's prompt templates for a stage:
// an override with its two templates, or a revert to the defaults. The
// highest version of a stage is the active one.
type PromptVersion struct {
	Stage          string    `json:"stage"`
	Version        int       `json:"version"`
	Kind           string    `json:"kind"`
	System         *string   `json:"system,omitempty"`
	User           *string   `json:"user,omitempty"`
	Active         bool      `json:"active"`
	CreatedAt      time.Time `json:"created_at"`
	CreatedByKeyID *int64    `json:"created_by_key_id"`
}

// promptColumns are scanned by scanPromptVersion; each query adds the
// active column.
const promptColumns = `stage, version, kind, system_template, user_template, created_at, created_by`

func scanPromptVersion(r pgx.Row) (v PromptVersion, err error) {
	err = r.Scan(&v.Stage, &v.Version, &v.Kind, &v.System, &v.User, &v.CreatedAt, &v.CreatedByKeyID, &v.Active)
	return v, err
}

// advisoryPromptVersions is the first key of the advisory lock that
// serializes a tenant's prompt writes, so that each reads the latest version
// of the one before it.
const advisoryPromptVersions int32 = 0x5072_0002

// SavePromptOverride stores the templates of a stage as its next version,
// which becomes the active one, and returns it with created true. When the
// active version already has exactly these templates it stores nothing and
// returns that version with created false. keyID is the API key that asked
// (0: none).
func (s *Store) SavePromptOverride(ctx context.Context, tenantID, keyID int64, stage, system, user string) (PromptVersion, bool, error) {
	return s.addPromptVersion(ctx, tenantID, keyID, stage, PromptOverride, &system, &user)
}

// RevertPrompt stores a version that makes the default templates of a stage
// active again, keeping the history, and returns it with created true.
// When the defaults are already active (the stage was never overridden, or
// its latest version is a revert) it stores nothing and returns the latest
// version, if any (Version 0 when none), with created false.
func (s *Store) RevertPrompt(ctx context.Context, tenantID, keyID int64, stage string) (PromptVersion, bool, error) {
	return s.addPromptVersion(ctx, tenantID, keyID, stage, PromptRevert, nil, nil)
}

func (s *Store) addPromptVersion(ctx context.Context, tenantID, keyID int64, stage, kind string, system, user *string) (PromptVersion, bool, error) {
	var v PromptVersion
	created := false
	err := s.transact(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, ($2::bigint % 2147483647)::int)`,
			advisoryPromptVersions, tenantID); err != nil {
			return fmt.Errorf("lock prompt versions: %w", err)
		}
		latest, err := scanPromptVersion(tx.QueryRow(ctx,
			`SELECT `+promptColumns+`, true FROM prompt_templates
			 WHERE tenant_id = $1 AND stage = $2 ORDER BY version DESC LIMIT 1`, tenantID, stage))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if kind == PromptRevert {
				return nil // the defaults have always been active
			}
		case err != nil:
			return err
		case latest.Kind == kind && (kind == PromptRevert || (*latest.System == *system && *latest.User == *user)):
			v = latest
			return nil
		}
		v, err = scanPromptVersion(tx.QueryRow(ctx,
			`INSERT INTO prompt_templates (tenant_id, stage, version, kind, system_template, user_template, created_by)
			 VALUES ($1, $2, $3, $4, $5, $6, nullif($7, 0)) RETURNING `+promptColumns+`, true`,
			tenantID, stage, latest.Version+1, kind, system, user, keyID))
		created = err == nil
		return err
	})
	if err != nil {
		return PromptVersion{}, false, fmt.Errorf("save %s prompt version: %w", stage, err)
	}
	return v, created, nil
}

// ActivePrompt returns the active override of a stage; errs.ErrNotFound
// means the stage uses the default templates. A job reads it from the
// configuration cache.
func (s *Store) ActivePrompt(ctx context.Context, tenantID int64, stage string) (PromptVersion, error) {
	return cachedConfig(ctx, &s.config, configKey{read: "prompt", tenantID: tenantID, text: stage}, func() (PromptVersion, error) {
		return s.activePrompt(ctx, tenantID, stage)
	}, nil)
}

func (s *Store) activePrompt(ctx context.Context, tenantID int64, stage string) (PromptVersion, error) {
	v, err := scanPromptVersion(s.pool.QueryRow(ctx,
		`SELECT `+promptColumns+`, true FROM prompt_templates
		 WHERE tenant_id = $1 AND stage = $2 ORDER BY version DESC LIMIT 1`, tenantID, stage))
	if err != nil {
		return PromptVersion{}, translate(err)
	}
	if v.Kind != PromptOverride {
		return PromptVersion{}, fmt.Errorf("%w: %s uses the default prompt templates", errs.ErrNotFound, stage)
	}
	return v, nil
}

// ActivePrompts returns a tenant's active overrides, one per stage that has
// one, by stage.
func (s *Store) ActivePrompts(ctx context.Context, tenantID int64) ([]PromptVersion, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+promptColumns+`, true FROM (
		     SELECT DISTINCT ON (stage) * FROM prompt_templates WHERE tenant_id = $1 ORDER BY stage, version DESC
		 ) latest WHERE kind = 'override' ORDER BY stage`, tenantID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanPromptVersion)
}

// PromptVersions returns the versions of a stage, newest first; page.After,
// when not 0, is a version number: the page holds older ones.
func (s *Store) PromptVersions(ctx context.Context, tenantID int64, stage string, page Page) ([]PromptVersion, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+promptColumns+`,
		        version = (SELECT max(version) FROM prompt_templates WHERE tenant_id = $1 AND stage = $2)
		 FROM prompt_templates
		 WHERE tenant_id = $1 AND stage = $2 AND ($3::bigint = 0 OR version < $3::bigint)
		 ORDER BY version DESC LIMIT $4`, tenantID, stage, page.After, page.Limit)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanPromptVersion)
}
