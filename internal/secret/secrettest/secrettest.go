// Package secrettest helps tests prove that no secret leaks: the forms a
// secret can take in text a remote side or a log echoes (the forms
// secret.Scrub removes), and a log buffer safe for concurrent writes.
package secrettest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
)

// Forms returns the spellings of secret that must not appear, by name:
// plain, JSON-escaped, query- and path-escaped, base64 and base64url
// (without padding, so that they match inside a longer encoding), and,
// when user is not empty, the base64 forms of the "user:secret" of a Basic
// authorization.
func Forms(secret, user string) map[string]string {
	js, _ := json.Marshal(secret)
	forms := map[string]string{
		"plain":         secret,
		"json":          strings.Trim(string(js), `"`),
		"query-escaped": url.QueryEscape(secret),
		"path-escaped":  url.PathEscape(secret),
	}
	for name, enc := range map[string]*base64.Encoding{"base64": base64.StdEncoding, "base64url": base64.URLEncoding} {
		forms[name] = strings.TrimRight(enc.EncodeToString([]byte(secret)), "=")
		if user != "" {
			forms[name+" basic auth"] = strings.TrimRight(enc.EncodeToString([]byte(user+":"+secret)), "=")
		}
	}
	return forms
}

// Leaks names the forms that text shows.
func Leaks(text string, forms map[string]string) []string {
	var found []string
	for name, form := range forms {
		if form != "" && strings.Contains(text, form) {
			found = append(found, name)
		}
	}
	return found
}

// LogBuffer collects a logger's output; it is safe for concurrent writes.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
