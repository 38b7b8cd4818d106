package limited

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/presswork/presswork/internal/ratelimit"
)

// EnvVar is the variable LimitsFromEnv reads.
const EnvVar = "AI_LIMITS"

// maxPerMinute bounds a limit, to catch a misplaced digit.
const maxPerMinute = 1_000_000_000

// LimitsFromEnv reads the limits of each key from AI_LIMITS: entries
// separated by commas, semicolons or newlines, each a key, "=", and one or
// both of a requests limit "<n>rpm" and a tokens limit "<n>tpm" joined by
// "/":
//
//	AI_LIMITS="openai/gpt-4o-mini=500rpm/200000tpm,
//	           openai/text-embedding-3-small=3000rpm/1000000tpm,
//	           replicate/black-forest-labs/flux-schnell=600rpm"
//
// A key is what the wrapped model is limited under: its Name() by default
// ("openai/gpt-4o-mini"; "openai-compatible/..." and "azure-openai/..." for
// the other OpenAI API types), or what WithKey or WithStageKey say. A key
// that no entry names is unlimited. Unset or empty, every key is unlimited.
// The worker refuses an entry whose key none of its models is limited
// under (see providers.FromEnv).
// Errors name the variable and the entry at fault.
func LimitsFromEnv(getenv func(string) string) (map[string]ratelimit.Limits, error) {
	limits, err := ParseLimits(getenv(EnvVar))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvVar, err)
	}
	return limits, nil
}

// ParseLimits parses limits in the format of AI_LIMITS (see LimitsFromEnv).
func ParseLimits(s string) (map[string]ratelimit.Limits, error) {
	out := map[string]ratelimit.Limits{}
	var problems []error
	entries := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '\n' })
	for _, entry := range entries {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		key, spec, ok := cut(entry)
		if !ok {
			problems = append(problems, fmt.Errorf("entry %q: want key=limits, like openai/gpt-4o-mini=500rpm/200000tpm", entry))
			continue
		}
		if strings.IndexFunc(key, unicode.IsSpace) >= 0 {
			problems = append(problems, fmt.Errorf("entry %q: the key contains spaces", entry))
			continue
		}
		if _, dup := out[key]; dup {
			problems = append(problems, fmt.Errorf("entry %q: %s is limited twice", entry, key))
			continue
		}
		lim, err := parseLimitSpec(spec)
		if err != nil {
			problems = append(problems, fmt.Errorf("entry %q: %w", entry, err))
			continue
		}
		out[key] = lim
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return out, nil
}

// cut splits an entry at its last "=", since the limits have none.
func cut(entry string) (key, spec string, ok bool) {
	i := strings.LastIndex(entry, "=")
	if i < 0 {
		return "", "", false
	}
	key, spec = strings.TrimSpace(entry[:i]), strings.TrimSpace(entry[i+1:])
	return key, spec, key != "" && spec != ""
}

func parseLimitSpec(spec string) (ratelimit.Limits, error) {
	var lim ratelimit.Limits
	for _, part := range strings.Split(spec, "/") {
		part = strings.ToLower(strings.TrimSpace(part))
		var unit string
		var dst *int
		switch {
		case strings.HasSuffix(part, "rpm"):
			unit, dst = "rpm", &lim.RequestsPerMinute
		case strings.HasSuffix(part, "tpm"):
			unit, dst = "tpm", &lim.TokensPerMinute
		default:
			return lim, fmt.Errorf("%q is not a limit like 500rpm or 200000tpm", part)
		}
		if *dst != 0 {
			return lim, fmt.Errorf("%s is given twice", unit)
		}
		num := strings.TrimSpace(strings.TrimSuffix(part, unit))
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || n > maxPerMinute {
			return lim, fmt.Errorf("%q: the %s limit must be a whole number from 1 to %d", part, unit, maxPerMinute)
		}
		*dst = n
	}
	return lim, nil
}
