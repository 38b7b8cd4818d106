package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/presswork/presswork/internal/errs"
)

// Model kinds: what a catalogue model does.
const (
	ModelKindChat       = "chat"
	ModelKindEmbeddings = "embeddings"
	ModelKindImage      = "image"
)

// ModelKinds are the kinds of ai_models.kind.
var ModelKinds = []string{ModelKindChat, ModelKindEmbeddings, ModelKindImage}

// ModelProviders are the providers of ai_models.provider.
var ModelProviders = []string{"openai", "azure", "anthropic", "gemini", "mistral", "xai", "replicate", "offline"}

// ModelStages are the stages a route serves, in pipeline order, and the
// kind of model each needs.
var ModelStages = []string{"cluster_name", "ideas", "draft", "image_prompt", "embeddings", "images"}

// StageEmbeddings is the stage whose models tenants may not choose: the
// vectors of two models are not mixed in one clustering.
const StageEmbeddings = "embeddings"

// StageKind returns the kind of model stage needs; false for no stage.
func StageKind(stage string) (string, bool) {
	switch stage {
	case "cluster_name", "ideas", "draft", "image_prompt":
		return ModelKindChat, true
	case StageEmbeddings:
		return ModelKindEmbeddings, true
	case "images":
		return ModelKindImage, true
	}
	return "", false
}

// modelPlans are the plans ai_models.plans may name (auth.Plans, which the
// store must not import).
var modelPlans = []string{"free", "starter", "pro", "agency"}

// Limits of a catalogue row's values.
const (
	maxModelPrice      = 10000 // USD per million tokens or per image
	maxCreditMultiple  = 100
	maxModelRateLimit  = 1 << 30
	maxModelNameLength = 200
	maxFallbacks       = 5 // models in a stage's fallback chain
)

// AIModel is one row of the model catalogue: a model of a provider for one
// kind of work, its prices and limits.
type AIModel struct {
	ID          int64  `json:"id"`
	Provider    string `json:"provider"`
	Model       string `json:"model"`
	Kind        string `json:"kind"`
	DisplayName string `json:"display_name"`
	Enabled     bool   `json:"enabled"`
	// Prices in USD: per million input and output tokens, per image.
	PriceInputPerMTok  float64 `json:"price_input_per_mtok"`
	PriceOutputPerMTok float64 `json:"price_output_per_mtok"`
	PricePerImage      float64 `json:"price_per_image"`
	// Batch prices per million tokens; nil means half the standard price.
	BatchPriceInputPerMTok  *float64 `json:"batch_price_input_per_mtok"`
	BatchPriceOutputPerMTok *float64 `json:"batch_price_output_per_mtok"`
	// RPM and TPM are the provider's limits; nil: none from the catalogue.
	RPM              *int      `json:"rpm"`
	TPM              *int      `json:"tpm"`
	StructuredOutput bool      `json:"structured_output"`
	CreditMultiplier float64   `json:"credit_multiplier"`
	Plans            []string  `json:"plans"` // the plans that may choose it; nil: every plan
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// Name is the model as "provider/model", the way the command line names it.
func (m AIModel) Name() string { return m.Provider + "/" + m.Model }

// ModelUsage is what one call (or one job) of a model used.
type ModelUsage struct {
	InputTokens  int64
	OutputTokens int64
	Images       int64
	// Batch is true for calls sent through a provider's Batch API.
	Batch bool
}

// CostUSD values u at the model's prices. Batch calls pay the batch token
// prices (half the standard ones unless the catalogue names others);
// images cost the same in either mode.
func (m AIModel) CostUSD(u ModelUsage) float64 {
	in, out := m.PriceInputPerMTok, m.PriceOutputPerMTok
	if u.Batch {
		in, out = m.BatchInputPrice(), m.BatchOutputPrice()
	}
	return (float64(u.InputTokens)*in+float64(u.OutputTokens)*out)/1e6 + float64(u.Images)*m.PricePerImage
}

// Credits is what work quoted at base credits costs when the model serves
// it: base times the credit multiplier, rounded up, and at least 1 when
// base is positive.
func (m AIModel) Credits(base int64) int64 {
	if base <= 0 {
		return base
	}
	mult := m.CreditMultiplier
	if mult <= 0 {
		mult = 1
	}
	// The multiplier has two decimals: round the product to them first, so
	// that 3 x 1.1 is 4 (3.3 up), not 4 by float error on an exact product.
	c := math.Ceil(math.Round(float64(base)*mult*100) / 100)
	return max(int64(c), 1)
}

// Batchable reports whether the Batch API can serve work the model serves
// (#23): a chat model of OpenAI or Azure OpenAI, the providers with a
// Batch API, which the server's key calls.
func (m AIModel) Batchable() bool {
	return m.Kind == ModelKindChat && (m.Provider == "openai" || m.Provider == "azure")
}

// BatchRatio is the model's batch price over its standard price: the
// batch token prices over the standard ones, input and output summed. A
// model priced at nothing (the offline ones) has half, the Batch API's
// usual discount.
func (m AIModel) BatchRatio() float64 {
	standard := m.PriceInputPerMTok + m.PriceOutputPerMTok
	if standard <= 0 {
		return 0.5
	}
	return (m.BatchInputPrice() + m.BatchOutputPrice()) / standard
}

// BatchCredits is what work quoted at base credits costs in batch mode
// when the model serves it: base times BatchRatio and the credit
// multiplier, rounded up, and at least 1 when base is positive.
func (m AIModel) BatchCredits(base int64) int64 {
	mult := m.CreditMultiplier
	if mult <= 0 {
		mult = 1
	}
	return batchCredits(base, m.BatchRatio()*mult)
}

// batchCredits is base times factor, rounded up (after rounding away
// float error at six decimals), and at least 1 when base is positive.
func batchCredits(base int64, factor float64) int64 {
	if base <= 0 {
		return base
	}
	c := math.Ceil(math.Round(float64(base)*factor*1e6) / 1e6)
	return max(int64(c), 1)
}

// BatchInputPrice is the batch price per million input tokens.
func (m AIModel) BatchInputPrice() float64 {
	if m.BatchPriceInputPerMTok != nil {
		return *m.BatchPriceInputPerMTok
	}
	return m.PriceInputPerMTok / 2
}

// BatchOutputPrice is the batch price per million output tokens.
func (m AIModel) BatchOutputPrice() float64 {
	if m.BatchPriceOutputPerMTok != nil {
		return *m.BatchPriceOutputPerMTok
	}
	return m.PriceOutputPerMTok / 2
}

// Nullable is the change of a column that may be NULL: Set false keeps
// it; Set with a nil Value clears it. In JSON, an absent field keeps and
// null clears.
type Nullable[T any] struct {
	Set   bool
	Value *T
}

// Null returns the change that sets v (nil: clears).
func Null[T any](v *T) Nullable[T] { return Nullable[T]{Set: true, Value: v} }

// UnmarshalJSON records that the field was sent; null clears it. A value
// of the wrong type is an error naming the field.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return &json.UnmarshalTypeError{Value: "value", Type: reflect.TypeFor[T]()}
	}
	n.Value = &v
	return nil
}

