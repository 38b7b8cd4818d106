package openai

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

// API types.
const (
	APITypeOpenAI = "openai"
	APITypeAzure  = "azure"
)

// Defaults of the configuration.
const (
	DefaultBaseURL             = "https://api.openai.com/v1"
	DefaultAzureAPIVersion     = "2024-10-21"
	DefaultModel               = "gpt-4o-mini"
	DefaultEmbeddingModel      = "text-embedding-3-small"
	DefaultEmbeddingDimensions = 512
	DefaultTimeout             = 60 * time.Second
)

// minAzureAPIVersion is the first Azure API version with both structured
// outputs (2024-08-01-preview) and max_completion_tokens (2024-09-01-preview).
const minAzureAPIVersion = "2024-09-01"

// maxEmbeddingDimensions bounds OPENAI_EMBEDDING_DIMENSIONS (pgvector's limit).
const maxEmbeddingDimensions = 16000

// stageModelVars maps the stages to the variables that choose their models.
var stageModelVars = []struct {
	stage ai.Stage
	name  string
}{
	{ai.StageClusterName, "OPENAI_MODEL_CLUSTER_NAME"},
	{ai.StageIdeas, "OPENAI_MODEL_IDEAS"},
	{ai.StageDraft, "OPENAI_MODEL_DRAFT"},
	{ai.StageImagePrompt, "OPENAI_MODEL_IMAGE_PROMPT"},
}

// Secret is a provider key: it prints, logs and marshals as "[redacted]"
// (secret.Text).
type Secret = secret.Text

// redacted is what a Secret shows.
const redacted = secret.Redacted

// Config configures the provider. ConfigFromEnv fills it from the
// environment; tests may build one directly.
type Config struct {
	APIKey  Secret
	APIType string // APITypeOpenAI ("" means the same) or APITypeAzure
	// BaseURL is the OpenAI or compatible API, ending in /v1.
	BaseURL string
	// AzureEndpoint, APIVersion and AzureDeployments apply to Azure only.
	AzureEndpoint    string
	APIVersion       string
	AzureDeployments map[string]string // model name -> deployment name

	// Model serves every stage that StageModels does not name.
	Model       string
	StageModels map[ai.Stage]string

	EmbeddingModel      string
	EmbeddingDimensions int

	// Timeout bounds each HTTP request, from sending it to reading the answer.
	Timeout time.Duration
	// Prices values the tokens; nil means DefaultPrices.
	Prices Prices

	// KeySource says where the key comes from, in the message of a rejected
	// key; "" means OPENAI_API_KEY.
	KeySource string

	// Profile is the OpenAI-compatible provider's dialect: how it takes a
	// schema and a length bound, and its name in Name() and limit keys.
	// The zero Profile is OpenAI's (ProfileOpenAI).
	Profile Profile
}

// DefaultConfig returns the configuration ConfigFromEnv starts from: the
// OpenAI API at DefaultBaseURL with key, the default models, timeout and
// prices.
func DefaultConfig(key Secret) Config {
	return Config{
		APIKey:              key,
		APIType:             APITypeOpenAI,
		BaseURL:             DefaultBaseURL,
		Model:               DefaultModel,
		StageModels:         map[ai.Stage]string{},
		EmbeddingModel:      DefaultEmbeddingModel,
		EmbeddingDimensions: DefaultEmbeddingDimensions,
		Timeout:             DefaultTimeout,
		Prices:              DefaultPrices(),
	}
}

// ConfigFromEnvWithKey reads the configuration like ConfigFromEnv, with key
// (which must not be empty) in place of OPENAI_API_KEY, which it does not
// read. The worker reads the models, prices and timeout of the models it
// builds for tenants' own keys this way, whether or not OPENAI_API_KEY is
// set.
func ConfigFromEnvWithKey(getenv func(string) string, key Secret) (Config, error) {
	if strings.TrimSpace(key.Reveal()) == "" {
		return Config{}, errors.New("openai config: ConfigFromEnvWithKey: empty key")
	}
	cfg, _, err := ConfigFromEnv(func(name string) string {
		if name == "OPENAI_API_KEY" {
			return key.Reveal()
		}
		return getenv(name)
	})
	return cfg, err
}

// ForKey returns the configuration for another account's key: c's models,
// prices and timeout on the OpenAI API, or on the OpenAI-compatible server
// at baseURL when it is not "". Azure settings are dropped: a key someone
// brings is an OpenAI (or compatible) key. keySource says where the key
// comes from, in the message of a rejected key.
func (c Config) ForKey(key Secret, baseURL, keySource string) Config {
	out := c
	out.APIKey, out.KeySource = key, keySource
	out.APIType, out.BaseURL = APITypeOpenAI, baseURL
	if out.BaseURL == "" {
		out.BaseURL = DefaultBaseURL
	}
	out.AzureEndpoint, out.APIVersion, out.AzureDeployments = "", "", nil
	out.Profile = ProfileOpenAI
	return out
}

