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
// could echo it back: as written, URL- and query-escaped, JSON-escaped,
// base64 (standard and URL alphabets, with and without padding), and each
// secret's "user:secret" basic-auth encoding is covered by passing that pair
// as a secret of its own. Empty secrets and secrets shorter than four bytes
// are ignored (they would blank ordinary words).
func Scrub(text string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) < 4 {
			continue
		}
		for _, form := range forms(s) {
			if form != "" && strings.Contains(text, form) {
				text = strings.ReplaceAll(text, form, Redacted)
			}
		}
	}
	return text
}

// forms lists the spellings of s that Scrub removes, longest first so that an
// encoded form is replaced before the plain secret inside it.
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
