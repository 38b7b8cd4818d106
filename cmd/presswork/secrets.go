package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/presswork/presswork/internal/secret"
	"github.com/presswork/presswork/internal/store"
)

// sealedStore is what key rotation needs of the store.
type sealedStore interface {
	SealedValues(ctx context.Context, col store.SealedColumn, after int64, limit int) ([]store.SealedValue, error)
	ResealValue(ctx context.Context, col store.SealedColumn, rowKey int64,
		reseal func(store.SealedValue) ([]byte, bool, error)) (bool, error)
}

// associatedData returns the associated data v was sealed with: the same
// functions the API and the worker seal and open it with.
func associatedData(v store.SealedValue) ([]byte, error) {
	switch v.Column.What {
	case "site-password":
		return secret.SitePasswordAD(v.TenantID), nil
	case "openai-key":
		return secret.OpenAIKeyAD(v.TenantID), nil
	case "panel-password":
		return secret.PanelPasswordAD(v.TenantID), nil
	case "db-password", "db-root-password", "env":
		return secret.DeploymentSecretAD(v.TenantID, v.SiteID, v.Column.What), nil
	case "webhook-secret":
		return secret.WebhookSecretAD(v.TenantID), nil
	}
	return nil, fmt.Errorf("no associated data known for %s", v.Column)
}

// rotation counts what a rotation did to one column.
type rotation struct {
	Column   store.SealedColumn
	Values   int // non-null values seen
	Resealed int // re-encrypted under the current key
	Current  int // already under the current key
}

// undecryptable is a value no configured key opens.
type undecryptable struct {
	Column store.SealedColumn
	RowKey int64
	KeyID  int // -1: not a ciphertext at all
}

func (u undecryptable) String() string {
	kid := "unknown format"
	if u.KeyID >= 0 {
		kid = fmt.Sprintf("sealed with key %d", u.KeyID)
	}
	return fmt.Sprintf("%s row %d (%s)", u.Column, u.RowKey, kid)
}

// checkSealed opens every sealed value and returns those no key opens, plus
// the number of values per column still under another key than the current.
func checkSealed(ctx context.Context, st sealedStore, box *secret.Box, batch int) (bad []undecryptable, stale map[string]int, err error) {
	stale = map[string]int{}
	for _, col := range store.SealedColumns {
		for after := int64(0); ; {
			vals, err := st.SealedValues(ctx, col, after, batch)
			if err != nil {
				return nil, nil, err
			}
			for _, v := range vals {
				ad, err := associatedData(v)
				if err != nil {
					return nil, nil, err
				}
				plain, err := box.Open(v.Value, ad)
				clear(plain)
				if err != nil {
					kid := -1
					if id, ok := secret.KeyID(v.Value); ok {
						kid = int(id)
					}
					bad = append(bad, undecryptable{Column: col, RowKey: v.RowKey, KeyID: kid})
					continue
				}
				if id, _ := secret.KeyID(v.Value); id != box.CurrentKeyID() {
					stale[col.String()]++
				}
			}
			if len(vals) < batch {
				break
			}
			after = vals[len(vals)-1].RowKey
		}
	}
	return bad, stale, nil
}

// rotateSecrets re-encrypts every sealed value under the box's current key.
// It first opens every value and refuses to change anything when one does
// not open with any configured key. Then each value is resealed in a short
// transaction of its own (the row locked), so an interrupted rotation
// leaves every row valid and a second run finishes it; values already under
// the current key are left as they are.
func rotateSecrets(ctx context.Context, st sealedStore, box *secret.Box, batch int) ([]rotation, error) {
	if batch < 1 {
		return nil, errors.New("the batch size must be positive")
	}
	bad, _, err := checkSealed(ctx, st, box, batch)
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		return nil, undecryptableError(bad)
	}
	var report []rotation
	for _, col := range store.SealedColumns {
		r := rotation{Column: col}
		for after := int64(0); ; {
			vals, err := st.SealedValues(ctx, col, after, batch)
			if err != nil {
				return report, err
			}
			for _, v := range vals {
				r.Values++
				if id, _ := secret.KeyID(v.Value); id == box.CurrentKeyID() {
					r.Current++
					continue
				}
				changed, err := st.ResealValue(ctx, col, v.RowKey, func(cur store.SealedValue) ([]byte, bool, error) {
					ad, err := associatedData(cur)
					if err != nil {
						return nil, false, err
					}
					return box.Reseal(cur.Value, ad)
				})
				if err != nil {
					return append(report, r), err
				}
				if changed {
					r.Resealed++
				} else {
					r.Current++ // changed meanwhile (by a write under the current key) or gone
				}
			}
			if len(vals) < batch {
				break
			}
			after = vals[len(vals)-1].RowKey
		}
		report = append(report, r)
	}
	return report, nil
}

func undecryptableError(bad []undecryptable) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d sealed value(s) open with no configured key; nothing was changed (configure the key they name in SECRET_KEYS_OLD, or clear them):", len(bad))
	for i, u := range bad {
		if i == 20 {
			fmt.Fprintf(&b, "\n  ... and %d more", len(bad)-i)
			break
		}
		fmt.Fprintf(&b, "\n  %s", u)
	}
	return errors.New(b.String())
}

// auditor records the rotation in the audit log.
type auditor interface {
	RecordAudit(ctx context.Context, r store.AuditRecord) error
}

// secretsCommand is "presswork secrets rotate" or "secrets check" (cmd)
// with flags args.
func secretsCommand(ctx context.Context, open opener, cmd string, args []string, out io.Writer) error {
	fs := commandFlags(cmd, out)
	batch := fs.Int("batch", 500, "rows read per query")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := open()
	if err != nil {
		return err
	}
	return runSecrets(ctx, a.Store, a.Store, a.Box, cmd == "secrets check", *batch, out)
}

// runSecrets checks (check) or rotates the sealed values, batch rows a query.
func runSecrets(ctx context.Context, st sealedStore, aud auditor, box *secret.Box, check bool, batch int, out io.Writer) error {
	if check {
		bad, stale, err := checkSealed(ctx, st, box, batch)
		if err != nil {
			return err
		}
		for _, col := range store.SealedColumns {
			fmt.Fprintf(out, "%-40s %d value(s) under an older key\n", col.String(), stale[col.String()])
		}
		if len(bad) > 0 {
			return undecryptableError(bad)
		}
		fmt.Fprintf(out, "every sealed value opens; the current key is %d\n", box.CurrentKeyID())
		return nil
	}
	report, err := rotateSecrets(ctx, st, box, batch)
	total := 0
	for _, r := range report {
		fmt.Fprintf(out, "%-40s %6d values, %6d re-encrypted, %6d already under key %d\n",
			r.Column.String(), r.Values, r.Resealed, r.Current, box.CurrentKeyID())
		total += r.Resealed
	}
	if err != nil {
		return err
	}
	if aud != nil {
		if err := aud.RecordAudit(ctx, store.AuditRecord{Actor: "cli", Action: "secrets.rotate",
			Target: fmt.Sprintf("key:%d resealed:%d", box.CurrentKeyID(), total)}); err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
	}
	fmt.Fprintf(out, "every sealed value is under key %d; old keys may now be removed from SECRET_KEYS_OLD\n", box.CurrentKeyID())
	return nil
}
