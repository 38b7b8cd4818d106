package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/jobs"
)

// planFlags parses "tenant plan"'s flags; -h prints them to out and
// answers help true.
func planFlags(args []string, out io.Writer) (tenant int64, plan string, help bool, err error) {
	fs := flag.NewFlagSet("tenant plan", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: presswork tenant plan -tenant ID -plan P\n\n"+
			"Changes a tenant's plan (%s). Its fair-share room for bulk jobs\n"+
			"(BULK_INFLIGHT) follows at once: held jobs a larger room fits are queued.\n\n",
			strings.Join(auth.Plans, ", "))
		fs.PrintDefaults()
	}
	fs.Int64Var(&tenant, "tenant", 0, "tenant id (required)")
	fs.StringVar(&plan, "plan", "", "the new plan: "+strings.Join(auth.Plans, ", ")+" (required)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, "", true, nil
		}
		return 0, "", false, err
	}
	switch {
	case fs.NArg() > 0:
		return 0, "", false, fmt.Errorf("tenant plan: unexpected argument %q", fs.Arg(0))
	case tenant <= 0:
		return 0, "", false, errors.New("-tenant must be a tenant id")
	case !slices.Contains(auth.Plans, plan):
		return 0, "", false, fmt.Errorf("-plan must be one of %s, not %q", strings.Join(auth.Plans, ", "), plan)
	}
	return tenant, plan, false, nil
}

// changePlan is "presswork tenant plan" once planFlags has parsed its
// flags: the operator's plan change, the same as PATCH
// /v1/admin/tenants/:id with a plan, and audited as it is.
func changePlan(ctx context.Context, a *app.App, tenant int64, plan string, out io.Writer) error {
	client := asynq.NewClient(a.Redis)
	defer client.Close()
	changed, err := auth.ChangeTenant(ctx, a.Store, jobs.New(a.Store, client, a.Log), tenant,
		auth.TenantChangeRequest{Plan: &plan})
	if err != nil {
		return err
	}
	t := changed.Tenant
	if err := cliAudit(ctx, a, t.ID, "tenant.plan", auth.PlanChangeTarget(t.ID, changed.OldPlan, t.Plan)); err != nil {
		return err
	}
	fmt.Fprintf(out, "tenant %d %q: plan %s (was %s)\n", t.ID, t.Slug, t.Plan, changed.OldPlan)
	switch {
	case changed.ReleaseErr != nil:
		fmt.Fprintf(out, "held bulk jobs were not released now (%v); the reconciler will release them\n", changed.ReleaseErr)
	case changed.Released > 0:
		fmt.Fprintf(out, "%d held bulk jobs released to the queue\n", changed.Released)
	}
	return nil
}
