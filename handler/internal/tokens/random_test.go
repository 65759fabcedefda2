package tokens

import (
	"encoding/base64"
	"testing"
)

func TestNewOpaque(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s := NewOpaque()
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) != 32 {
			t.Fatalf("NewOpaque() = %q: %d bytes, %v; want 32 bytes of base64url", s, len(b), err)
		}
		if seen[s] {
			t.Fatalf("NewOpaque repeated %q", s)
		}
		seen[s] = true
	}
}

func TestHash(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 appendix B.1.
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := Hash("abc"); got != want {
		t.Errorf("Hash(abc) = %s, want %s", got, want)
	}
}
