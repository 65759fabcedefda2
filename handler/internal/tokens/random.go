package tokens

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// NewOpaque returns a fresh 256-bit random value, base64url without padding
// (43 characters). It is used for refresh tokens, authorization codes,
// client secrets and ids; 256 bits put guessing out of reach even for
// values that live for weeks.
func NewOpaque() string {
	var b [32]byte
	// crypto/rand.Read never fails since Go 1.24; it crashes the program
	// instead of returning predictable bytes.
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Hash returns the hex SHA-256 of s: the storage key of a secret, so a leaked
// table never yields a usable token (docs/architecture.md §6.5). The inputs
// are 256-bit random values, so an unsalted fast hash is sufficient.
func Hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
