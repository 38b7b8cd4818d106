package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/store"
)

// modelsUsage is "presswork models help".
const modelsUsage = `usage: presswork models list|add|set|route [flags]

The model catalogue (#23), the same as /v1/admin/models and /v1/admin/routes.
A model is named by its id or as provider/model (-kind when the name has
more than one kind).

  models list                      the catalogue and every stage's route
  models add -provider P -model M -kind K -name N [price and limit flags]
  models set -model ID|P/M [-enable|-disable] [price and limit flags]
  models route -stage S -model ID|P/M [-fallbacks ID|P/M,...] [-on-throttle]
`

// runModels is "presswork models ...".
func runModels(ctx context.Context, open opener, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(out, modelsUsage)
		if len(args) == 0 {
			return errors.New("models: no subcommand given")
		}
		return nil
	}
	switch args[0] {
	case "list":
		fs := commandFlags("models list", out)
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		a, err := open()
		if err != nil {
			return err
		}
		return listModels(ctx, a, out)
	case "add", "set":
		return changeModel(ctx, open, args[0], args[1:], out)
	case "route":
		return routeStage(ctx, open, args[1:], out)
	}
	fmt.Fprint(out, modelsUsage)
	return fmt.Errorf("models: unknown subcommand %q", args[0])
}

func listModels(ctx context.Context, a *app.App, out io.Writer) error {
	ms, err := a.Store.ListModels(ctx)
	if err != nil {
		return err
	}
	routes, err := a.Store.ListRoutes(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tMODEL\tKIND\tENABLED\tIN $/M\tOUT $/M\t$/IMAGE\tBATCH IN/OUT\tCREDITS\tNAME")
	for _, m := range ms {
		fmt.Fprintf(w, "%d\t%s\t%s\t%t\t%g\t%g\t%g\t%g/%g\tx%g\t%s\n", m.ID, m.Name(), m.Kind, m.Enabled,
			m.PriceInputPerMTok, m.PriceOutputPerMTok, m.PricePerImage, m.BatchInputPrice(), m.BatchOutputPrice(),
			m.CreditMultiplier, m.DisplayName)
	}
	fmt.Fprintln(w, "\nSTAGE\tMODEL\tFALLBACKS\tON 429")
	for _, r := range routes {
		fmt.Fprintf(w, "%s\t%d\t%s\t%t\n", r.Stage, r.ModelID, joinIDs(r.FallbackIDs), r.FallbackOnThrottle)
	}
	return w.Flush()
}

func joinIDs(ids []int64) string {
	if len(ids) == 0 {
		return "-"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

// modelFlags are the flags of "models add" and "models set".
type modelFlags struct {
	fs                                        *flag.FlagSet
	ref, provider, kind, name, plans          string
	input, output, image, batchIn, batchOut   float64
	rpm, tpm                                  int
	multiplier                                float64
	structured, enable, disable, clearBatches bool
}

func newModelFlags(sub string, out io.Writer) *modelFlags {
	f := &modelFlags{fs: commandFlags("models "+sub, out)}
	fs := f.fs
	if sub == "add" {
		fs.StringVar(&f.provider, "provider", "", "provider: "+strings.Join(store.ModelProviders, ", ")+" (required)")
		fs.StringVar(&f.ref, "model", "", "the provider's model id or Azure deployment (required)")
		fs.StringVar(&f.kind, "kind", "", "kind: "+strings.Join(store.ModelKinds, ", ")+" (required)")
	} else {
		fs.StringVar(&f.ref, "model", "", "the model: its id or provider/model (required)")
		fs.StringVar(&f.kind, "kind", "", "the model's kind, when provider/model has more than one")
		fs.BoolVar(&f.enable, "enable", false, "enable the model")
		fs.BoolVar(&f.disable, "disable", false, "disable the model (refused while a stage's route uses it)")
		fs.BoolVar(&f.clearBatches, "half-price-batch", false, "forget the batch prices: batch calls cost half the standard prices")
	}
	fs.StringVar(&f.name, "name", "", "display name")
	fs.Float64Var(&f.input, "input", 0, "USD per million input tokens")
	fs.Float64Var(&f.output, "output", 0, "USD per million output tokens")
	fs.Float64Var(&f.image, "image", 0, "USD per image")
	fs.Float64Var(&f.batchIn, "batch-input", 0, "USD per million input tokens in batch mode (default: half of -input)")
	fs.Float64Var(&f.batchOut, "batch-output", 0, "USD per million output tokens in batch mode (default: half of -output)")
	fs.IntVar(&f.rpm, "rpm", 0, "requests per minute the provider allows (0: no limit)")
	fs.IntVar(&f.tpm, "tpm", 0, "tokens per minute the provider allows (0: no limit)")
	fs.Float64Var(&f.multiplier, "multiplier", 1, "credit multiplier of the jobs the model serves")
	fs.BoolVar(&f.structured, "structured", false, "the model takes a strict JSON schema")
	fs.StringVar(&f.plans, "plans", "", "comma-separated plans that may choose the model (empty: every plan)")
	return f
}

// fields turns the flags given into the change they ask for.
func (f *modelFlags) fields(create bool) store.ModelFields {
	var out store.ModelFields
	if create {
		out.Provider, out.Model, out.Kind = &f.provider, &f.ref, &f.kind
	}
	f.fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "name":
			out.DisplayName = &f.name
		case "input":
			out.PriceInputPerMTok = &f.input
		case "output":
			out.PriceOutputPerMTok = &f.output
		case "image":
			out.PricePerImage = &f.image
		case "batch-input":
			out.BatchPriceInputPerMTok = store.Null(&f.batchIn)
		case "batch-output":
			out.BatchPriceOutputPerMTok = store.Null(&f.batchOut)
		case "rpm":
			out.RPM = store.Null(positive(f.rpm))
		case "tpm":
			out.TPM = store.Null(positive(f.tpm))
		case "multiplier":
			out.CreditMultiplier = &f.multiplier
		case "structured":
			out.StructuredOutput = &f.structured
		case "plans":
			var ps *[]string
			if f.plans != "" {
				list := strings.Split(f.plans, ",")
				ps = &list
			}
			out.Plans = store.Null(ps)
		case "enable":
			out.Enabled = &f.enable
		case "disable":
			enabled := !f.disable
			out.Enabled = &enabled
		case "half-price-batch":
			out.BatchPriceInputPerMTok, out.BatchPriceOutputPerMTok = store.Null[float64](nil), store.Null[float64](nil)
		}
	})
	return out
}

