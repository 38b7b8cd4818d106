package main

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/store"
)

// TestTenantPlan (#17.8): "presswork tenant plan" changes a tenant's plan
// and audits it as the command line's; -h prints the flags without a
// database; a bad plan, a missing or unknown tenant are errors that change
// nothing.
func TestTenantPlan(t *testing.T) {
	t.Parallel()
	var help bytes.Buffer
	if err := run(context.Background(), []string{"tenant", "plan", "-h"}, &help); err != nil {
		t.Fatalf("tenant plan -h: %v", err)
	}
	for _, want := range []string{"usage: presswork tenant plan", "-tenant", "-plan", "free, starter, pro, agency"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("tenant plan -h does not say %q:\n%s", want, help.String())
		}
	}

	h := apptest.Start(t)
	ctx := context.Background()
	tk, _ := h.Tenant(t, "cli-plan", 0)
	id := itoa(tk.Tenant.ID)
	// tenantPlan is run's "tenant plan" without the configuration.
	tenantPlan := func(args []string, out io.Writer) error {
		tenant, plan, help, err := planFlags(args, out)
		if err != nil || help {
			return err
		}
		return changePlan(ctx, h.App, tenant, plan, out)
	}
	for _, args := range [][]string{
		{"-tenant", id, "-plan", "gold"},
		{"-tenant", id, "-plan", "Agency"},
		{"-tenant", id},
		{"-plan", "agency"},
		{"-tenant", "999999", "-plan", "agency"},
		{"-tenant", id, "-plan", "agency", "extra"},
	} {
		var out bytes.Buffer
		if err := tenantPlan(args, &out); err == nil {
			t.Errorf("tenant plan %v succeeded, want an error", args)
		}
	}
	if got, err := h.App.Store.GetTenant(ctx, tk.Tenant.ID); err != nil || got.Plan != "pro" {
		t.Fatalf("after refused changes: %+v (%v), want plan pro", got, err)
	}

	var out bytes.Buffer
	if err := tenantPlan([]string{"-tenant", id, "-plan", "agency"}, &out); err != nil {
		t.Fatalf("tenant plan: %v", err)
	}
	if !strings.Contains(out.String(), "plan agency (was pro)") {
		t.Errorf("tenant plan printed %q", out.String())
	}
	if got, err := h.App.Store.GetTenant(ctx, tk.Tenant.ID); err != nil || got.Plan != "agency" {
		t.Errorf("after tenant plan: %+v (%v), want plan agency", got, err)
	}
	entries, err := h.App.Store.TenantAudit(ctx, tk.Tenant.ID, store.Page{Limit: 100})
	apptest.Must(t, err, "audit")
	want := auth.PlanChangeTarget(tk.Tenant.ID, "pro", "agency")
	if !slices.ContainsFunc(entries, func(e store.AuditEntry) bool {
		return e.Actor == "cli" && e.Action == "tenant.plan" && e.Target == want
	}) {
		t.Errorf("no cli tenant.plan audit entry %q in %+v", want, entries)
	}
}