// ModelFields are the fields of a catalogue row to create or change (nil
// or unset: unchanged, or the column's default on create). Provider, Model
// and Kind are set on create only: a route chose the model for its kind.
type ModelFields struct {
	Provider                *string            `json:"provider"`
	Model                   *string            `json:"model"`
	Kind                    *string            `json:"kind"`
	DisplayName             *string            `json:"display_name"`
	Enabled                 *bool              `json:"enabled"`
	PriceInputPerMTok       *float64           `json:"price_input_per_mtok"`
	PriceOutputPerMTok      *float64           `json:"price_output_per_mtok"`
	PricePerImage           *float64           `json:"price_per_image"`
	BatchPriceInputPerMTok  Nullable[float64]  `json:"batch_price_input_per_mtok"`
	BatchPriceOutputPerMTok Nullable[float64]  `json:"batch_price_output_per_mtok"`
	RPM                     Nullable[int]      `json:"rpm"`
	TPM                     Nullable[int]      `json:"tpm"`
	StructuredOutput        *bool              `json:"structured_output"`
	CreditMultiplier        *float64           `json:"credit_multiplier"`
	Plans                   Nullable[[]string] `json:"plans"`
}

// Validate checks the fields of a create (all of provider, model and kind
// needed) or a change (none of them allowed), naming each field at fault.
func (f ModelFields) Validate(create bool) error {
	v := &errs.ValidationError{}
	if create {
		checkChoice(v, "provider", f.Provider, ModelProviders)
		checkChoice(v, "kind", f.Kind, ModelKinds)
		switch {
		case f.Model == nil:
			v.Add("model", "is required")
		case !validModelName(*f.Model):
			v.Add("model", "must be 1 to %d characters without spaces or control characters", maxModelNameLength)
		}
		if f.DisplayName == nil {
			v.Add("display_name", "is required")
		}
	} else {
		for i, p := range []*string{f.Provider, f.Model, f.Kind} {
			if p != nil {
				v.Add([]string{"provider", "model", "kind"}[i], "cannot be changed: add the model anew and route the stages to it")
			}
		}
	}
	if f.DisplayName != nil {
		v.CheckText("display_name", *f.DisplayName, 1, 100)
	}
	checkPrice(v, "price_input_per_mtok", f.PriceInputPerMTok)
	checkPrice(v, "price_output_per_mtok", f.PriceOutputPerMTok)
	checkPrice(v, "price_per_image", f.PricePerImage)
	checkPrice(v, "batch_price_input_per_mtok", f.BatchPriceInputPerMTok.Value)
	checkPrice(v, "batch_price_output_per_mtok", f.BatchPriceOutputPerMTok.Value)
	for i, n := range []*int{f.RPM.Value, f.TPM.Value} {
		if field := []string{"rpm", "tpm"}[i]; n != nil && (*n < 1 || *n > maxModelRateLimit) {
			v.Add(field, "must be a whole number from 1 to %d, or null for no limit", maxModelRateLimit)
		}
	}
	if m := f.CreditMultiplier; m != nil && (math.IsNaN(*m) || *m < 0.01 || *m > maxCreditMultiple) {
		v.Add("credit_multiplier", "must be a number from 0.01 to %d", maxCreditMultiple)
	}
	if f.Plans.Value != nil {
		for i, p := range *f.Plans.Value {
			if !slices.Contains(modelPlans, p) {
				v.Add(fmt.Sprintf("plans[%d]", i), "must be one of %s", strings.Join(modelPlans, ", "))
			}
		}
	}
	return v.OrNil()
}