// positive is n, or nil (no limit) for 0.
func positive(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

func changeModel(ctx context.Context, open opener, sub string, args []string, out io.Writer) error {
	f := newModelFlags(sub, out)
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	if f.fs.NArg() > 0 {
		return fmt.Errorf("models %s: unexpected argument %q", sub, f.fs.Arg(0))
	}
	if f.enable && f.disable {
		return errors.New("models set: -enable and -disable together")
	}
	fields := f.fields(sub == "add")
	if err := fields.Validate(sub == "add"); err != nil {
		return err
	}
	a, err := open()
	if err != nil {
		return err
	}
	var m store.AIModel
	action := "model.create"
	if sub == "add" {
		m, err = a.Store.CreateModel(ctx, fields)
	} else {
		var cur store.AIModel
		if cur, err = findModel(ctx, a, f.ref, f.kind); err == nil {
			m, err = a.Store.UpdateModel(ctx, cur.ID, fields)
		}
		action = "model.update"
		if fields.Enabled != nil {
			action = map[bool]string{true: "model.enable", false: "model.disable"}[*fields.Enabled]
		}
	}
	if err != nil {
		return err
	}
	if err := cliAudit(ctx, a, 0, action, fmt.Sprintf("model:%d %s (%s)", m.ID, m.Name(), m.Kind)); err != nil {
		return err
	}
	fmt.Fprintf(out, "model %d %s (%s) %q: enabled %t, $%g/$%g per million tokens, $%g per image, credits x%g\n",
		m.ID, m.Name(), m.Kind, m.DisplayName, m.Enabled, m.PriceInputPerMTok, m.PriceOutputPerMTok, m.PricePerImage,
		m.CreditMultiplier)
	return nil
}

// findModel finds a model by id or as provider/model.
func findModel(ctx context.Context, a *app.App, ref, kind string) (store.AIModel, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return a.Store.GetModel(ctx, id)
	}
	provider, model, ok := strings.Cut(ref, "/")
	if !ok || provider == "" || model == "" {
		return store.AIModel{}, fmt.Errorf("-model %q: name a model by its id or as provider/model", ref)
	}
	return a.Store.FindModel(ctx, provider, model, kind)
}

func routeStage(ctx context.Context, open opener, args []string, out io.Writer) error {
	fs := commandFlags("models route", out)
	stage := fs.String("stage", "", "the stage: "+strings.Join(store.ModelStages, ", ")+" (required)")
	ref := fs.String("model", "", "the stage's default model: its id or provider/model (required)")
	fallbacks := fs.String("fallbacks", "", "comma-separated fallback models, in order (empty: none)")
	onThrottle := fs.Bool("on-throttle", false, "fall back when the model is throttled (429) instead of waiting")
	if err := fs.Parse(args); err != nil {
		return err
	}
	kind, ok := store.StageKind(*stage)
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("models route: unexpected argument %q", fs.Arg(0))
	case !ok:
		return fmt.Errorf("-stage must be one of %s, not %q", strings.Join(store.ModelStages, ", "), *stage)
	case *ref == "":
		return errors.New("-model is required")
	}
	a, err := open()
	if err != nil {
		return err
	}
	r := store.StageRoute{Stage: *stage, FallbackOnThrottle: *onThrottle}
	m, err := findModel(ctx, a, *ref, kind)
	if err != nil {
		return err
	}
	r.ModelID = m.ID
	for _, fb := range strings.Split(*fallbacks, ",") {
		if fb = strings.TrimSpace(fb); fb == "" {
			continue
		}
		fm, err := findModel(ctx, a, fb, kind)
		if err != nil {
			return err
		}
		r.FallbackIDs = append(r.FallbackIDs, fm.ID)
	}
	rt, err := a.Store.SetRoute(ctx, r)
	if err != nil {
		return err
	}
	target := fmt.Sprintf("route:%s model:%d fallbacks:[%s] on_throttle:%t", rt.Stage, rt.ModelID,
		strings.Trim(joinIDs(rt.FallbackIDs), "-"), rt.FallbackOnThrottle)
	if err := cliAudit(ctx, a, 0, "route.set", target); err != nil {
		return err
	}
	fmt.Fprintf(out, "stage %s: model %d (%s), fallbacks %s, fall back on 429: %t\n", rt.Stage, rt.ModelID, m.Name(),
		joinIDs(rt.FallbackIDs), rt.FallbackOnThrottle)
	return nil
}
