// Package secret encrypts secrets at rest (WordPress application passwords,
// provider keys, panel credentials) with AES-256-GCM. Each ciphertext names
// the key it was sealed with, so keys can be rotated: Open tries the key the
// ciphertext names.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// format is the first byte of every ciphertext.
const format = 1

// Box seals with its current key and opens with any key it knows.
type Box struct {
	currentID byte
	aeads     map[byte]cipher.AEAD
}

// ErrUndecryptable means the ciphertext is damaged or sealed with a key the
// box does not hold.
var ErrUndecryptable = errors.New("secret cannot be decrypted")

// NewBox returns a Box sealing with keys[currentID]. Each key is 32 bytes.
func NewBox(currentID byte, keys map[byte][]byte) (*Box, error) {
	b := &Box{currentID: currentID, aeads: make(map[byte]cipher.AEAD, len(keys))}
	for id, key := range keys {
		if len(key) != 32 {
			return nil, fmt.Errorf("secret key %d: need 32 bytes, got %d", id, len(key))
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("secret key %d: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secret key %d: %w", id, err)
		}
		b.aeads[id] = aead
	}
	if _, ok := b.aeads[currentID]; !ok {
		return nil, fmt.Errorf("secret key %d (the current one) is not given", currentID)
	}
	return b, nil
}

// ParseKey decodes a base64 (standard or URL, padded or not) 32-byte key.
func ParseKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != 32 {
				return nil, fmt.Errorf("key is %d bytes, want 32", len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("key is not base64")
}

// Seal encrypts plaintext; the tenant or row id goes into the associated
// data so a ciphertext cannot be moved to another row.
func (b *Box) Seal(plaintext, associated []byte) ([]byte, error) {
	aead := b.aeads[b.currentID]
	out := make([]byte, 2, 2+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0], out[1] = format, b.currentID
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, associated), nil
}

// Open decrypts what Seal made.
func (b *Box) Open(ciphertext, associated []byte) ([]byte, error) {
	if len(ciphertext) < 2 || ciphertext[0] != format {
		return nil, ErrUndecryptable
	}
	aead, ok := b.aeads[ciphertext[1]]
	if !ok || len(ciphertext) < 2+aead.NonceSize()+aead.Overhead() {
		return nil, ErrUndecryptable
	}
	nonce := ciphertext[2 : 2+aead.NonceSize()]
	plain, err := aead.Open(nil, nonce, ciphertext[2+aead.NonceSize():], associated)
	if err != nil {
		return nil, ErrUndecryptable
	}
	return plain, nil
}

// SitePasswordAD is the associated data of a site's application password:
// it binds the ciphertext to its tenant, so a password copied to another
// tenant's row does not open.
func SitePasswordAD(tenantID int64) []byte {
	return fmt.Appendf(nil, "site-password:tenant:%d", tenantID)
}

// PanelPasswordAD is the associated data of a tenant's Easypanel password.
func PanelPasswordAD(tenantID int64) []byte {
	return fmt.Appendf(nil, "panel-password:tenant:%d", tenantID)
}

// DeploymentSecretAD is the associated data of a deployment's sealed
// values (what: "db-password", "db-root-password", "env"), bound to its
// tenant and site (a site has one deployment).
func DeploymentSecretAD(tenantID, siteID int64, what string) []byte {
	return fmt.Appendf(nil, "deployment:%s:tenant:%d:site:%d", what, tenantID, siteID)
}

// OpenAIKeyAD is the associated data a tenant's OpenAI key is sealed with,
// so that a ciphertext cannot be moved to another tenant.
func OpenAIKeyAD(tenantID int64) []byte {
	return fmt.Appendf(nil, "openai-key:tenant:%d", tenantID)
}

// CurrentKeyID is the id of the key Seal uses.
func (b *Box) CurrentKeyID() byte { return b.currentID }

// KeyID returns the id of the key a ciphertext names; ok is false when it
// is no ciphertext of this package.
func KeyID(ciphertext []byte) (id byte, ok bool) {
	if len(ciphertext) < 2 || ciphertext[0] != format {
		return 0, false
	}
	return ciphertext[1], true
}

// Reseal opens ciphertext with whichever key it names and seals it again
// under the current key. A ciphertext sealed with the current key already
// is returned unchanged with changed false (after checking that it opens),
// so resealing is idempotent.
func (b *Box) Reseal(ciphertext, associated []byte) (out []byte, changed bool, err error) {
	plain, err := b.Open(ciphertext, associated)
	if err != nil {
		return nil, false, err
	}
	defer clear(plain)
	if id, _ := KeyID(ciphertext); id == b.currentID {
		return ciphertext, false, nil
	}
	out, err = b.Seal(plain, associated)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// WebhookSecretAD is the associated data of a webhook's signing secret,
// bound to its tenant.
func WebhookSecretAD(tenantID int64) []byte {
	return fmt.Appendf(nil, "webhook-secret:tenant:%d", tenantID)
}
