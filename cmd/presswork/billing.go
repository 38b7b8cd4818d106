package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/store"
)

// plansUsage is "presswork plans help".
const plansUsage = `usage: presswork plans list|set|delete [flags]

The plans sold through Stripe (#26), the same as /v1/admin/plans.

  plans list
  plans set -plan P -price price_... [-credits N] [-bulk-inflight N] [-description T]
            (-price none: not for sale; -bulk-inflight 0: BULK_INFLIGHT's room)
  plans delete -plan P
`

// packsUsage is "presswork packs help".
const packsUsage = `usage: presswork packs list|add|set|delete [flags]

The credit packs sold through Stripe (#26), the same as /v1/admin/credit-packs.

  packs list
  packs add -name N -price price_... -credits N
  packs set -id ID [-name N] [-price price_...] [-credits N] [-active=true|false]
  packs delete -id ID
`

// runPlans is "presswork plans ...".
func runPlans(ctx context.Context, open opener, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(out, plansUsage)
		if len(args) == 0 {
			return errors.New("plans: no subcommand given")
		}
		return nil
	}
	fs := commandFlags("plans "+args[0], out)
	name := fs.String("plan", "", "plan: "+strings.Join(auth.Plans, ", "))
	price := fs.String("price", "", "the Stripe price id (price_...), or none")
	credits := fs.Int64("credits", 0, "credits granted for each paid invoice")
	room := fs.Int("bulk-inflight", 0, "the plan's fair-share room (0: BULK_INFLIGHT's)")
	desc := fs.String("description", "", "what the plan gives, shown to tenants")
	switch args[0] {
	case "list", "set", "delete":
	default:
		fmt.Fprint(out, plansUsage)
		return fmt.Errorf("plans: unknown subcommand %q", args[0])
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if args[0] != "list" && !slices.Contains(auth.Plans, *name) {
		return fmt.Errorf("plans %s: -plan must be one of %s", args[0], strings.Join(auth.Plans, ", "))
	}
	a, err := open()
	if err != nil {
		return err
	}
	switch args[0] {
	case "set":
		p := store.Plan{Name: *name, MonthlyCredits: *credits, Description: *desc}
		if *price != "" && *price != "none" {
			p.StripePriceID = price
		}
		if *room != 0 {
			p.BulkInFlight = room
		}
		if _, err := a.Store.PutPlan(ctx, p); err != nil {
			return err
		}
		if err := cliAudit(ctx, a, 0, "plan.put", "plan:"+*name); err != nil {
			return err
		}
	case "delete":
		if err := a.Store.DeletePlan(ctx, *name); err != nil {
			return err
		}
		if err := cliAudit(ctx, a, 0, "plan.delete", "plan:"+*name); err != nil {
			return err
		}
	}
	return listPlans(ctx, a, out)
}

func listPlans(ctx context.Context, a *app.App, out io.Writer) error {
	ps, err := a.Store.ListPlans(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PLAN\tSTRIPE PRICE\tCREDITS/MONTH\tBULK IN FLIGHT\tDESCRIPTION")
	for _, p := range ps {
		price, room := "(not for sale)", "BULK_INFLIGHT"
		if p.StripePriceID != nil {
			price = *p.StripePriceID
		}
		if p.BulkInFlight != nil {
			room = fmt.Sprint(*p.BulkInFlight)
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\n", p.Name, price, p.MonthlyCredits, room, p.Description)
	}
	return w.Flush()
}

// runPacks is "presswork packs ...".
func runPacks(ctx context.Context, open opener, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(out, packsUsage)
		if len(args) == 0 {
			return errors.New("packs: no subcommand given")
		}
		return nil
	}
	switch args[0] {
	case "list", "add", "set", "delete":
	default:
		fmt.Fprint(out, packsUsage)
		return fmt.Errorf("packs: unknown subcommand %q", args[0])
	}
	fs := commandFlags("packs "+args[0], out)
	id := fs.Int64("id", 0, "the pack's id")
	name := fs.String("name", "", "the pack's name")
	price := fs.String("price", "", "the Stripe price id (price_...)")
	credits := fs.Int64("credits", 0, "credits the pack grants")
	active := fs.Bool("active", true, "for sale")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if (args[0] == "set" || args[0] == "delete") && *id <= 0 {
		return fmt.Errorf("packs %s: -id is required", args[0])
	}
	a, err := open()
	if err != nil {
		return err
	}
	switch args[0] {
	case "add":
		p, err := a.Store.CreatePack(ctx, store.CreditPack{Name: *name, StripePriceID: *price, Credits: *credits, Active: *active})
		if err != nil {
			return err
		}
		if err := cliAudit(ctx, a, 0, "credit_pack.create", fmt.Sprintf("credit_pack:%d %s", p.ID, p.Name)); err != nil {
			return err
		}
	case "set":
		p, err := a.Store.GetPack(ctx, *id)
		if err != nil {
			return err
		}
		if set["name"] {
			p.Name = *name
		}
		if set["price"] {
			p.StripePriceID = *price
		}
		if set["credits"] {
			p.Credits = *credits
		}
		if set["active"] {
			p.Active = *active
		}
		if _, err := a.Store.UpdatePack(ctx, p); err != nil {
			return err
		}
		if err := cliAudit(ctx, a, 0, "credit_pack.update", fmt.Sprintf("credit_pack:%d %s", p.ID, p.Name)); err != nil {
			return err
		}
	case "delete":
		if err := a.Store.DeletePack(ctx, *id); err != nil {
			return err
		}
		if err := cliAudit(ctx, a, 0, "credit_pack.delete", fmt.Sprintf("credit_pack:%d", *id)); err != nil {
			return err
		}
	}
	return listPacks(ctx, a, out)
}

func listPacks(ctx context.Context, a *app.App, out io.Writer) error {
	ps, err := a.Store.ListPacks(ctx, false)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tSTRIPE PRICE\tCREDITS\tACTIVE")
	for _, p := range ps {
		fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%t\n", p.ID, p.Name, p.StripePriceID, p.Credits, p.Active)
	}
	return w.Flush()
}
