package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// VerifyS256 reports whether verifier is a syntactically valid RFC 7636
// §4.1 code_verifier whose S256 transform equals challenge (§4.6):
// BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge. The final
// comparison is constant time. "plain" is not offered (OAuth 2.1 §4.1.1).
func VerifyS256(verifier, challenge string) bool {
	if !validVerifier(verifier) || !ValidChallenge(challenge) {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	var enc [43]byte
	base64.RawURLEncoding.Encode(enc[:], sum[:])
	return subtle.ConstantTimeCompare(enc[:], []byte(challenge)) == 1
}

// ValidChallenge reports whether challenge can be an S256 code_challenge:
// the unpadded base64url encoding of 32 bytes, exactly 43 characters, with
// no stray bits in the last character (strict decoding), so one hash has
// exactly one accepted spelling.
func ValidChallenge(challenge string) bool {
	if len(challenge) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(challenge)
	return err == nil && len(b) == 32
}

// validVerifier: RFC 7636 §4.1, code-verifier = 43*128unreserved, with
// unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~".
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isUnreserved(v[i]) {
			return false
		}
	}
	return true
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
