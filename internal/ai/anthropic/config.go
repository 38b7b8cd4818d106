package anthropic

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/presswork/presswork/internal/ai"
	"github.com/presswork/presswork/internal/secret"
)

// Defaults of the configuration.
const (
	DefaultBaseURL = "https://api.anthropic.com"
	DefaultModel   = "claude-haiku-4-5"
	DefaultTimeout = 120 * time.Second
	// DefaultMaxTokens is the max_tokens of a request that names none: the
	// Messages API requires one.
	DefaultMaxTokens = 8192
)

// stageModelVars maps the stages to the variables that choose their models.
var stageModelVars = []struct {
	stage ai.Stage
	name  string
}{
	{ai.StageClusterName, "ANTHROPIC_MODEL_CLUSTER_NAME"},
	{ai.StageIdeas, "ANTHROPIC_MODEL_IDEAS"},
	{ai.StageDraft, "ANTHROPIC_MODEL_DRAFT"},
	{ai.StageImagePrompt, "ANTHROPIC_MODEL_IMAGE_PROMPT"},
}

// Secret is a provider key: it prints, logs and marshals as "[redacted]"
// (secret.Text).
type Secret = secret.Text

// redacted is what a Secret shows.
const redacted = secret.Redacted

// Config configures the provider. ConfigFromEnv fills it from the
// environment; tests may build one directly.
type Config struct {
	APIKey Secret
	// BaseURL is the API without its /v1 path; "" means DefaultBaseURL.
	BaseURL string

	// Model serves every stage that StageModels does not name.
	Model       string
	StageModels map[ai.Stage]string

	// StrictTools sends the answer's tool with strict: true, so that the
	// API constrains the answer to the schema (models that support it).
	StrictTools bool

	// Timeout bounds each HTTP request, from sending it to reading the answer.
	Timeout time.Duration
	// Prices values the tokens; nil means DefaultPrices.
	Prices Prices
}

// DefaultConfig returns the configuration ConfigFromEnv starts from: the
// Anthropic API with key, the default model, timeout and prices.
func DefaultConfig(key Secret) Config {
	return Config{
		APIKey:      key,
		BaseURL:     DefaultBaseURL,
		Model:       DefaultModel,
		StageModels: map[ai.Stage]string{},
		Timeout:     DefaultTimeout,
		Prices:      DefaultPrices(),
	}
}

// ConfigFromEnv reads the configuration from the variables described in the
// package comment. ok is false when ANTHROPIC_API_KEY is unset or empty; the
// other variables are then ignored. Errors name the variable at fault and
// never contain the key.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	key := get("ANTHROPIC_API_KEY")
	if key == "" {
		return Config{}, false, nil
	}
	cfg = DefaultConfig(Secret(key))
	var problems []error
	bad := func(name, format string, args ...any) {
		problems = append(problems, fmt.Errorf(name+": "+format, args...))
	}
	if v := get("ANTHROPIC_BASE_URL"); v != "" {
		cfg.BaseURL = v
	}
	if v := get("ANTHROPIC_MODEL"); v != "" {
		cfg.Model = v
	}
	for _, sv := range stageModelVars {
		if v := get(sv.name); v != "" {
			cfg.StageModels[sv.stage] = v
		}
	}
	if v := get("ANTHROPIC_STRICT_TOOLS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("ANTHROPIC_STRICT_TOOLS", "%q is not true or false", v)
		}
		cfg.StrictTools = b
	}
	if v := get("ANTHROPIC_TIMEOUT"); v != "" {
		d, err := parseTimeout(v)
		if err != nil {
			bad("ANTHROPIC_TIMEOUT", "%v", err)
		}
		cfg.Timeout = d
	}
	if v := get("ANTHROPIC_PRICES"); v != "" {
		p, err := ParsePrices(v)
		if err != nil {
			bad("ANTHROPIC_PRICES", "%v", err)
		}
		for model, price := range p {
			cfg.Prices[model] = price
		}
	}
	if len(problems) == 0 {
		if err := cfg.Validate(); err != nil {
			problems = append(problems, err)
		}
	}
	if len(problems) > 0 {
		return Config{}, true, fmt.Errorf("anthropic config: %w", errors.Join(problems...))
	}
	return cfg, true, nil
}

// Validate checks a configuration; NewTextModel calls it. Errors name the
// variable that sets the field.
func (c Config) Validate() error {
	var problems []error
	bad := func(name, format string, args ...any) {
		problems = append(problems, fmt.Errorf(name+": "+format, args...))
	}
	if c.APIKey == "" {
		bad("ANTHROPIC_API_KEY", "is empty")
	} else if strings.IndexFunc(string(c.APIKey), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}) >= 0 {
		bad("ANTHROPIC_API_KEY", "contains spaces or control characters")
	}
	if err := checkURL(c.baseURL()); err != nil {
		bad("ANTHROPIC_BASE_URL", "%v", err)
	}
	if c.Model == "" {
		bad("ANTHROPIC_MODEL", "is empty")
	}
	if c.Timeout <= 0 {
		bad("ANTHROPIC_TIMEOUT", "must be positive, got %s", c.Timeout)
	}
	if len(problems) > 0 {
		return errors.Join(problems...)
	}
	return nil
}

