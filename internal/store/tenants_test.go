package store_test

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

func TestCreateTenantWritesOpeningGrant(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn, err := st.CreateTenant(ctx, store.NewTenant{Slug: "acme", Name: "Acme", Plan: "starter", Credits: 100})
	if err != nil {
		t.Fatal(err)
	}
	if tn.ID == 0 || tn.Slug != "acme" || tn.Name != "Acme" || tn.Plan != "starter" || tn.Status != "active" || tn.CreditBalance != 100 {
		t.Fatalf("CreateTenant = %+v", tn)
	}
	got, err := st.GetTenant(ctx, tn.ID)
	if err != nil || got.CreditBalance != 100 || got.Slug != "acme" {
		t.Fatalf("GetTenant = %+v, %v", got, err)
	}
	l := ledger(t, st, tn.ID)
	if len(l) != 1 {
		t.Fatalf("ledger has %d rows, want 1: %v", len(l), kinds(l))
	}
	e := l[0]
	if e.Kind != "grant" || e.Delta != 100 || e.BalanceAfter != 100 || e.JobID != nil || e.Note != "opening credits" {
		t.Fatalf("opening row = %+v", e)
	}
	checkBooks(t, st, tn.ID)

	_, err = st.CreateTenant(ctx, store.NewTenant{Slug: "acme", Name: "Other", Plan: "free", Credits: 5})
	wantErrIs(t, "duplicate slug", err, errs.ErrConflict)

	free, err := st.CreateTenant(ctx, store.NewTenant{Slug: "nocredits", Name: "No credits", Plan: "free"})
	if err != nil || free.CreditBalance != 0 {
		t.Fatalf("CreateTenant without credits = %+v, %v", free, err)
	}
	if l := ledger(t, st, free.ID); len(l) != 0 {
		t.Fatalf("a tenant without opening credits has ledger rows %v", kinds(l))
	}
	checkBooks(t, st, free.ID)

	all, err := st.ListTenants(ctx)
	if err != nil || len(all) != 2 || all[0].ID != tn.ID || all[1].ID != free.ID {
		t.Fatalf("ListTenants = %+v, %v", all, err)
	}
	_, err = st.GetTenant(ctx, free.ID+1000)
	wantErrIs(t, "GetTenant unknown", err, errs.ErrNotFound)
}

func TestGrantCredits(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 100)

	b, err := st.GrantCredits(ctx, tn.ID, 50, "top up")
	if err != nil || b != 150 {
		t.Fatalf("grant +50 = %d, %v", b, err)
	}
	b, err = st.GrantCredits(ctx, tn.ID, -30, "correction")
	if err != nil || b != 120 {
		t.Fatalf("grant -30 = %d, %v", b, err)
	}
	before := ledger(t, st, tn.ID)

	// A debit that would take the balance below zero is refused and writes nothing.
	_, err = st.GrantCredits(ctx, tn.ID, -121, "too much")
	wantInsufficient(t, "debit below zero", err, 121, 120)
	if errs.IsPermanent(err) != true {
		t.Fatalf("IsPermanent(%v) = false", err)
	}
	if got := balance(t, st, tn.ID); got != 120 {
		t.Fatalf("balance after refused debit = %d, want 120", got)
	}
	if after := ledger(t, st, tn.ID); len(after) != len(before) {
		t.Fatalf("refused debit wrote ledger rows: %v -> %v", kinds(before), kinds(after))
	}

	// Exactly down to zero is allowed.
	b, err = st.GrantCredits(ctx, tn.ID, -120, "all of it")
	if err != nil || b != 0 {
		t.Fatalf("grant -120 = %d, %v", b, err)
	}
	l := ledger(t, st, tn.ID)
	want := []string{"grant+100", "grant+50", "grant-30", "grant-120"}
	if !slices.Equal(kinds(l), want) {
		t.Fatalf("ledger = %v, want %v", kinds(l), want)
	}
	if l[1].Note != "top up" || l[2].Note != "correction" {
		t.Fatalf("notes = %q, %q", l[1].Note, l[2].Note)
	}
	checkBooks(t, st, tn.ID)

	_, err = st.GrantCredits(ctx, tn.ID+1000, 10, "nobody")
	wantErrIs(t, "grant to unknown tenant", err, errs.ErrNotFound)
	_, err = st.GrantCredits(ctx, tn.ID+1000, -10, "nobody")
	wantErrIs(t, "debit of unknown tenant", err, errs.ErrNotFound)
}

