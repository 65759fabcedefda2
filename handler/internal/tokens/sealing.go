package tokens

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
)

// Sealed blob layout (all lengths in bytes):
//
//	version (1) = 1 | key id (8) | nonce (12) | AES-256-GCM ciphertext + tag (16)
//
// The version and key id are authenticated as part of the additional data,
// so they cannot be swapped; the key id lets a blob sealed under the
// previous key open after rotation.
const (
	sealVersion  = 1
	sealKeyIDLen = 8
	sealNonceLen = 12 // 96-bit random nonce (NIST SP 800-38D §8.2.2)
	sealHeader   = 1 + sealKeyIDLen
	sealOverhead = sealHeader + sealNonceLen + 16
)

// ErrUnseal is returned by Open for a blob that is malformed, tampered,
// bound to other additional data, or sealed under a key we no longer have.
var ErrUnseal = errors.New("tokens: cannot open sealed data")

// SealingKey is a 256-bit AES key with its id: the first 8 bytes of the
// key's SHA-256 (shown in hex), which names the key without revealing it.
type SealingKey struct {
	id   [sealKeyIDLen]byte
	aead cipher.AEAD
}

// ParseSealingKey reads 32 random bytes encoded as base64 or base64url,
// padded or not (e.g. `openssl rand -base64 32`). Other lengths are
// rejected: AES-256 needs exactly 32 bytes and a short key is a mistake.
func ParseSealingKey(s string) (*SealingKey, error) {
	b, err := decodeBase64(s)
	if err != nil {
		return nil, errors.New("sealing key: not base64")
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("sealing key: %d bytes, want 32", len(b))
	}
	return newSealingKey(b)
}

// GenerateSealingKey makes a fresh random key, for local runs and tests.
func GenerateSealingKey() (*SealingKey, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return newSealingKey(b)
}

func newSealingKey(b []byte) (*SealingKey, error) {
	block, err := aes.NewCipher(b)
	if err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	k := &SealingKey{aead: aead}
	sum := sha256.Sum256(b)
	copy(k.id[:], sum[:sealKeyIDLen])
	return k, nil
}

// KeyID is the hex key id carried in every blob sealed with this key.
func (k *SealingKey) KeyID() string {
	if k == nil {
		return ""
	}
	return hex.EncodeToString(k.id[:])
}

// String and LogValue show only the key id.
func (k *SealingKey) String() string { return "sealing key " + k.KeyID() }

// LogValue implements slog.LogValuer; see String.
func (k *SealingKey) LogValue() slog.Value { return slog.StringValue(k.KeyID()) }

// Sealer encrypts small secrets (the upstream Entra tokens of a grant) for
// storage. It is safe for concurrent use.
type Sealer struct {
	current, previous *SealingKey
}

// NewSealer seals with current and opens with current or previous
// (previous may be nil).
func NewSealer(current, previous *SealingKey) (*Sealer, error) {
	if current == nil {
		return nil, errors.New("tokens: no sealing key")
	}
	return &Sealer{current: current, previous: previous}, nil
}

// Seal encrypts plaintext under the current key. aad is authenticated but
// not stored: pass the grant id, so a blob copied into another grant's
// record does not open there.
func (s *Sealer) Seal(plaintext, aad []byte) ([]byte, error) {
	k := s.current
	out := make([]byte, sealHeader+sealNonceLen, sealOverhead+len(plaintext))
	out[0] = sealVersion
	copy(out[1:sealHeader], k.id[:])
	nonce := out[sealHeader:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("tokens: seal: %w", err)
	}
	return k.aead.Seal(out, nonce, plaintext, additionalData(out[:sealHeader], aad)), nil
}

// Open decrypts a blob made by Seal under the current or previous key with
// the same aad. Any failure is ErrUnseal, without detail an attacker could
// use; the key id of an unknown key is named for operators.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < sealOverhead || sealed[0] != sealVersion {
		return nil, fmt.Errorf("%w: malformed", ErrUnseal)
	}
	k := s.key(sealed[1:sealHeader])
	if k == nil {
		return nil, fmt.Errorf("%w: unknown key id %x", ErrUnseal, sealed[1:sealHeader])
	}
	nonce := sealed[sealHeader : sealHeader+sealNonceLen]
	pt, err := k.aead.Open(nil, nonce, sealed[sealHeader+sealNonceLen:], additionalData(sealed[:sealHeader], aad))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrUnseal)
	}
	return pt, nil
}

func (s *Sealer) key(id []byte) *SealingKey {
	for _, k := range []*SealingKey{s.current, s.previous} {
		if k != nil && string(k.id[:]) == string(id) {
			return k
		}
	}
	return nil
}

// additionalData binds the header to the caller's aad. The header has a
// fixed length, so the concatenation is unambiguous.
func additionalData(header, aad []byte) []byte {
	ad := make([]byte, 0, len(header)+len(aad))
	return append(append(ad, header...), aad...)
}