// ModelFor returns the model that serves stage.
func (c Config) ModelFor(stage ai.Stage) string {
	if m := c.StageModels[stage]; m != "" {
		return m
	}
	return c.Model
}

// Models returns every configured model, sorted and without duplicates.
func (c Config) Models() []string {
	set := map[string]bool{c.Model: true}
	for _, m := range c.StageModels {
		set[m] = true
	}
	out := make([]string, 0, len(set))
	for m := range set {
		if m != "" {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

// UnpricedModels returns the configured models that the price table does not
// value; their calls cost 0. Apps log them at start.
func (c Config) UnpricedModels() []string {
	var out []string
	for _, m := range c.Models() {
		if _, ok := c.prices().Lookup(m); !ok {
			out = append(out, m)
		}
	}
	return out
}

func (c Config) prices() Prices {
	if c.Prices == nil {
		return DefaultPrices()
	}
	return c.Prices
}

func (c Config) baseURL() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return c.BaseURL
}

// LogValue logs the configuration with the key masked.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.Any("api_key", c.APIKey),
		slog.String("base_url", c.baseURL()),
		slog.String("model", c.Model),
	}
	for _, sv := range stageModelVars {
		attrs = append(attrs, slog.String("model_"+string(sv.stage), c.ModelFor(sv.stage)))
	}
	attrs = append(attrs, slog.Bool("strict_tools", c.StrictTools), slog.Duration("timeout", c.Timeout))
	return slog.GroupValue(attrs...)
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	if u.User != nil {
		return errors.New("must not contain credentials")
	}
	return nil
}

func parseTimeout(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration like 120s", s)
	}
	return d, nil
}

// ---------------------------------------------------------------------------
// Prices

// Price is what a model charges, in USD per million tokens: input and
// output tokens, and the input tokens written to the prompt cache and read
// from it.
type Price struct {
	InputPerMillion      float64
	OutputPerMillion     float64
	CacheWritePerMillion float64
	CacheReadPerMillion  float64
}

// Prices maps model names to prices.
type Prices map[string]Price

// DefaultPrices returns the built-in price table: Anthropic's list prices,
// with the 5-minute cache write at 1.25 times the input price and the cache
// read at a tenth of it.
func DefaultPrices() Prices {
	return Prices{
		"claude-haiku-4-5":  {1, 5, 1.25, 0.10},
		"claude-sonnet-4-6": {3, 15, 3.75, 0.30},
		"claude-sonnet-4-5": {3, 15, 3.75, 0.30},
		"claude-sonnet-4-0": {3, 15, 3.75, 0.30},
		"claude-sonnet-4":   {3, 15, 3.75, 0.30},
		"claude-opus-4-6":   {5, 25, 6.25, 0.50},
		"claude-opus-4-5":   {5, 25, 6.25, 0.50},
		"claude-opus-4-1":   {15, 75, 18.75, 1.50},
		"claude-3-5-haiku":  {0.80, 4, 1, 0.08},
	}
}

// ParsePrices parses the ANTHROPIC_PRICES format described in the package
// comment: model=input/output[/cache_write/cache_read].
func ParsePrices(s string) (Prices, error) {
	p := Prices{}
	for _, entry := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		model, value, found := strings.Cut(entry, "=")
		model = strings.TrimSpace(model)
		parts := strings.Split(value, "/")
		if !found || model == "" || (len(parts) != 2 && len(parts) != 4) {
			return nil, fmt.Errorf("entry %q is not model=input/output or model=input/output/cache_write/cache_read", entry)
		}
		var v [4]float64
		for i, part := range parts {
			n, err := parsePrice(part)
			if err != nil {
				return nil, fmt.Errorf("entry %q: %s price: %v", entry, priceNames[i], err)
			}
			v[i] = n
		}
		if len(parts) == 2 {
			v[2], v[3] = v[0]*1.25, v[0]*0.1
		}
		p[model] = Price{v[0], v[1], v[2], v[3]}
	}
	return p, nil
}

var priceNames = [4]string{"input", "output", "cache write", "cache read"}

func parsePrice(s string) (float64, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "$")
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a non-negative number", s)
	}
	return v, nil
}

// snapshotSuffix matches the suffix of a dated snapshot or an alias:
// -20251001, -latest.
var snapshotSuffix = regexp.MustCompile(`-(\d{8}|latest)$`)

// Lookup returns the price of model, or of the model it is a dated snapshot
// of.
func (p Prices) Lookup(model string) (Price, bool) {
	if price, ok := p[model]; ok {
		return price, true
	}
	if loc := snapshotSuffix.FindStringIndex(model); loc != nil {
		price, ok := p[model[:loc[0]]]
		return price, ok
	}
	return Price{}, false
}

// Tokens is what one call consumed, as the API counts it: Input excludes
// the tokens written to and read from the prompt cache.
type Tokens struct {
	Input, Output, CacheWrite, CacheRead int
}

// Cost returns what the tokens cost with model, 0 when it has no price.
func (p Prices) Cost(model string, t Tokens) float64 {
	price, ok := p.Lookup(model)
	if !ok {
		return 0
	}
	return (float64(t.Input)*price.InputPerMillion + float64(t.Output)*price.OutputPerMillion +
		float64(t.CacheWrite)*price.CacheWritePerMillion + float64(t.CacheRead)*price.CacheReadPerMillion) / 1e6
}
