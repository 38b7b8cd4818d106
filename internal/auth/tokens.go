package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// SessionCookie is the web interface's session cookie (internal/web sets
// it); CSRFHeader is the header its pages' writes carry the session's CSRF
// token in.
const (
	SessionCookie = "presswork_session"
	CSRFHeader    = "X-CSRF-Token"
)

// apiKeyPrefixLen is the length of a key's display prefix: "pw_" and eight
// characters of the secret.
const apiKeyPrefixLen = 11

// NewAPIKey returns a new random key, its display prefix and its hash.
func NewAPIKey() (key, prefix string, hash []byte) {
	key = "pw_" + randomString(24)
	return key, key[:apiKeyPrefixLen], HashSecret(key)
}

// NewToken returns a new random session, CSRF or invitation token.
func NewToken() string {
	return randomString(32)
}

// HashSecret hashes an API key or a token for storage and lookup. Both are
// at least 192 random bits, so a plain SHA-256 is enough (no password
// stretching needed).
func HashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// CSRFMatches reports whether got, the CSRF token a write carries, is the
// session's token want; an empty token never matches. The comparison takes
// the same time wherever the tokens differ.
func CSRFMatches(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// randomString returns n random bytes, base64url-encoded without padding.
func randomString(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(buf)
}