// ConfigFromEnv reads the configuration from the variables described in the
// package comment. ok is false when OPENAI_API_KEY is unset or empty; the
// other variables are then ignored. Errors name the variable at fault and
// never contain the key.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	key := get("OPENAI_API_KEY")
	if key == "" {
		return Config{}, false, nil
	}
	cfg = DefaultConfig(Secret(key))
	cfg.APIType, cfg.BaseURL = "", ""
	var problems []error
	bad := func(name, format string, args ...any) {
		problems = append(problems, fmt.Errorf(name+": "+format, args...))
	}

	switch t := strings.ToLower(get("OPENAI_API_TYPE")); t {
	case "", APITypeOpenAI:
		cfg.APIType = APITypeOpenAI
	case APITypeAzure:
		cfg.APIType = APITypeAzure
	default:
		bad("OPENAI_API_TYPE", "must be %q or %q, got %q", APITypeOpenAI, APITypeAzure, t)
	}
	baseURL, version, endpoint, deployments :=
		get("OPENAI_BASE_URL"), get("OPENAI_API_VERSION"), get("OPENAI_AZURE_ENDPOINT"), get("OPENAI_AZURE_DEPLOYMENTS")
	if cfg.APIType == APITypeAzure {
		if baseURL != "" {
			bad("OPENAI_BASE_URL", "is not used with OPENAI_API_TYPE=azure; set OPENAI_AZURE_ENDPOINT")
		}
		cfg.AzureEndpoint = endpoint
		cfg.APIVersion = version
		if cfg.APIVersion == "" {
			cfg.APIVersion = DefaultAzureAPIVersion
		}
		if deployments != "" {
			m, err := parseDeployments(deployments)
			if err != nil {
				bad("OPENAI_AZURE_DEPLOYMENTS", "%v", err)
			}
			cfg.AzureDeployments = m
		}
	} else {
		cfg.BaseURL = baseURL
		if cfg.BaseURL == "" {
			cfg.BaseURL = DefaultBaseURL
		}
		for name, v := range map[string]string{
			"OPENAI_AZURE_ENDPOINT": endpoint, "OPENAI_API_VERSION": version, "OPENAI_AZURE_DEPLOYMENTS": deployments,
		} {
			if v != "" {
				bad(name, "is only used with OPENAI_API_TYPE=azure")
			}
		}
	}

	if v := get("OPENAI_MODEL"); v != "" {
		cfg.Model = v
	}
	for _, sv := range stageModelVars {
		if v := get(sv.name); v != "" {
			cfg.StageModels[sv.stage] = v
		}
	}
	if v := get("OPENAI_EMBEDDING_MODEL"); v != "" {
		cfg.EmbeddingModel = v
	}
	if v := get("OPENAI_EMBEDDING_DIMENSIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			bad("OPENAI_EMBEDDING_DIMENSIONS", "%q is not a whole number", v)
		}
		cfg.EmbeddingDimensions = n
	}
	if v := get("OPENAI_TIMEOUT"); v != "" {
		d, err := parseTimeout(v)
		if err != nil {
			bad("OPENAI_TIMEOUT", "%v", err)
		}
		cfg.Timeout = d
	}
	if v := get("OPENAI_PRICES"); v != "" {
		p, err := ParsePrices(v)
		if err != nil {
			bad("OPENAI_PRICES", "%v", err)
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
		return Config{}, true, fmt.Errorf("openai config: %w", errors.Join(problems...))
	}
	return cfg, true, nil
}

// Validate checks a configuration; New* call it. Errors name the variable
// that sets the field.
func (c Config) Validate() error {
	var problems []error
	bad := func(name, format string, args ...any) {
		problems = append(problems, fmt.Errorf(name+": "+format, args...))
	}
	if c.APIKey == "" {
		bad("OPENAI_API_KEY", "is empty")
	} else if strings.IndexFunc(string(c.APIKey), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}) >= 0 {
		bad("OPENAI_API_KEY", "contains spaces or control characters")
	}
	switch c.APIType {
	case "", APITypeOpenAI:
		if err := checkURL(c.BaseURL); err != nil {
			bad("OPENAI_BASE_URL", "%v", err)
		}
	case APITypeAzure:
		if c.AzureEndpoint == "" {
			bad("OPENAI_AZURE_ENDPOINT", "is required with OPENAI_API_TYPE=azure")
		} else if err := checkURL(c.AzureEndpoint); err != nil {
			bad("OPENAI_AZURE_ENDPOINT", "%v", err)
		}
		if err := checkAzureAPIVersion(c.APIVersion); err != nil {
			bad("OPENAI_API_VERSION", "%v", err)
		}
	default:
		bad("OPENAI_API_TYPE", "must be %q or %q, got %q", APITypeOpenAI, APITypeAzure, c.APIType)
	}
	if c.Model == "" {
		bad("OPENAI_MODEL", "is empty")
	}
	if c.EmbeddingModel == "" {
		bad("OPENAI_EMBEDDING_MODEL", "is empty")
	}
	if c.EmbeddingDimensions < 1 || c.EmbeddingDimensions > maxEmbeddingDimensions {
		bad("OPENAI_EMBEDDING_DIMENSIONS", "must be between 1 and %d, got %d", maxEmbeddingDimensions, c.EmbeddingDimensions)
	}
	if c.Timeout <= 0 {
		bad("OPENAI_TIMEOUT", "must be positive, got %s", c.Timeout)
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

// Models returns every configured model, text and embedding, sorted and
// without duplicates.
func (c Config) Models() []string {
	set := map[string]bool{c.Model: true, c.EmbeddingModel: true}
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

// LogValue logs the configuration with the key masked.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.Any("api_key", c.APIKey),
		slog.String("api_type", c.apiType()),
	}
	if c.apiType() == APITypeAzure {
		attrs = append(attrs,
			slog.String("azure_endpoint", c.AzureEndpoint),
			slog.String("api_version", c.APIVersion),
			slog.Any("azure_deployments", c.AzureDeployments))
	} else {
		attrs = append(attrs, slog.String("base_url", c.BaseURL))
	}
	attrs = append(attrs, slog.String("model", c.Model))
	for _, sv := range stageModelVars {
		attrs = append(attrs, slog.String("model_"+string(sv.stage), c.ModelFor(sv.stage)))
	}
	attrs = append(attrs,
		slog.String("embedding_model", c.EmbeddingModel),
		slog.Int("embedding_dimensions", c.EmbeddingDimensions),
		slog.Duration("timeout", c.Timeout))
	return slog.GroupValue(attrs...)
}

