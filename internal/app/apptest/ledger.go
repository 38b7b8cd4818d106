package apptest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/store"
)

// ledgerPage is how many entries Ledger reads at a time.
const ledgerPage = 500

// Ledger returns a tenant's whole ledger, oldest first.
func Ledger(t testing.TB, st *store.Store, tenantID int64) []store.LedgerEntry {
	t.Helper()
	var all []store.LedgerEntry
	after := int64(0)
	for {
		page, err := st.Ledger(Context(t), tenantID, store.Page{After: after, Limit: ledgerPage})
		Must(t, err, "read ledger")
		all = append(all, page...)
		if len(page) < ledgerPage {
			break
		}
		after = page[len(page)-1].ID
	}
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	return all
}

// JobLedger returns the kinds and deltas of a job's ledger entries, oldest
// first, as "reserve:-3 refund:3".
func JobLedger(entries []store.LedgerEntry, jobID string) string {
	var parts []string
	for _, e := range entries {
		if e.JobID != nil && *e.JobID == jobID {
			parts = append(parts, fmt.Sprintf("%s:%d", e.Kind, e.Delta))
		}
	}
	return strings.Join(parts, " ")
}

// CheckCredits checks the ledger invariants of a tenant: the deltas add up
// to the balance, no entry leaves the balance negative, and the balance is
// want. It returns the ledger.
func CheckCredits(t testing.TB, st *store.Store, tenantID, want int64) []store.LedgerEntry {
	t.Helper()
	entries := Ledger(t, st, tenantID)
	var sum int64
	for _, e := range entries {
		sum += e.Delta
		if e.BalanceAfter < 0 || sum != e.BalanceAfter {
			t.Errorf("ledger entry %d (%s %d, job %v) leaves balance %d; running sum %d", e.ID, e.Kind, e.Delta,
				Deref(e.JobID), e.BalanceAfter, sum)
		}
	}
	tenant, err := st.GetTenant(Context(t), tenantID)
	Must(t, err, "get tenant")
	if tenant.CreditBalance != sum {
		t.Errorf("balance %d, ledger adds up to %d", tenant.CreditBalance, sum)
	}
	if tenant.CreditBalance != want {
		t.Errorf("balance %d, want %d", tenant.CreditBalance, want)
	}
	return entries
}