func checkChoice(v *errs.ValidationError, field string, p *string, choices []string) {
	if p == nil || !slices.Contains(choices, *p) {
		v.Add(field, "must be one of %s", strings.Join(choices, ", "))
	}
}

func checkPrice(v *errs.ValidationError, field string, p *float64) {
	if p != nil && (math.IsNaN(*p) || *p < 0 || *p > maxModelPrice) {
		v.Add(field, "must be a price in US dollars from 0 to %d", maxModelPrice)
	}
}

// validModelName reports whether s can be a provider's model id (or an
// Azure deployment): 1 to 200 characters, no spaces or control characters.
func validModelName(s string) bool {
	return s != "" && len(s) <= maxModelNameLength && !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar
	})
}

const modelColumns = `id, provider, model, kind, display_name, enabled, price_input_per_mtok::float8,
	price_output_per_mtok::float8, price_per_image::float8, batch_price_input_per_mtok::float8,
	batch_price_output_per_mtok::float8, rpm, tpm, structured_output, credit_multiplier::float8, plans,
	created_at, updated_at`

func scanModel(r pgx.Row) (m AIModel, err error) {
	err = r.Scan(&m.ID, &m.Provider, &m.Model, &m.Kind, &m.DisplayName, &m.Enabled, &m.PriceInputPerMTok,
		&m.PriceOutputPerMTok, &m.PricePerImage, &m.BatchPriceInputPerMTok, &m.BatchPriceOutputPerMTok,
		&m.RPM, &m.TPM, &m.StructuredOutput, &m.CreditMultiplier, &m.Plans, &m.CreatedAt, &m.UpdatedAt)
	return m, err
}

// noModel is the answer for a model id the catalogue does not hold.
func noModel(err error, id int64) error {
	if errors.Is(err, errs.ErrNotFound) {
		return errs.Public(err, "no model %d in the catalogue", id)
	}
	return err
}

// ListModels returns the whole catalogue, by kind, provider and model.
func (s *Store) ListModels(ctx context.Context) ([]AIModel, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+modelColumns+` FROM ai_models ORDER BY kind, provider, model`)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanModel)
}

// GetModel returns one catalogue row; errs.ErrNotFound when there is none.
func (s *Store) GetModel(ctx context.Context, id int64) (AIModel, error) {
	m, err := scanModel(s.pool.QueryRow(ctx, `SELECT `+modelColumns+` FROM ai_models WHERE id = $1`, id))
	return m, noModel(translate(err), id)
}

// FindModel returns the model of provider named model; kind "" matches any
// kind, and is errs.ErrConflict when the name has more than one.
func (s *Store) FindModel(ctx context.Context, provider, model, kind string) (AIModel, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+modelColumns+` FROM ai_models
		WHERE provider = $1 AND model = $2 AND ($3 = '' OR kind = $3) ORDER BY kind`, provider, model, kind)
	if err != nil {
		return AIModel{}, translate(err)
	}
	ms, err := collect(rows, scanModel)
	switch {
	case err != nil:
		return AIModel{}, err
	case len(ms) == 0:
		return AIModel{}, errs.Public(errs.ErrNotFound, "no model %s/%s in the catalogue", provider, model)
	case len(ms) > 1:
		return AIModel{}, errs.Public(errs.ErrConflict, "%s/%s is in the catalogue as %s and %s: name the kind",
			provider, model, ms[0].Kind, ms[1].Kind)
	}
	return ms[0], nil
}

