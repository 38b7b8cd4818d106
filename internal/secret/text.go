package secret

import (
	"encoding/json"
	"log/slog"
	"strconv"
)

// Text is a secret string (a provider's API key) that prints, logs and
// marshals as Redacted; Reveal gives it to the one place that sends it.
type Text string

// String returns Redacted, or "" for an empty secret.
func (s Text) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString masks the secret in %#v.
func (s Text) GoString() string { return strconv.Quote(s.String()) }

// LogValue masks the secret in slog output.
func (s Text) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON masks the secret in JSON.
func (s Text) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Reveal returns the secret itself, for the one place that sends it.
func (s Text) Reveal() string { return string(s) }