func TestCreditsSummary(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 20)
	other := newTenant(t, st, 7)

	running := newJob(t, st, tn.ID, typeDraft, 1, 3)
	startJob(t, st, tn.ID, running.ID)
	newJob(t, st, tn.ID, typeDraft, 2, 5) // queued: its quote is reserved
	done := newJob(t, st, tn.ID, typeDraft, 3, 4)
	startJob(t, st, tn.ID, done.ID)
	if err := st.FailJob(ctx, tn.ID, done.ID, store.Failure{Message: "boom"}); err != nil {
		t.Fatal(err)
	}
	newJob(t, st, other.ID, typeDraft, 4, 2) // another tenant's queued job counts for it only

	c, err := st.Credits(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := store.CreditSummary{Balance: 12, Reserved: 8, LedgerSum: 12}
	if c != want {
		t.Fatalf("Credits = %+v, want %+v", c, want)
	}
	c, err = st.Credits(ctx, other.ID)
	if want := (store.CreditSummary{Balance: 5, Reserved: 2, LedgerSum: 5}); err != nil || c != want {
		t.Fatalf("Credits(other) = %+v, %v, want %+v", c, err, want)
	}
	_, err = st.Credits(ctx, other.ID+1000)
	wantErrIs(t, "Credits of unknown tenant", err, errs.ErrNotFound)
}

func TestLedgerPaging(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 1)
	for i := range 24 {
		if _, err := st.GrantCredits(ctx, tn.ID, int64(i+2), "grant"); err != nil {
			t.Fatal(err)
		}
	}
	var pages [][]store.LedgerEntry
	page := store.Page{Limit: 10}
	for {
		got, err := st.Ledger(ctx, tn.ID, page)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		pages = append(pages, got)
		page.After = got[len(got)-1].ID
	}
	if len(pages) != 3 || len(pages[0]) != 10 || len(pages[1]) != 10 || len(pages[2]) != 5 {
		t.Fatalf("page sizes: %d pages %v", len(pages), pages)
	}
	var all []store.LedgerEntry
	for _, p := range pages {
		all = append(all, p...)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			t.Fatalf("ledger not newest first without repeats at %d: %d after %d", i, all[i].ID, all[i-1].ID)
		}
	}
	// Newest first: the first row is the last grant, the last the opening one.
	if all[0].Delta != 25 || all[0].BalanceAfter != balance(t, st, tn.ID) || all[len(all)-1].Note != "opening credits" {
		t.Fatalf("first %+v, last %+v", all[0], all[len(all)-1])
	}
	checkBooks(t, st, tn.ID)
}

// TestLedgerMatchesBalance runs a mix of every operation that moves credits
// and checks the books after each.
func TestLedgerMatchesBalance(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 50)
	id := tn.ID
	expect := int64(50)
	check := func(step string) {
		t.Helper()
		if got := checkBooks(t, st, id); got != expect {
			t.Fatalf("after %s: balance %d, want %d", step, got, expect)
		}
	}

	if _, err := st.GrantCredits(ctx, id, 10, ""); err != nil {
		t.Fatal(err)
	}
	expect += 10
	check("grant")

	// Reserved when queued, and still running.
	a := newJob(t, st, id, typeDraft, 101, 5)
	expect -= 5
	check("reserve a")
	startJob(t, st, id, a.ID)
	check("start a")
	w := newWorld(t, st) // another tenant's activity must not touch these books
	_ = w

	// Reserved, retried, then failed: refunded.
	b := newJob(t, st, id, typeDraft, 102, 7)
	expect -= 7
	startJob(t, st, id, b.ID)
	if err := st.RetryLater(ctx, id, b.ID, store.Failure{Message: "timeout"}); err != nil {
		t.Fatal(err)
	}
	startJob(t, st, id, b.ID)
	check("retry b")
	if err := st.FailJob(ctx, id, b.ID, store.Failure{Message: "gave up"}); err != nil {
		t.Fatal(err)
	}
	expect += 7
	check("fail b")

	// Without a quote, reserved when started, and canceled: refunded.
	c := newJob(t, st, id, typeDraft, 103, 0)
	startJobCosting(t, st, id, c.ID, 6)
	expect -= 6
	if _, err := st.CancelJob(ctx, id, c.ID); err != nil {
		t.Fatal(err)
	}
	expect += 6
	check("cancel c")

	// A refused start changes nothing.
	d := newJob(t, st, id, typeDraft, 104, 0)
	_, err := st.StartJobCosting(ctx, id, d.ID, 1000, "x")
	wantInsufficient(t, "start d", err, 1000, expect)
	check("refused start d")

	// A debit, and a refused debit.
	if _, err := st.GrantCredits(ctx, id, -3, "adjust"); err != nil {
		t.Fatal(err)
	}
	expect -= 3
	if _, err := st.GrantCredits(ctx, id, -(expect + 1), "too much"); err == nil {
		t.Fatal("debit below zero accepted")
	}
	check("debits")

	// Canceling a queued job without a reservation moves nothing.
	if _, err := st.CancelJob(ctx, id, d.ID); err != nil {
		t.Fatal(err)
	}
	check("cancel d")

	l := ledger(t, st, id)
	want := []string{"grant+50", "grant+10", "reserve-5", "reserve-7", "refund+7", "reserve-6", "refund+6", "grant-3"}
	if !slices.Equal(kinds(l), want) {
		t.Fatalf("ledger = %v, want %v", kinds(l), want)
	}
	if got := jobLedger(t, st, id, a.ID); len(got) != 1 || *got[0].JobID != a.ID {
		t.Fatalf("job a ledger = %v", kinds(got))
	}
	checkBooks(t, st, w.tenant.ID)
}