func (c Config) apiType() string {
	if c.APIType == "" {
		return APITypeOpenAI
	}
	return c.APIType
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

// checkAzureAPIVersion accepts versions like 2024-10-21 and
// 2024-08-01-preview from minAzureAPIVersion on.
func checkAzureAPIVersion(v string) error {
	if len(v) < 10 {
		return fmt.Errorf("%q is not an API version like %s", v, DefaultAzureAPIVersion)
	}
	if _, err := time.Parse(time.DateOnly, v[:10]); err != nil || (len(v) > 10 && v[10] != '-') {
		return fmt.Errorf("%q is not an API version like %s", v, DefaultAzureAPIVersion)
	}
	if v[:10] < minAzureAPIVersion {
		return fmt.Errorf("%q is too old for structured outputs and max_completion_tokens; use %s-preview or later",
			v, minAzureAPIVersion)
	}
	return nil
}

func parseTimeout(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration like 60s", s)
	}
	return d, nil
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' })
}

func parseDeployments(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, entry := range splitList(s) {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		model, deployment, found := strings.Cut(entry, "=")
		model, deployment = strings.TrimSpace(model), strings.TrimSpace(deployment)
		if !found || model == "" || deployment == "" {
			return nil, fmt.Errorf("entry %q is not model=deployment", entry)
		}
		m[model] = deployment
	}
	return m, nil
}

// ---------------------------------------------------------------------------
// Prices

// Price is what a model charges, in USD per million tokens.
type Price struct {
	PromptPerMillion     float64
	CompletionPerMillion float64
}

// Prices maps model names to prices.
type Prices map[string]Price

// DefaultPrices returns the built-in price table (OpenAI list prices,
// standard tier).
func DefaultPrices() Prices {
	return Prices{
		"gpt-4o-mini":            {0.15, 0.60},
		"gpt-4o":                 {2.50, 10.00},
		"gpt-4.1":                {2.00, 8.00},
		"gpt-4.1-mini":           {0.40, 1.60},
		"gpt-4.1-nano":           {0.10, 0.40},
		"text-embedding-3-small": {0.02, 0},
		"text-embedding-3-large": {0.13, 0},
		"text-embedding-ada-002": {0.10, 0},
	}
}

// ParsePrices parses the OPENAI_PRICES format described in the package
// comment.
func ParsePrices(s string) (Prices, error) {
	p := Prices{}
	for _, entry := range splitList(s) {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		model, value, found := strings.Cut(entry, "=")
		model = strings.TrimSpace(model)
		if !found || model == "" {
			return nil, fmt.Errorf("entry %q is not model=prompt/completion", entry)
		}
		in, out, hasOut := strings.Cut(value, "/")
		var price Price
		var err error
		if price.PromptPerMillion, err = parsePrice(in); err != nil {
			return nil, fmt.Errorf("entry %q: prompt price: %v", entry, err)
		}
		if hasOut {
			if price.CompletionPerMillion, err = parsePrice(out); err != nil {
				return nil, fmt.Errorf("entry %q: completion price: %v", entry, err)
			}
		}
		p[model] = price
	}
	return p, nil
}

func parsePrice(s string) (float64, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "$")
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a non-negative number", s)
	}
	return v, nil
}

// snapshotSuffix matches the suffix of a dated model snapshot:
// -2024-07-18, -0613.
var snapshotSuffix = regexp.MustCompile(`-(\d{4}-\d{2}-\d{2}|\d{4})$`)

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

// Cost returns what the tokens cost with model, 0 when it has no price.
func (p Prices) Cost(model string, promptTokens, completionTokens int) float64 {
	price, ok := p.Lookup(model)
	if !ok {
		return 0
	}
	return (float64(promptTokens)*price.PromptPerMillion + float64(completionTokens)*price.CompletionPerMillion) / 1e6
}