// CreateModel adds a model to the catalogue after f.Validate(true). A
// provider, model and kind already there is errs.ErrConflict.
func (s *Store) CreateModel(ctx context.Context, f ModelFields) (AIModel, error) {
	if err := f.Validate(true); err != nil {
		return AIModel{}, err
	}
	m, err := scanModel(s.pool.QueryRow(ctx, `
		INSERT INTO ai_models (provider, model, kind, display_name, enabled, price_input_per_mtok,
		    price_output_per_mtok, price_per_image, batch_price_input_per_mtok, batch_price_output_per_mtok,
		    rpm, tpm, structured_output, credit_multiplier, plans)
		VALUES ($1, $2, $3, $4, coalesce($5::boolean, true), coalesce($6::numeric, 0), coalesce($7::numeric, 0),
		    coalesce($8::numeric, 0), $9, $10, $11, $12, coalesce($13::boolean, false), coalesce($14::numeric, 1), $15)
		RETURNING `+modelColumns,
		*f.Provider, *f.Model, *f.Kind, strings.TrimSpace(*f.DisplayName), f.Enabled, f.PriceInputPerMTok,
		f.PriceOutputPerMTok, f.PricePerImage, f.BatchPriceInputPerMTok.Value, f.BatchPriceOutputPerMTok.Value,
		f.RPM.Value, f.TPM.Value, f.StructuredOutput, f.CreditMultiplier, plansValue(f.Plans)))
	if err = translate(err); errors.Is(err, errs.ErrConflict) {
		return AIModel{}, errs.Public(err, "%s/%s (%s) is in the catalogue already", *f.Provider, *f.Model, *f.Kind)
	}
	return m, err
}

// plansValue is the plans column's value of a change: nil (NULL) for every
// plan.
func plansValue(p Nullable[[]string]) []string {
	if p.Value == nil {
		return nil
	}
	return append([]string{}, *p.Value...)
}

// UpdateModel changes a catalogue row after f.Validate(false). Disabling
// the default model of a stage's route is errs.ErrConflict naming the
// stage; tenants' choices of a disabled model are kept but not served.
func (s *Store) UpdateModel(ctx context.Context, id int64, f ModelFields) (AIModel, error) {
	if err := f.Validate(false); err != nil {
		return AIModel{}, err
	}
	var m AIModel
	err := s.transact(ctx, func(tx pgx.Tx) error {
		if _, err := lockModel(ctx, tx, id, "FOR UPDATE"); err != nil {
			return err
		}
		if f.Enabled != nil && !*f.Enabled {
			if stage, err := routeUsing(ctx, tx, id, false); err != nil || stage != "" {
				return usedBy(err, id, stage, "disabled")
			}
		}
		var err error
		m, err = scanModel(tx.QueryRow(ctx, `
			UPDATE ai_models SET display_name = coalesce($2, display_name), enabled = coalesce($3, enabled),
			    price_input_per_mtok = coalesce($4, price_input_per_mtok),
			    price_output_per_mtok = coalesce($5, price_output_per_mtok),
			    price_per_image = coalesce($6, price_per_image),
			    batch_price_input_per_mtok = CASE WHEN $7 THEN $8 ELSE batch_price_input_per_mtok END,
			    batch_price_output_per_mtok = CASE WHEN $9 THEN $10 ELSE batch_price_output_per_mtok END,
			    rpm = CASE WHEN $11 THEN $12 ELSE rpm END, tpm = CASE WHEN $13 THEN $14 ELSE tpm END,
			    structured_output = coalesce($15, structured_output),
			    credit_multiplier = coalesce($16, credit_multiplier),
			    plans = CASE WHEN $17 THEN $18 ELSE plans END, updated_at = now()
			WHERE id = $1 RETURNING `+modelColumns,
			id, trimmed(f.DisplayName), f.Enabled, f.PriceInputPerMTok, f.PriceOutputPerMTok, f.PricePerImage,
			f.BatchPriceInputPerMTok.Set, f.BatchPriceInputPerMTok.Value, f.BatchPriceOutputPerMTok.Set,
			f.BatchPriceOutputPerMTok.Value, f.RPM.Set, f.RPM.Value, f.TPM.Set, f.TPM.Value, f.StructuredOutput,
			f.CreditMultiplier, f.Plans.Set, plansValue(f.Plans)))
		return err
	})
	return m, noModel(err, id)
}

func trimmed(p *string) *string {
	if p == nil {
		return nil
	}
	t := strings.TrimSpace(*p)
	return &t
}

