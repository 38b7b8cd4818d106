package replicate

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of the REPLICATE_* environment variables.
const (
	DefaultBaseURL       = "https://api.replicate.com/v1"
	DefaultImageModel    = "black-forest-labs/flux-schnell"
	DefaultPollInterval  = time.Second
	DefaultTimeout       = 5 * time.Minute
	DefaultImagePriceUSD = 0.003 // flux-schnell's price per image
)

// Config is the Replicate provider's configuration.
type Config struct {
	// Token is the API token (REPLICATE_API_TOKEN). It never appears in
	// logs (see LogValue) or in errors.
	Token string
	// BaseURL is the API root including /v1 (REPLICATE_BASE_URL).
	BaseURL string
	// ImageModel is "owner/name" for an official model, run through
	// /models/{owner}/{name}/predictions, or "owner/name:version" for a
	// versioned one (REPLICATE_IMAGE_MODEL).
	ImageModel string
	// PollInterval is the wait between polls of a running prediction
	// (REPLICATE_POLL_INTERVAL).
	PollInterval time.Duration
	// Timeout bounds one Generate call: create, polls and download
	// (REPLICATE_TIMEOUT). When it passes, the prediction is left running and
	// the error is retryable, so a retry resumes it.
	Timeout time.Duration
	// ImagePriceUSD is what one image costs, reported as Image.CostUSD
	// (REPLICATE_IMAGE_PRICE_USD).
	ImagePriceUSD float64
}

// ConfigFromEnv reads the configuration from the environment (getenv is
// os.Getenv outside tests). ok is false, with no error, when
// REPLICATE_API_TOKEN is unset: Replicate is not configured. Otherwise every
// bad value is reported in err, so that bad configuration fails the boot.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	cfg = Config{
		Token:         strings.TrimSpace(getenv("REPLICATE_API_TOKEN")),
		BaseURL:       DefaultBaseURL,
		ImageModel:    DefaultImageModel,
		PollInterval:  DefaultPollInterval,
		Timeout:       DefaultTimeout,
		ImagePriceUSD: DefaultImagePriceUSD,
	}
	if cfg.Token == "" {
		return cfg, false, nil
	}
	var problems []error
	bad := func(name, format string, args ...any) {
		problems = append(problems, fmt.Errorf("%s %s", name, fmt.Sprintf(format, args...)))
	}
	if v := strings.TrimSpace(getenv("REPLICATE_BASE_URL")); v != "" {
		cfg.BaseURL = strings.TrimRight(v, "/")
	}
	if v := strings.TrimSpace(getenv("REPLICATE_IMAGE_MODEL")); v != "" {
		cfg.ImageModel = v
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{
		{"REPLICATE_POLL_INTERVAL", &cfg.PollInterval},
		{"REPLICATE_TIMEOUT", &cfg.Timeout},
	} {
		if v := strings.TrimSpace(getenv(d.name)); v != "" {
			p, err := time.ParseDuration(v)
			if err != nil || p <= 0 {
				bad(d.name, "must be a positive duration such as 1s or 500ms, got %q", v)
				continue
			}
			*d.dst = p
		}
	}
	if v := strings.TrimSpace(getenv("REPLICATE_IMAGE_PRICE_USD")); v != "" {
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || p < 0 || p > 100 {
			bad("REPLICATE_IMAGE_PRICE_USD", "must be a price in US dollars from 0 to 100, got %q", v)
		} else {
			cfg.ImagePriceUSD = p
		}
	}
	if err := cfg.Validate(); err != nil {
		problems = append(problems, err)
	}
	return cfg, true, errors.Join(problems...)
}

// Validate reports what is wrong with c, naming the environment variables.
func (c Config) Validate() error {
	var problems []error
	if strings.TrimSpace(c.Token) == "" {
		problems = append(problems, errors.New("REPLICATE_API_TOKEN is empty"))
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems = append(problems, fmt.Errorf("REPLICATE_BASE_URL must be an http(s) URL such as %s, got %q", DefaultBaseURL, c.BaseURL))
	}
	if _, _, _, err := parseModel(c.ImageModel); err != nil {
		problems = append(problems, err)
	}
	if c.PollInterval <= 0 {
		problems = append(problems, errors.New("REPLICATE_POLL_INTERVAL must be positive"))
	}
	if c.Timeout <= 0 {
		problems = append(problems, errors.New("REPLICATE_TIMEOUT must be positive"))
	}
	if c.ImagePriceUSD < 0 {
		problems = append(problems, errors.New("REPLICATE_IMAGE_PRICE_USD must not be negative"))
	}
	return errors.Join(problems...)
}

// LogValue prints the configuration with the token masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("token", maskToken(c.Token)),
		slog.String("base_url", c.BaseURL),
		slog.String("image_model", c.ImageModel),
		slog.Duration("poll_interval", c.PollInterval),
		slog.Duration("timeout", c.Timeout),
		slog.Float64("image_price_usd", c.ImagePriceUSD),
	)
}

// maskToken shows whether a token is set and, for a long one, its last four
// characters, which is enough to tell two tokens apart.
func maskToken(t string) string {
	switch {
	case t == "":
		return "(unset)"
	case len(t) < 20:
		return "xxxxx"
	}
	return "xxxxx" + t[len(t)-4:]
}

// parseModel splits "owner/name" or "owner/name:version".
func parseModel(s string) (owner, name, version string, err error) {
	ref, version, hasVersion := strings.Cut(s, ":")
	owner, name, _ = strings.Cut(ref, "/")
	if owner == "" || name == "" || strings.Contains(name, "/") || (hasVersion && version == "") ||
		strings.ContainsAny(s, " \t\n?#") {
		return "", "", "", fmt.Errorf("REPLICATE_IMAGE_MODEL must be owner/name or owner/name:version, such as %s, got %q", DefaultImageModel, s)
	}
	return owner, name, version, nil
}
