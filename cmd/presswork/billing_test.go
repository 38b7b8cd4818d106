package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
)

// TestPlansAndPacksCommands (#26): "presswork plans" and "presswork packs"
// keep the catalogue through the store, audited as the command line's;
// bad flags change nothing.
func TestPlansAndPacksCommands(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	ctx := context.Background()
	runCmd := func(f func(context.Context, opener, []string, *bytes.Buffer) error, args ...string) (string, error) {
		var out bytes.Buffer
		err := f(ctx, opened(h.App), args, &out)
		return out.String(), err
	}
	plans := func(c context.Context, o opener, a []string, out *bytes.Buffer) error { return runPlans(c, o, a, out) }
	packs := func(c context.Context, o opener, a []string, out *bytes.Buffer) error { return runPacks(c, o, a, out) }

	out, err := runCmd(plans, "set", "-plan", "pro", "-price", "price_pro", "-credits", "1000", "-bulk-inflight", "20", "-description", "Pro")
	if err != nil || !strings.Contains(out, "price_pro") || !strings.Contains(out, "1000") {
		t.Fatalf("plans set: %v\n%s", err, out)
	}
	p, err := h.App.Store.GetPlan(ctx, "pro")
	apptest.Must(t, err, "get plan")
	if p.MonthlyCredits != 1000 || p.BulkInFlight == nil || *p.BulkInFlight != 20 {
		t.Errorf("plan %+v", p)
	}
	out, err = runCmd(packs, "add", "-name", "500 credits", "-price", "price_pack500", "-credits", "500")
	if err != nil || !strings.Contains(out, "price_pack500") {
		t.Fatalf("packs add: %v\n%s", err, out)
	}
	packList, err := h.App.Store.ListPacks(ctx, false)
	apptest.Must(t, err, "list packs")
	if len(packList) != 1 {
		t.Fatalf("packs %+v", packList)
	}
	id := packList[0].ID
	if out, err := runCmd(packs, "set", "-id", itoa(id), "-active=false"); err != nil || !strings.Contains(out, "false") {
		t.Fatalf("packs set: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		plans bool
		args  []string
	}{
		{true, []string{"set", "-plan", "gold", "-price", "price_x"}},
		{true, []string{"set", "-plan", "pro", "-price", "prod_x"}},
		{true, []string{"set", "-plan", "pro", "-credits", "-5"}},
		{true, []string{"frobnicate"}},
		{false, []string{"add", "-name", "x", "-price", "price_pack500", "-credits", "5"}}, // price sold already
		{false, []string{"add", "-name", "x", "-price", "price_y", "-credits", "0"}},
		{false, []string{"set", "-credits", "5"}},
		{false, []string{"delete", "-id", "999999"}},
	} {
		f := packs
		if tc.plans {
			f = plans
		}
		if out, err := runCmd(f, tc.args...); err == nil {
			t.Errorf("%v succeeded, want an error:\n%s", tc.args, out)
		}
	}
	p2, err := h.App.Store.GetPlan(ctx, "pro")
	apptest.Must(t, err, "get plan")
	if p2.StripePriceID == nil || *p2.StripePriceID != "price_pro" || p2.MonthlyCredits != 1000 {
		t.Errorf("a refused command changed the plan: %+v", p2)
	}
	if _, err := runCmd(packs, "delete", "-id", itoa(id)); err != nil {
		t.Fatalf("packs delete: %v", err)
	}
	entries, err := h.App.Store.AllAudit(ctx, 0, store.Page{Limit: 100})
	apptest.Must(t, err, "audit")
	var actions []string
	for _, e := range entries {
		if e.Actor == "cli" {
			actions = append(actions, e.Action)
		}
	}
	for _, want := range []string{"plan.put", "credit_pack.create", "credit_pack.update", "credit_pack.delete"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit %v has no %s", actions, want)
		}
	}
}
