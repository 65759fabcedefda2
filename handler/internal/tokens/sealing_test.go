package tokens

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func newKey(t *testing.T) *SealingKey {
	t.Helper()
	k, err := GenerateSealingKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newSealer(t *testing.T, cur, prev *SealingKey) *Sealer {
	t.Helper()
	s, err := NewSealer(cur, prev)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseSealingKey(t *testing.T) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	tests := []struct {
		name   string
		in     string
		wantOK bool
	}{
		{"base64", base64.StdEncoding.EncodeToString(raw), true},
		{"base64 unpadded", base64.RawStdEncoding.EncodeToString(raw), true},
		{"base64url", base64.URLEncoding.EncodeToString(raw), true},
		{"base64url unpadded, spaces", " " + base64.RawURLEncoding.EncodeToString(raw) + "\n", true},
		{"16 bytes", base64.StdEncoding.EncodeToString(raw[:16]), false},
		{"31 bytes", base64.StdEncoding.EncodeToString(raw[:31]), false},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(raw, 1)), false},
		{"hex", strings.Repeat("ab", 32), false}, // 64 hex chars decode as 48 bytes of base64
		{"not base64", "not a key!", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseSealingKey(tt.in)
			if (err == nil) != tt.wantOK {
				t.Fatalf("ParseSealingKey error = %v, want ok=%v", err, tt.wantOK)
			}
			if err != nil && strings.Contains(err.Error(), tt.in) && tt.in != "" {
				t.Errorf("error %q repeats the key", err)
			}
			if tt.wantOK && len(k.KeyID()) != 16 {
				t.Errorf("KeyID = %q, want 16 hex chars", k.KeyID())
			}
		})
	}
	a, _ := ParseSealingKey(base64.StdEncoding.EncodeToString(raw))
	b, _ := ParseSealingKey(base64.RawURLEncoding.EncodeToString(raw))
	if a.KeyID() != b.KeyID() {
		t.Error("the same key in two encodings has two ids")
	}
}

func TestSealOpen(t *testing.T) {
	s := newSealer(t, newKey(t), nil)
	for _, pt := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte(`{"refresh_token":"…"}`), 200)} {
		sealed, err := s.Seal(pt, []byte("grant-1"))
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) != sealOverhead+len(pt) {
			t.Errorf("sealed length = %d, want %d", len(sealed), sealOverhead+len(pt))
		}
		got, err := s.Open(sealed, []byte("grant-1"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, pt) {
			t.Errorf("Open = %q, want %q", got, pt)
		}
	}
	a, _ := s.Seal([]byte("same"), nil)
	b, _ := s.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Error("two seals of the same plaintext are equal: nonce reused")
	}
}

func TestSealRotation(t *testing.T) {
	oldKey, newKeyV := newKey(t), newKey(t)
	aad := []byte("grant-1")
	sealed, err := newSealer(t, oldKey, nil).Seal([]byte("secret"), aad)
	if err != nil {
		t.Fatal(err)
	}
	// After rotation the old key is the previous one: old blobs still open,
	// new blobs carry the new key id.
	rotated := newSealer(t, newKeyV, oldKey)
	if got, err := rotated.Open(sealed, aad); err != nil || string(got) != "secret" {
		t.Fatalf("Open after rotation = %q, %v", got, err)
	}
	fresh, _ := rotated.Seal([]byte("secret"), aad)
	if !bytes.Equal(fresh[1:sealHeader], newKeyV.id[:]) {
		t.Error("new blobs are not sealed under the current key")
	}
	// Once the previous key is dropped, old blobs no longer open.
	if _, err := newSealer(t, newKeyV, nil).Open(sealed, aad); !errors.Is(err, ErrUnseal) {
		t.Errorf("Open under a dropped key: err = %v, want ErrUnseal", err)
	}
}

func TestOpenRejects(t *testing.T) {
	s := newSealer(t, newKey(t), nil)
	aad := []byte("grant-1")
	sealed, _ := s.Seal([]byte("secret"), aad)
	if _, err := s.Open(sealed, []byte("grant-2")); !errors.Is(err, ErrUnseal) {
		t.Errorf("wrong aad: err = %v", err)
	}
	if _, err := s.Open(sealed, nil); !errors.Is(err, ErrUnseal) {
		t.Errorf("missing aad: err = %v", err)
	}
	// Flipping any single bit anywhere (version, key id, nonce, ciphertext,
	// tag) must be detected.
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		if _, err := s.Open(bad, aad); !errors.Is(err, ErrUnseal) {
			t.Fatalf("bit flip at byte %d: err = %v", i, err)
		}
	}
	for _, n := range []int{0, 1, sealOverhead - 1} {
		if _, err := s.Open(sealed[:n], aad); !errors.Is(err, ErrUnseal) {
			t.Errorf("truncated to %d: err = %v", n, err)
		}
	}
	if _, err := NewSealer(nil, nil); err == nil {
		t.Error("NewSealer(nil) succeeded")
	}
}