// DeleteModel removes a model from the catalogue, and the tenants' choices
// of it. A model a route names, as its default or a fallback, is
// errs.ErrConflict naming the stage.
func (s *Store) DeleteModel(ctx context.Context, id int64) error {
	err := s.transact(ctx, func(tx pgx.Tx) error {
		if _, err := lockModel(ctx, tx, id, "FOR UPDATE"); err != nil {
			return err
		}
		if stage, err := routeUsing(ctx, tx, id, true); err != nil || stage != "" {
			return usedBy(err, id, stage, "deleted")
		}
		_, err := tx.Exec(ctx, `DELETE FROM ai_models WHERE id = $1`, id)
		return err
	})
	return noModel(err, id)
}

// lockModel locks a model's row (lock: "FOR UPDATE" or "FOR SHARE") and
// returns it.
func lockModel(ctx context.Context, tx pgx.Tx, id int64, lock string) (AIModel, error) {
	m, err := scanModel(tx.QueryRow(ctx, `SELECT `+modelColumns+` FROM ai_models WHERE id = $1 `+lock, id))
	return m, translate(err)
}

// routeUsing returns the first stage whose route names model id as its
// default (or, with fallbacks, in its fallback chain); "" for none.
func routeUsing(ctx context.Context, tx pgx.Tx, id int64, fallbacks bool) (string, error) {
	var stage string
	err := tx.QueryRow(ctx, `SELECT stage FROM ai_stage_routes
		WHERE model_id = $1 OR ($2 AND $1 = ANY(fallback_ids)) ORDER BY stage LIMIT 1`, id, fallbacks).Scan(&stage)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return stage, translate(err)
}

func usedBy(err error, id int64, stage, what string) error {
	if err != nil {
		return err
	}
	return errs.Public(errs.ErrConflict, "model %d is used by the route of the %s stage: route the stage to another model before it is %s",
		id, stage, what)
}

// StageRoute is the operator's choice for one stage: its default model and
// the fallbacks tried in order when that one's provider fails.
type StageRoute struct {
	Stage       string  `json:"stage"`
	ModelID     int64   `json:"model_id"`
	FallbackIDs []int64 `json:"fallback_ids"`
	// FallbackOnThrottle sends the work to the fallbacks when the model is
	// throttled (429), instead of waiting for its limit.
	FallbackOnThrottle bool `json:"fallback_on_throttle"`
	// OperatorSet is true once an operator set the route. A seeded route
	// leaves the stage to the worker's environment (its own models, else
	// the offline model the route names).
	OperatorSet bool      `json:"operator_set"`
	UpdatedAt   time.Time `json:"updated_at"`
}

const routeColumns = `stage, model_id, fallback_ids, fallback_on_throttle, operator_set, updated_at`

func scanRoute(r pgx.Row) (rt StageRoute, err error) {
	err = r.Scan(&rt.Stage, &rt.ModelID, &rt.FallbackIDs, &rt.FallbackOnThrottle, &rt.OperatorSet, &rt.UpdatedAt)
	return rt, err
}

// ListRoutes returns every stage's route, in pipeline order.
func (s *Store) ListRoutes(ctx context.Context) ([]StageRoute, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+routeColumns+` FROM ai_stage_routes
		ORDER BY array_position($1::text[], stage)`, ModelStages)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanRoute)
}

// GetRoute returns a stage's route; errs.ErrNotFound for no route.
func (s *Store) GetRoute(ctx context.Context, stage string) (StageRoute, error) {
	rt, err := scanRoute(s.pool.QueryRow(ctx, `SELECT `+routeColumns+` FROM ai_stage_routes WHERE stage = $1`, stage))
	if err = translate(err); errors.Is(err, errs.ErrNotFound) {
		return rt, errs.Public(err, "no route for the stage %q", stage)
	}
	return rt, err
}

// SetRoute sets a stage's route. The default model and every fallback
// must be enabled models of the kind the stage needs, the fallbacks
// distinct and not the default; an embeddings fallback must be the same
// model as the default (another provider serving it). Problems are an
// *errs.ValidationError naming model_id or fallback_ids[i].
func (s *Store) SetRoute(ctx context.Context, r StageRoute) (StageRoute, error) {
	kind, ok := StageKind(r.Stage)
	if !ok {
		return StageRoute{}, errs.Public(errs.ErrNotFound, "no stage %q (stages: %s)", r.Stage, strings.Join(ModelStages, ", "))
	}
	if r.FallbackIDs == nil {
		r.FallbackIDs = []int64{}
	}
	var out StageRoute
	err := s.transact(ctx, func(tx pgx.Tx) error {
		if err := checkRoute(ctx, tx, r, kind); err != nil {
			return err
		}
		var err error
		out, err = scanRoute(tx.QueryRow(ctx, `
			INSERT INTO ai_stage_routes (stage, model_id, fallback_ids, fallback_on_throttle, operator_set)
			VALUES ($1, $2, $3, $4, true)
			ON CONFLICT (stage) DO UPDATE SET model_id = excluded.model_id, fallback_ids = excluded.fallback_ids,
			    fallback_on_throttle = excluded.fallback_on_throttle, operator_set = true, updated_at = now()
			RETURNING `+routeColumns, r.Stage, r.ModelID, r.FallbackIDs, r.FallbackOnThrottle))
		return err
	})
	return out, err
}

