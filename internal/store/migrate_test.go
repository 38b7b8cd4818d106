package store_test

import (
	"testing"

	"github.com/presswork/presswork/internal/store"
)

func TestMigrateIsIdempotent(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	if err := st.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	// The test database is already migrated: migrating again is a no-op.
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate on a migrated database: %v", err)
	}
	pending, err := st.MigrationsPending(ctx)
	if err != nil || pending {
		t.Fatalf("MigrationsPending = %v, %v", pending, err)
	}

	// From an empty schema: pending, then applied, then a second run is fine.
	db := st.SQLDB()
	defer db.Close()
	if _, err := db.ExecContext(ctx, `DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	pending, err = st.MigrationsPending(ctx)
	if err != nil || !pending {
		t.Fatalf("MigrationsPending on an empty schema = %v, %v", pending, err)
	}
	for i := range 2 {
		if err := st.Migrate(ctx); err != nil {
			t.Fatalf("Migrate run %d: %v", i+1, err)
		}
	}
	pending, err = st.MigrationsPending(ctx)
	if err != nil || pending {
		t.Fatalf("MigrationsPending after Migrate = %v, %v", pending, err)
	}
	// The schema works.
	tn, err := st.CreateTenant(ctx, store.NewTenant{Slug: "after-migrate", Name: "x", Plan: "free", Credits: 3})
	if err != nil || tn.CreditBalance != 3 {
		t.Fatalf("CreateTenant after Migrate = %+v, %v", tn, err)
	}
}
