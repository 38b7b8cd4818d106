package secret

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
)

// Redacted replaces a secret in text that leaves the process.
const Redacted = "[redacted]"

// Scrub returns text with every secret removed in each form a remote side
// could echo it back: as written, URL- and query-escaped, JSON-escaped and
// base64 (standard and URL alphabets, with and without padding). Pass
// user:secret as a secret of its own to cover a Basic authorization.
// Empty secrets and secrets shorter than four bytes are ignored (they would
// blank ordinary words).
func Scrub(text string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) < 4 {
			continue
		}
		for _, form := range forms(s) {
			if form != "" {
				text = strings.ReplaceAll(text, form, Redacted)
			}
		}
	}
	return text
}

// forms lists the spellings of s that Scrub removes, the encoded forms before
// the plain one, so that an encoded form is replaced before the plain secret
// inside it.
func forms(s string) []string {
	quotedHTML, _ := json.Marshal(s) // escapes <, > and & as \u003c...
	var plain strings.Builder
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return []string{
		base64.StdEncoding.EncodeToString([]byte(s)),
		base64.URLEncoding.EncodeToString([]byte(s)),
		base64.RawStdEncoding.EncodeToString([]byte(s)),
		base64.RawURLEncoding.EncodeToString([]byte(s)),
		url.QueryEscape(s),
		url.PathEscape(s),
		strings.Trim(string(quotedHTML), `"`),
		strings.Trim(strings.TrimSpace(plain.String()), `"`),
		s,
	}
}

// ScrubError returns err with a text that shows none of secrets, in any of
// the forms Scrub knows; errors.Is and errors.As still see err, so that
// classification and retries keep working. An err whose text holds no
// secret is returned as it is (nil too).
func ScrubError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := Scrub(msg, secrets...); clean != msg {
		return &scrubbedError{err: err, msg: clean}
	}
	return err
}

// scrubbedError shows a scrubbed text for the error it wraps.
type scrubbedError struct {
	err error
	msg string
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