// checkRoute checks r's models under a share lock, so that none is deleted
// or disabled before the route is written.
func checkRoute(ctx context.Context, tx pgx.Tx, r StageRoute, kind string) error {
	v := &errs.ValidationError{}
	if len(r.FallbackIDs) > maxFallbacks {
		return v.Add("fallback_ids", "may name at most %d models", maxFallbacks)
	}
	primary, ok, err := routeModel(ctx, tx, v, "model_id", r.ModelID, kind)
	if err != nil {
		return err
	}
	for i, id := range r.FallbackIDs {
		field := fmt.Sprintf("fallback_ids[%d]", i)
		if id == r.ModelID || slices.Contains(r.FallbackIDs[:i], id) {
			v.Add(field, "names model %d again; each model once", id)
			continue
		}
		fb, fok, err := routeModel(ctx, tx, v, field, id, kind)
		if err != nil {
			return err
		}
		if fok && ok && kind == ModelKindEmbeddings && fb.Model != primary.Model {
			v.Add(field, "is %s, but an embeddings fallback must be the same model (%s) from another provider: "+
				"vectors of two models are not mixed", fb.Name(), primary.Model)
		}
	}
	return v.OrNil()
}

// routeModel locks and checks one model of a route, adding its problems to
// v under field; ok reports whether it can serve.
func routeModel(ctx context.Context, tx pgx.Tx, v *errs.ValidationError, field string, id int64, kind string) (AIModel, bool, error) {
	m, err := lockModel(ctx, tx, id, "FOR SHARE")
	switch {
	case errors.Is(err, errs.ErrNotFound):
		v.Add(field, "names no model of the catalogue (%d)", id)
		return m, false, nil
	case err != nil:
		return m, false, err
	case m.Kind != kind:
		v.Add(field, "is %s, a %s model; this stage needs a %s model", m.Name(), m.Kind, kind)
	case !m.Enabled:
		v.Add(field, "is %s, which is disabled; enable it first", m.Name())
	default:
		return m, true, nil
	}
	return m, false, nil
}

// TenantChoice is a tenant's choice of model for one stage.
type TenantChoice struct {
	Stage   string `json:"stage"`
	ModelID int64  `json:"model_id"`
}

// TenantModels returns the enabled models a tenant may choose: those its
// plan allows, of every kind but embeddings (see StageEmbeddings).
func (s *Store) TenantModels(ctx context.Context, tenantID int64) ([]AIModel, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+modelColumns+` FROM ai_models m
		WHERE m.enabled AND m.kind <> 'embeddings' AND (m.plans IS NULL OR
		    (SELECT plan FROM tenants WHERE id = $1) = ANY(m.plans))
		ORDER BY kind, provider, model`, tenantID)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, scanModel)
}

// TenantChoices returns a tenant's choices of model, in pipeline order.
func (s *Store) TenantChoices(ctx context.Context, tenantID int64) ([]TenantChoice, error) {
	rows, err := s.pool.Query(ctx, `SELECT stage, model_id FROM tenant_stage_models WHERE tenant_id = $1
		ORDER BY array_position($2::text[], stage)`, tenantID, ModelStages)
	if err != nil {
		return nil, translate(err)
	}
	return collect(rows, func(r pgx.Row) (c TenantChoice, err error) {
		err = r.Scan(&c.Stage, &c.ModelID)
		return c, err
	})
}

