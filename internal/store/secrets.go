package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SealedColumn is a column holding values sealed with the secret box (see
// internal/secret). Rotating the secret key re-encrypts every one of them.
type SealedColumn struct {
	Table  string
	Column string
	// What names the value in associated data and reports: "site-password",
	// "openai-key", "panel-password", "db-password", "db-root-password",
	// "env".
	What string
	// key is the row's primary key column (bigint).
	key string
	// site is the site id column, or "" when the row has none.
	site string
}

// String names the column as table.column.
func (c SealedColumn) String() string { return c.Table + "." + c.Column }

// SealedColumns lists every sealed column of the schema. A new sealed
// column must be added here, or key rotation leaves it behind (a test
// compares this list with the schema's *_enc columns).
var SealedColumns = []SealedColumn{
	{Table: "sites", Column: "app_password_enc", What: "site-password", key: "id", site: "id"},
	{Table: "tenant_ai_settings", Column: "openai_api_key_enc", What: "openai-key", key: "tenant_id"},
	{Table: "panel_credentials", Column: "password_enc", What: "panel-password", key: "tenant_id"},
	{Table: "deployments", Column: "db_password_enc", What: "db-password", key: "id", site: "site_id"},
	{Table: "deployments", Column: "db_root_password_enc", What: "db-root-password", key: "id", site: "site_id"},
	{Table: "deployments", Column: "env_enc", What: "env", key: "id", site: "site_id"},
	{Table: "webhooks", Column: "secret_enc", What: "webhook-secret", key: "id"},
}

// SealedValue is one sealed value and the row it belongs to.
type SealedValue struct {
	Column SealedColumn
	// RowKey is the row's primary key (the site's or deployment's id, or the
	// tenant's id for the tables keyed by tenant).
	RowKey   int64
	TenantID int64
	SiteID   int64 // 0 when the row names no site
	Value    []byte
}

func (c SealedColumn) selectList() string {
	site := "0::bigint"
	if c.site != "" {
		site = c.site
	}
	// The identifiers come from SealedColumns, never from input.
	return fmt.Sprintf("%s, tenant_id, %s, %s", c.key, site, c.Column)
}

// SealedValues returns up to limit non-null values of col whose row key is
// greater than after, in key order (keyset paging).
func (s *Store) SealedValues(ctx context.Context, col SealedColumn, after int64, limit int) ([]SealedValue, error) {
	rows, err := s.pool.Query(ctx, fmt.Sprintf(
		`SELECT %s FROM %s WHERE %s > $1 AND %s IS NOT NULL ORDER BY %s LIMIT $2`,
		col.selectList(), col.Table, col.key, col.Column, col.key), after, limit)
	if err != nil {
		return nil, translate(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SealedValue, error) {
		v := SealedValue{Column: col}
		err := r.Scan(&v.RowKey, &v.TenantID, &v.SiteID, &v.Value)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", col, translate(err))
	}
	return out, nil
}

// errUnchanged ends a reseal transaction that has nothing to write.
var errUnchanged = errors.New("unchanged")

// ResealValue replaces one sealed value in a short transaction of its own:
// it locks the row, passes its current value to reseal and writes what
// reseal returns, unless reseal reports no change. A row that is gone or
// whose value became null is skipped (changed false).
func (s *Store) ResealValue(ctx context.Context, col SealedColumn, rowKey int64,
	reseal func(SealedValue) (out []byte, changed bool, err error)) (changed bool, err error) {
	err = s.transact(ctx, func(tx pgx.Tx) error {
		v := SealedValue{Column: col}
		err := tx.QueryRow(ctx, fmt.Sprintf(`SELECT %s FROM %s WHERE %s = $1 AND %s IS NOT NULL FOR UPDATE`,
			col.selectList(), col.Table, col.key, col.Column), rowKey).Scan(&v.RowKey, &v.TenantID, &v.SiteID, &v.Value)
		if errors.Is(err, pgx.ErrNoRows) {
			return errUnchanged
		}
		if err != nil {
			return err
		}
		out, ch, err := reseal(v)
		if err != nil {
			return err
		}
		if !ch {
			return errUnchanged
		}
		_, err = tx.Exec(ctx, fmt.Sprintf(`UPDATE %s SET %s = $2 WHERE %s = $1`, col.Table, col.Column, col.key), rowKey, out)
		changed = err == nil
		return err
	})
	if errors.Is(err, errUnchanged) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reseal %s row %d: %w", col, rowKey, err)
	}
	return changed, nil
}

// SealedColumnNames returns the table.column names of the schema's bytea
// columns ending in _enc, for the test that keeps SealedColumns complete.
func (s *Store) SealedColumnNames(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type = 'bytea' AND column_name LIKE '%\_enc'
		ORDER BY 1`)
	if err != nil {
		return nil, translate(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return names, translate(err)
}