func TestGrantCreditsOnce(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 10)

	balance, replayed, err := st.GrantCreditsOnce(ctx, tn.ID, 5, "top-up", "grant-1")
	if err != nil || replayed || balance != 15 {
		t.Fatalf("first grant = %d, %v, %v; want 15, not replayed", balance, replayed, err)
	}
	if _, err := st.GrantCredits(ctx, tn.ID, 1, "unkeyed"); err != nil {
		t.Fatal(err)
	}
	// A retry grants nothing and answers the first grant's balance.
	balance, replayed, err = st.GrantCreditsOnce(ctx, tn.ID, 5, "top-up", "grant-1")
	if err != nil || !replayed || balance != 15 {
		t.Fatalf("retried grant = %d, %v, %v; want 15, replayed", balance, replayed, err)
	}
	_, _, err = st.GrantCreditsOnce(ctx, tn.ID, 6, "top-up", "grant-1")
	wantErrIs(t, "same key, another amount", err, errs.ErrConflict)

	// Concurrent retries of one grant grant once.
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, _, err := st.GrantCreditsOnce(ctx, tn.ID, 7, "", "grant-2"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if c, err := st.Credits(ctx, tn.ID); err != nil || c.Balance != 23 {
		t.Errorf("balance %+v, %v; want 10 + 5 + 1 + 7 = 23", c, err)
	}
	checkBooks(t, st, tn.ID)
}

// TestBatchMinItems: the bulk default is off until set, bounded, and
// cleared by nil.
func TestBatchMinItems(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	tn := newTenant(t, st, 0)
	if n, err := st.BatchMinItems(ctx, tn.ID); err != nil || n != nil {
		t.Fatalf("new tenant's default: %v (%v), want off", n, err)
	}
	for _, bad := range []int{0, -1, store.MaxBatchMinItems + 1} {
		if err := st.SetBatchMinItems(ctx, tn.ID, &bad); !invalidField(err, "batch_min_items") {
			t.Errorf("SetBatchMinItems(%d): %v, want a problem naming batch_min_items", bad, err)
		}
	}
	n := 50
	if err := st.SetBatchMinItems(ctx, tn.ID, &n); err != nil {
		t.Fatalf("SetBatchMinItems: %v", err)
	}
	if got, err := st.BatchMinItems(ctx, tn.ID); err != nil || got == nil || *got != 50 {
		t.Errorf("default after set: %v (%v), want 50", got, err)
	}
	if err := st.SetBatchMinItems(ctx, tn.ID, nil); err != nil {
		t.Fatalf("clear: %v", err)
	}
	if got, err := st.BatchMinItems(ctx, tn.ID); err != nil || got != nil {
		t.Errorf("default after clear: %v (%v), want off", got, err)
	}
	if err := st.SetBatchMinItems(ctx, 999999, &n); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("no tenant: %v, want not found", err)
	}
}
