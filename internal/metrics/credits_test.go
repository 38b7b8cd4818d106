package metrics_test

import (
	"context"
	"testing"

	"github.com/presswork/presswork/internal/metrics"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/testenv"
)

// TestCreditsLedgerOutOfOrder checks the ledger collector against
// PostgreSQL when a row commits after a row with a higher id: it is
// counted once it commits, and never twice, however many scrapes fold
// the ledger in between.
func TestCreditsLedgerOutOfOrder(t *testing.T) {
	t.Parallel()
	st := testenv.Store(t)
	ctx := context.Background()
	tn, err := st.CreateTenant(ctx, store.NewTenant{Slug: "ledger", Name: "Ledger", Plan: "free", Credits: 100})
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.New()
	if _, err := reg.Attach(metrics.NewCredits(st, nil)); err != nil {
		t.Fatal(err)
	}
	grants := func() float64 {
		t.Helper()
		m := find(gather(t, reg), "presswork_credits_total", map[string]string{"kind": "grant"})
		return m.GetCounter().GetValue()
	}
	if got := grants(); got != 100 {
		t.Fatalf("grants after the opening credits = %v, want 100", got)
	}

	// A transaction takes a ledger id, then another commits a higher one.
	db := st.SQLDB()
	t.Cleanup(func() { db.Close() })
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `INSERT INTO credit_ledger (tenant_id, kind, delta, balance_after)
		VALUES ($1, 'grant', 7, 0)`, tn.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GrantCredits(ctx, tn.ID, 10, "later"); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if got := grants(); got != 110 {
			t.Fatalf("scrape %d with a transaction open: grants = %v, want 110", i, got)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if got := grants(); got != 117 {
			t.Fatalf("scrape %d after the commit: grants = %v, want 117", i, got)
		}
	}
	if _, err := st.GrantCredits(ctx, tn.ID, 1, "last"); err != nil {
		t.Fatal(err)
	}
	if got := grants(); got != 118 {
		t.Fatalf("grants after another grant = %v, want 118", got)
	}
}

// simLedger simulates the ledger's visibility rules: ids and transaction
// ids are taken in order, rows are visible once their transaction
// commits, and a snapshot's xmin is the oldest open transaction.
type simLedger struct {
	rows    []simRow
	nextXID int64
	open    map[int64]bool // transaction ids not yet ended
	afters  []int64        // the after argument of every read
}

type simRow struct {
	id, xid, delta int64
	kind           string
}

func (l *simLedger) begin() int64 {
	l.nextXID++
	l.open[l.nextXID] = true
	return l.nextXID
}

func (l *simLedger) insert(xid int64, kind string, delta int64) {
	l.rows = append(l.rows, simRow{id: int64(len(l.rows) + 1), xid: xid, delta: delta, kind: kind})
}

func (l *simLedger) visible(r simRow) bool { return !l.open[r.xid] }

func (l *simLedger) LedgerTail(_ context.Context, after, foldTo int64) (store.LedgerTail, error) {
	l.afters = append(l.afters, after)
	t := store.LedgerTail{Total: map[string]int64{}, Folded: map[string]int64{}, XMin: l.nextXID + 1, XMax: l.nextXID + 1}
	for xid := range l.open {
		t.XMin = min(t.XMin, xid)
	}
	for _, r := range l.rows {
		if r.id <= after || !l.visible(r) {
			continue
		}
		t.Total[r.kind] += r.delta
		if r.id <= foldTo {
			t.Folded[r.kind] += r.delta
		}
		t.MaxID = max(t.MaxID, r.id)
	}
	return t, nil
}

// TestCreditsFolding runs the collector over a simulated ledger where
// transactions commit out of id order, and checks after every scrape that
// it reports exactly the committed rows, while reading only recent rows.
func TestCreditsFolding(t *testing.T) {
	t.Parallel()
	l := &simLedger{open: map[int64]bool{}}
	reg := metrics.New()
	if _, err := reg.Attach(metrics.NewCredits(l, nil)); err != nil {
		t.Fatal(err)
	}
	committed := func() float64 {
		sum := int64(0)
		for _, r := range l.rows {
			if l.visible(r) {
				sum += r.delta
			}
		}
		return float64(sum)
	}
	var slow int64 // a transaction that stays open across scrapes
	for step := range 200 {
		xid := l.begin()
		l.insert(xid, "reserve", int64(step%7+1))
		switch {
		case step%25 == 0 && slow == 0:
			slow = xid // commits 10 steps later
		default:
			delete(l.open, xid)
		}
		if slow != 0 && step%25 == 10 {
			delete(l.open, slow)
			slow = 0
		}
		m := find(gather(t, reg), "presswork_credits_total", map[string]string{"kind": "reserve"})
		if got, want := m.GetCounter().GetValue(), committed(); got != want {
			t.Fatalf("step %d: reserve = %v, want %v (the committed rows)", step, got, want)
		}
	}
	if last := l.afters[len(l.afters)-1]; last < 150 {
		t.Errorf("the last scrape read the ledger after id %d, want the rows folded up to at least 150 of 200", last)
	}
}