// SetTenantChoices replaces a tenant's choices of model: a stage it does
// not name is served by the operator's route again. Each model must be an
// enabled model of the stage's kind that the tenant's plan allows; the
// embeddings stage is the operator's alone. Problems are an
// *errs.ValidationError naming the stage.
func (s *Store) SetTenantChoices(ctx context.Context, tenantID int64, choices []TenantChoice) ([]TenantChoice, error) {
	err := s.transact(ctx, func(tx pgx.Tx) error {
		var plan string
		if err := tx.QueryRow(ctx, `SELECT plan FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, tenantID).Scan(&plan); err != nil {
			return fmt.Errorf("tenant %d: %w", tenantID, translate(err))
		}
		if err := checkChoices(ctx, tx, plan, choices); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM tenant_stage_models WHERE tenant_id = $1`, tenantID); err != nil {
			return err
		}
		for _, c := range choices {
			if _, err := tx.Exec(ctx, `INSERT INTO tenant_stage_models (tenant_id, stage, model_id) VALUES ($1, $2, $3)`,
				tenantID, c.Stage, c.ModelID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.TenantChoices(ctx, tenantID)
}

func checkChoices(ctx context.Context, tx pgx.Tx, plan string, choices []TenantChoice) error {
	v := &errs.ValidationError{}
	seen := map[string]bool{}
	for _, c := range choices {
		kind, ok := StageKind(c.Stage)
		switch {
		case !ok:
			v.Add(c.Stage, "is not a stage (stages: %s)", strings.Join(ModelStages, ", "))
			continue
		case c.Stage == StageEmbeddings:
			v.Add(c.Stage, "is chosen by the operator only: the vectors of two models are not mixed in one clustering")
			continue
		case seen[c.Stage]:
			v.Add(c.Stage, "is named twice")
			continue
		}
		seen[c.Stage] = true
		m, ok, err := routeModel(ctx, tx, v, c.Stage, c.ModelID, kind)
		if err != nil {
			return err
		}
		if ok && m.Plans != nil && !slices.Contains(m.Plans, plan) {
			v.Add(c.Stage, "is %s, which the %s plan may not use", m.Name(), plan)
		}
	}
	return v.OrNil()
}

// StageChain is what serves a stage for a tenant: Models[0] first, then
// the fallbacks in order, each with its prices and credit multiplier.
type StageChain struct {
	Stage  string    `json:"stage"`
	Models []AIModel `json:"models"`
	// TenantChoice is true when Models[0] is the tenant's own choice
	// rather than the operator's default.
	TenantChoice       bool `json:"tenant_choice"`
	FallbackOnThrottle bool `json:"fallback_on_throttle"`
	// Routed is true when the chain decides the stage's model: the tenant
	// chose one or an operator set the route. Otherwise the worker's
	// environment serves the stage (a seeded route).
	Routed bool `json:"routed"`
}

// StageChainFor returns the models that serve stage for tenantID (0: the
// operator's defaults): the tenant's choice when it has one that is still
// enabled and allowed by its plan, else the route's default; then the
// route's enabled fallbacks, in order. A stage with no route is
// errs.ErrNotFound.
func (s *Store) StageChainFor(ctx context.Context, tenantID int64, stage string) (StageChain, error) {
	rt, choice, err := s.stageRoute(ctx, tenantID, stage)
	if err != nil {
		return StageChain{}, err
	}
	return s.chainOf(ctx, rt, choice)
}

// RoutedChainFor is StageChainFor for a worker about to serve the stage:
// ok is false, after one statement, when the stage is left to the
// worker's own models (no tenant choice, a seeded route) or has no route
// or no model.
func (s *Store) RoutedChainFor(ctx context.Context, tenantID int64, stage string) (chain StageChain, ok bool, err error) {
	chains, err := s.RoutedChainsFor(ctx, tenantID, []string{stage})
	chain, ok = chains[stage]
	return chain, ok, err
}

// routesWithChoice reads routes (alias r) with tenant $1's choice for
// each, when the chosen model is still enabled and allowed by the
// tenant's plan; the caller adds the WHERE clause on r.stage.
const routesWithChoice = `SELECT r.stage, r.model_id, r.fallback_ids, r.fallback_on_throttle, r.operator_set, r.updated_at,
	(SELECT c.model_id FROM tenant_stage_models c
		JOIN ai_models m ON m.id = c.model_id JOIN tenants t ON t.id = c.tenant_id
		WHERE c.tenant_id = $1 AND c.stage = r.stage AND m.enabled AND (m.plans IS NULL OR t.plan = ANY(m.plans)))
	FROM ai_stage_routes r`

// RoutedChainsFor is RoutedChainFor for several stages at once (a job's
// text stage and its embeddings), in one statement when none is routed:
// the chains of the routed stages, by stage. A job reads them from the
// configuration cache.
func (s *Store) RoutedChainsFor(ctx context.Context, tenantID int64, stages []string) (map[string]StageChain, error) {
	key := configKey{read: "routes", tenantID: tenantID, text: strings.Join(stages, ",")}
	return cachedConfig(ctx, &s.config, key, func() (map[string]StageChain, error) {
		return s.routedChainsFor(ctx, tenantID, stages)
	}, maps.Clone)
}

func (s *Store) routedChainsFor(ctx context.Context, tenantID int64, stages []string) (map[string]StageChain, error) {
	rows, err := s.pool.Query(ctx, routesWithChoice+` WHERE r.stage = ANY($2)`, tenantID, stages)
	if err != nil {
		return nil, translate(err)
	}
	type routeChoice struct {
		rt     StageRoute
		choice *int64
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rc routeChoice, err error) {
		err = r.Scan(&rc.rt.Stage, &rc.rt.ModelID, &rc.rt.FallbackIDs, &rc.rt.FallbackOnThrottle, &rc.rt.OperatorSet,
			&rc.rt.UpdatedAt, &rc.choice)
		return rc, err
	})
	if err != nil {
		return nil, translate(err)
	}
	chains := map[string]StageChain{}
	for _, rc := range found {
		if rc.choice == nil && !rc.rt.OperatorSet {
			continue
		}
		chain, err := s.chainOf(ctx, rc.rt, rc.choice)
		if errors.Is(err, errs.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		chains[rc.rt.Stage] = chain
	}
	return chains, nil
}

// stageRoute reads a stage's route and tenantID's choice for it, when the
// chosen model is still enabled and allowed by the tenant's plan, in one
// statement.
func (s *Store) stageRoute(ctx context.Context, tenantID int64, stage string) (StageRoute, *int64, error) {
	var rt StageRoute
	var choice *int64
	err := s.pool.QueryRow(ctx, routesWithChoice+` WHERE r.stage = $2`, tenantID, stage).
		Scan(&rt.Stage, &rt.ModelID, &rt.FallbackIDs, &rt.FallbackOnThrottle, &rt.OperatorSet, &rt.UpdatedAt, &choice)
	if err = translate(err); errors.Is(err, errs.ErrNotFound) {
		return rt, nil, errs.Public(err, "no route for the stage %q", stage)
	}
	return rt, choice, err
}

// chainOf reads the models of a route and a tenant's choice (nil: none),
// in order: the choice or the route's default, then the route's enabled
// fallbacks.
func (s *Store) chainOf(ctx context.Context, rt StageRoute, choice *int64) (StageChain, error) {
	chain := StageChain{Stage: rt.Stage, FallbackOnThrottle: rt.FallbackOnThrottle, TenantChoice: choice != nil,
		Routed: choice != nil || rt.OperatorSet}
	first := rt.ModelID
	if choice != nil {
		first = *choice
	}
	ids := append([]int64{first}, rt.FallbackIDs...)
	rows, err := s.pool.Query(ctx, `SELECT `+modelColumns+` FROM ai_models WHERE id = ANY($1)`, ids)
	if err != nil {
		return StageChain{}, translate(err)
	}
	ms, err := collect(rows, scanModel)
	if err != nil {
		return StageChain{}, err
	}
	for i, id := range ids {
		j := slices.IndexFunc(ms, func(m AIModel) bool { return m.ID == id })
		if j < 0 || (i > 0 && (!ms[j].Enabled || id == first)) {
			continue
		}
		chain.Models = append(chain.Models, ms[j])
	}
	if len(chain.Models) == 0 {
		return StageChain{}, errs.Public(errs.ErrNotFound, "the route of the %s stage names no model", rt.Stage)
	}
	return chain, nil
}

// RoutedModel returns the model that serves tenantID's stage first when
// the catalogue routes it (the tenant's choice or an operator's route);
// nil when the stage is left to the worker's own models or has no route.
func (s *Store) RoutedModel(ctx context.Context, tenantID int64, stage string) (*AIModel, error) {
	chain, ok, err := s.RoutedChainFor(ctx, tenantID, stage)
	if err != nil || !ok {
		return nil, err
	}
	return &chain.Models[0], nil
}

// StageCredits returns what work quoted at base credits costs tenantID in
// stage: base times the credit multiplier of its RoutedModel, base when
// there is none.
func (s *Store) StageCredits(ctx context.Context, tenantID int64, stage string, base int64) (int64, error) {
	m, err := s.RoutedModel(ctx, tenantID, stage)
	if err != nil || m == nil {
		return base, err
	}
	return m.Credits(base), nil
}

// BatchStageCredits is StageCredits for work sent in batch mode (#23): base
// times the batch over the standard price of tenantID's RoutedModel for
// stage, and its credit multiplier; half of base when the catalogue does
// not route the stage (the worker's own model serves it, at the Batch
// API's usual half price). Rounded up, at least 1.
func (s *Store) BatchStageCredits(ctx context.Context, tenantID int64, stage string, base int64) (int64, error) {
	m, err := s.RoutedModel(ctx, tenantID, stage)
	if err != nil {
		return 0, err
	}
	if m == nil {
		return batchCredits(base, 0.5), nil
	}
	return m.BatchCredits(base), nil
}
