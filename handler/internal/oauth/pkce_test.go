package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

func TestVerifyS256(t *testing.T) {
	// RFC 7636 Appendix B.
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	long := strings.Repeat("a", 128)
	tests := []struct {
		name, verifier, challenge string
		want                      bool
	}{
		{"RFC 7636 appendix B", verifier, challenge, true},
		{"128 chars", long, s256(long), true},
		{"all unreserved", strings.Repeat("-._~", 11), s256(strings.Repeat("-._~", 11)), true},
		{"wrong verifier", strings.Replace(verifier, "d", "e", 1), challenge, false},
		{"plain method", verifier, verifier, false},
		{"verifier too short", verifier[:42], s256(verifier[:42]), false},
		{"verifier too long", long + "a", s256(long + "a"), false},
		{"verifier with space", verifier[:42] + " ", s256(verifier[:42] + " "), false},
		{"verifier with +", verifier[:42] + "+", s256(verifier[:42] + "+"), false},
		{"padded challenge", verifier, challenge + "=", false},
		{"std-alphabet challenge", verifier, strings.NewReplacer("-", "+", "_", "/").Replace(challenge), false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifyS256(tt.verifier, tt.challenge); got != tt.want {
				t.Errorf("VerifyS256(%q, %q) = %v, want %v", tt.verifier, tt.challenge, got, tt.want)
			}
		})
	}
}

func TestValidChallenge(t *testing.T) {
	good := s256("x")
	for _, c := range []string{good, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"} {
		if !ValidChallenge(c) {
			t.Errorf("ValidChallenge(%q) = false", c)
		}
	}
	// The last character of 32 bytes in base64 carries 2 unused bits: "N"
	// and "M" decode alike leniently, but only one spelling is canonical.
	for _, c := range []string{"", good[:42], good + "A", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN", strings.Repeat("!", 43), "plain"} {
		if ValidChallenge(c) {
			t.Errorf("ValidChallenge(%q) = true", c)
		}
	}
}

func s256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func FuzzVerifyS256(f *testing.F) {
	f.Add("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
	f.Add(strings.Repeat("~", 43), "")
	f.Fuzz(func(t *testing.T, verifier, challenge string) {
		if !VerifyS256(verifier, challenge) {
			return
		}
		if challenge != s256(verifier) || len(verifier) < 43 || len(verifier) > 128 {
			t.Fatalf("VerifyS256(%q, %q) accepted a non-matching pair", verifier, challenge)
		}
		if strings.Trim(verifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != "" {
			t.Fatalf("accepted verifier %q with reserved characters", verifier)
		}
	})
}
