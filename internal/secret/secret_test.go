package secret

import (
	"bytes"
	"errors"
	"testing"
)

func testBox(t *testing.T, current byte, ids ...byte) *Box {
	t.Helper()
	keys := map[byte][]byte{}
	for _, id := range ids {
		keys[id] = bytes.Repeat([]byte{id + 1}, 32)
	}
	b, err := NewBox(current, keys)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpen(t *testing.T) {
	b := testBox(t, 1, 1)
	ct, err := b.Seal([]byte("abcd efgh ijkl"), []byte("tenant:1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("abcd")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	got, err := b.Open(ct, []byte("tenant:1"))
	if err != nil || string(got) != "abcd efgh ijkl" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := b.Open(ct, []byte("tenant:2")); !errors.Is(err, ErrUndecryptable) {
		t.Fatalf("Open with other associated data = %v, want ErrUndecryptable", err)
	}
	ct[len(ct)-1] ^= 1
	if _, err := b.Open(ct, []byte("tenant:1")); !errors.Is(err, ErrUndecryptable) {
		t.Fatalf("Open of damaged ciphertext = %v, want ErrUndecryptable", err)
	}
}

func TestRotation(t *testing.T) {
	old := testBox(t, 1, 1)
	ct, _ := old.Seal([]byte("pw"), nil)
	rotated := testBox(t, 2, 1, 2)
	if got, err := rotated.Open(ct, nil); err != nil || string(got) != "pw" {
		t.Fatalf("rotated box opens old ciphertext: %q, %v", got, err)
	}
	ct2, _ := rotated.Seal([]byte("pw"), nil)
	if _, err := old.Open(ct2, nil); !errors.Is(err, ErrUndecryptable) {
		t.Fatalf("old box opening a new-key ciphertext = %v", err)
	}
}

func TestParseKey(t *testing.T) {
	if _, err := ParseKey("c2hvcnQ="); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := ParseKey("MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseKey("not base64!"); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestReseal(t *testing.T) {
	old := testBox(t, 1, 1)
	ct, _ := old.Seal([]byte("pw"), []byte("ad"))
	if id, ok := KeyID(ct); !ok || id != 1 {
		t.Fatalf("KeyID = %d, %v; want 1", id, ok)
	}
	rotated := testBox(t, 2, 1, 2)
	out, changed, err := rotated.Reseal(ct, []byte("ad"))
	if err != nil || !changed {
		t.Fatalf("Reseal of a key-1 ciphertext: changed %v, %v", changed, err)
	}
	if id, _ := KeyID(out); id != 2 {
		t.Fatalf("resealed under key %d, want 2", id)
	}
	if got, err := testBox(t, 2, 2).Open(out, []byte("ad")); err != nil || string(got) != "pw" {
		t.Fatalf("the resealed value opens with key 2 alone: %q, %v", got, err)
	}
	again, changed, err := rotated.Reseal(out, []byte("ad"))
	if err != nil || changed || !bytes.Equal(again, out) {
		t.Fatalf("resealing a current ciphertext: changed %v, %v", changed, err)
	}
	if _, _, err := rotated.Reseal(ct, []byte("other")); !errors.Is(err, ErrUndecryptable) {
		t.Fatalf("Reseal with the wrong associated data = %v", err)
	}
	if _, _, err := testBox(t, 2, 2).Reseal(ct, []byte("ad")); !errors.Is(err, ErrUndecryptable) {
		t.Fatalf("Reseal without the old key = %v", err)
	}
	if _, ok := KeyID([]byte("x")); ok {
		t.Fatal("KeyID of garbage")
	}
}
