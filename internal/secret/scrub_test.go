package secret

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestScrubRemovesEveryForm(t *testing.T) {
	const key = "sk-test/Key+with spaces&\"quotes\""
	texts := []string{
		"plain " + key,
		"query " + url.QueryEscape(key),
		"path " + url.PathEscape(key),
		`json "` + strings.ReplaceAll(key, `"`, `\"`) + `"`,
		"b64 " + base64.StdEncoding.EncodeToString([]byte(key)),
		"b64url " + base64.RawURLEncoding.EncodeToString([]byte(key)),
	}
	for _, text := range texts {
		got := Scrub(text, key)
		if !strings.Contains(got, Redacted) || strings.Contains(got, "Key+with") || strings.Contains(got, "S2V5") {
			t.Errorf("Scrub(%q) = %q, still holds the key", text, got)
		}
	}
}

func TestScrubIgnoresShortAndEmptySecrets(t *testing.T) {
	if got := Scrub("a bc d", "", "bc"); got != "a bc d" {
		t.Errorf("Scrub with short secrets = %q, want the text unchanged", got)
	}
}

func TestScrubErrorKeepsTheChain(t *testing.T) {
	const key = "sk-chain-key-0001"
	base := errors.New("refused")
	err := ScrubError(fmt.Errorf("call with %s: %w", key, base), key)
	if strings.Contains(err.Error(), key) || !errors.Is(err, base) {
		t.Errorf("ScrubError = %q (is base: %v), want the key gone and the chain kept", err, errors.Is(err, base))
	}
	if clean := errors.New("clean"); ScrubError(clean, key) != clean || ScrubError(nil, key) != nil {
		t.Error("an error without the secret (or nil) is not returned as it is")
	}
}
