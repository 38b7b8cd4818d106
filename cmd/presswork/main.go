// Command presswork is the operator's command line: migrations, tenants,
// operator keys, credit grants, the queues, the model catalogue and the
// demo.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/auth"
	"github.com/presswork/presswork/internal/config"
	"github.com/presswork/presswork/internal/store"
)

const usage = `usage: presswork COMMAND [flags]

commands:
  migrate                         apply database migrations
  tenant create -name N -slug S [-plan P] [-credits C]
                                  create a tenant and print its first owner API key
  tenant plan -tenant ID -plan P  change a tenant's plan (free, starter, pro, agency); its
                                  fair-share room follows at once
  credits grant -tenant ID -amount N [-note T]
                                  add credits to a tenant
  operator-key create -name N     create an operator API key (tenant management)
  user create -tenant ID -email E [-role R]
                                  create a user of the web interface (-role operator: no
                                  -tenant); the password is the first line of stdin (empty:
                                  a random one is printed)
  secrets rotate [-batch N]       re-encrypt every sealed value (site passwords, OpenAI
                                  keys, panel passwords, deployment secrets) under the
                                  current SECRET_KEY; refuses if a value opens with no key
  secrets check [-batch N]        open every sealed value and count those under old keys
  queue stats|list|retry|archive|delete|pause|unpause [flags]
                                  inspect and act on the asynq queues
                                  ("presswork queue help" for flags and caveats)
  models list|add|set|route [flags]
                                  the model catalogue and the model of each stage
                                  ("presswork models help" for flags)
  plans list|set|delete [flags]   the plans sold through Stripe ("presswork plans help")
  packs list|add|set|delete [flags]
                                  the credit packs sold through Stripe ("presswork packs help")
  demo [-keywords FILE]           run the pipeline end to end on a demo tenant with
                                  the offline provider and print a summary
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "presswork:", err)
		os.Exit(1)
	}
}

// opener opens the App the first time it is called: a command calls it
// once its flags are parsed, so -h and flag errors need no configuration
// or database.
type opener func() (*app.App, error)

// opened is the opener of an App already open.
func opened(a *app.App) opener { return func() (*app.App, error) { return a, nil } }

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage)
		return errors.New("no command given")
	}
	cmd := args[0]
	if len(args) > 1 && (cmd == "tenant" || cmd == "credits" || cmd == "operator-key" || cmd == "secrets" || cmd == "user") {
		cmd += " " + args[1]
		args = args[1:]
	}
	var a *app.App
	open := func() (*app.App, error) {
		if a != nil {
			return a, nil
		}
		cfg, err := config.FromEnv()
		if err != nil {
			return nil, fmt.Errorf("configuration: %w", err)
		}
		log := cfg.Logger(io.Discard, "presswork")
		if os.Getenv("PRESSWORK_VERBOSE") != "" {
			log = cfg.Logger(os.Stderr, "presswork")
		}
		a, err = app.Open(ctx, cfg, log)
		return a, err
	}
	defer func() {
		if a != nil {
			a.Close()
		}
	}()
	err := dispatch(ctx, cmd, args[1:], open, out)
	if errors.Is(err, flag.ErrHelp) {
		return nil // the flags were printed: asking for them is no failure
	}
	return err
}

// dispatch runs command cmd with its arguments args.
func dispatch(ctx context.Context, cmd string, args []string, open opener, out io.Writer) error {
	switch cmd {
	case "migrate":
		if _, err := open(); err != nil {
			return err
		}
		fmt.Fprintln(out, "migrations are current")
		return nil
	case "tenant create":
		return createTenant(ctx, open, args, out)
	case "tenant plan":
		tenant, plan, help, err := planFlags(args, out)
		if help || err != nil {
			return err
		}
		a, err := open()
		if err != nil {
			return err
		}
		return changePlan(ctx, a, tenant, plan, out)
	case "credits grant":
		return grantCredits(ctx, open, args, out)
	case "operator-key create":
		return createOperatorKey(ctx, open, args, out)
	case "user create":
		return createUser(ctx, open, args, os.Stdin, out)
	case "secrets rotate", "secrets check":
		return secretsCommand(ctx, open, cmd, args, out)
	case "demo":
		return runDemo(ctx, open, args, out)
	case "queue":
		return runQueue(open, args, out)
	case "models":
		return runModels(ctx, open, args, out)
	case "plans":
		return runPlans(ctx, open, args, out)
	case "packs":
		return runPacks(ctx, open, args, out)
	}
	fmt.Fprint(out, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// commandFlags is a command's flag set, printing its help and errors to
// out.
func commandFlags(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	return fs
}

func createTenant(ctx context.Context, open opener, args []string, out io.Writer) error {
	fs := commandFlags("tenant create", out)
	var req auth.NewTenantRequest
	fs.StringVar(&req.Name, "name", "", "tenant name (required)")
	fs.StringVar(&req.Slug, "slug", "", "tenant slug: lower-case letters, digits, hyphens (required)")
	fs.StringVar(&req.Plan, "plan", "starter", "plan: "+strings.Join(auth.Plans, ", "))
	fs.Int64Var(&req.Credits, "credits", 200, "opening credits")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := open()
	if err != nil {
		return err
	}
	t, err := auth.CreateTenant(ctx, a.Store, req)
	if err != nil {
		return err
	}
	if err := cliAudit(ctx, a, t.Tenant.ID, "tenant.create", fmt.Sprintf("tenant:%d", t.Tenant.ID)); err != nil {
		return err
	}
	fmt.Fprintf(out, "tenant %d %q (%s plan, %d credits)\nowner API key (shown once, keep it): %s\n",
		t.Tenant.ID, t.Tenant.Slug, t.Tenant.Plan, t.Tenant.CreditBalance, t.OwnerKey)
	return nil
}

func grantCredits(ctx context.Context, open opener, args []string, out io.Writer) error {
	fs := commandFlags("credits grant", out)
	tenant := fs.Int64("tenant", 0, "tenant id (required)")
	amount := fs.Int64("amount", 0, "credits to add (required, positive)")
	note := fs.String("note", "granted by an operator", "ledger note")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tenant <= 0 || *amount <= 0 {
		return errors.New("-tenant and -amount must be positive")
	}
	a, err := open()
	if err != nil {
		return err
	}
	balance, err := a.Store.GrantCredits(ctx, *tenant, *amount, *note)
	if err != nil {
		return err
	}
	if err := cliAudit(ctx, a, *tenant, "credits.grant", fmt.Sprintf("tenant:%d amount:%d", *tenant, *amount)); err != nil {
		return err
	}
	fmt.Fprintf(out, "tenant %d balance: %d\n", *tenant, balance)
	return nil
}

func createOperatorKey(ctx context.Context, open opener, args []string, out io.Writer) error {
	fs := commandFlags("operator-key create", out)
	name := fs.String("name", "operator", "key name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := open()
	if err != nil {
		return err
	}
	key, prefix, hash := auth.NewAPIKey()
	k, err := a.Store.CreateAPIKey(ctx, 0, "operator", *name, prefix, hash)
	if err != nil {
		return err
	}
	if err := cliAudit(ctx, a, 0, "operator_key.create", fmt.Sprintf("api_key:%d", k.ID)); err != nil {
		return err
	}
	fmt.Fprintf(out, "operator API key (shown once, keep it): %s\n", key)
	return nil
}

// cliAudit records an action of the command line in the audit log. The
// action is done already; a failure to record it is reported.
func cliAudit(ctx context.Context, a *app.App, tenantID int64, action, target string) error {
	err := a.Store.RecordAudit(ctx, store.AuditRecord{TenantID: tenantID, Actor: "cli", Action: action, Target: target})
	if err != nil {
		return fmt.Errorf("done, but the audit log write failed: %w", err)
	}
	return nil
}
