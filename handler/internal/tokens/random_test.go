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

func TestRefreshGrant(t *testing.T) {
	grant := NewOpaque()
	raw := NewRefresh(grant)
	if got, ok := RefreshGrant(raw); !ok || got != grant {
		t.Errorf("RefreshGrant(NewRefresh(%q)) = %q, %v", grant, got, ok)
	}
	if NewRefresh(grant) == raw {
		t.Error("NewRefresh repeated a token")
	}
	for _, raw := range []string{"", "no-dot", ".secret", "grant.", "."} {
		if got, ok := RefreshGrant(raw); ok {
			t.Errorf("RefreshGrant(%q) = %q, true; want false", raw, got)
		}
	}
}
