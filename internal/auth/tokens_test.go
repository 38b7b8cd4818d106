package auth

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"
)

func TestNewAPIKey(t *testing.T) {
	key, prefix, hash := NewAPIKey()
	if !strings.HasPrefix(key, "pw_") || len(key) != len("pw_")+32 {
		t.Errorf("key %q: want pw_ and 32 base64url characters", key)
	}
	if prefix != key[:11] {
		t.Errorf("prefix %q, want %q", prefix, key[:11])
	}
	if !bytes.Equal(hash, HashSecret(key)) {
		t.Error("the key's hash is not HashSecret(key)")
	}
	if other, _, _ := NewAPIKey(); other == key {
		t.Error("two keys are the same")
	}
}

func TestNewToken(t *testing.T) {
	a, b := NewToken(), NewToken()
	if len(a) != 43 || strings.ContainsAny(a, "+/=") {
		t.Errorf("token %q: want 43 base64url characters", a)
	}
	if a == b {
		t.Error("two tokens are the same")
	}
}

func TestHashSecret(t *testing.T) {
	sum := sha256.Sum256([]byte("pw_secret"))
	if got := HashSecret("pw_secret"); !bytes.Equal(got, sum[:]) {
		t.Errorf("HashSecret = %x, want the SHA-256 %x", got, sum)
	}
	if bytes.Equal(HashSecret("a"), HashSecret("b")) {
		t.Error("two secrets hash the same")
	}
}

func TestCSRFMatches(t *testing.T) {
	tests := []struct {
		got, want string
		match     bool
	}{
		{"tok", "tok", true},
		{"tok", "other", false},
		{"to", "tok", false},
		{"", "tok", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if m := CSRFMatches(tt.got, tt.want); m != tt.match {
			t.Errorf("CSRFMatches(%q, %q) = %v, want %v", tt.got, tt.want, m, tt.match)
		}
	}
}
