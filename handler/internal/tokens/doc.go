// Package tokens owns the authorization server's key material and the tokens
// made with it (docs/architecture.md §6, §8):
//
//   - Access tokens are compact RS256 JWTs (RFC 7519, RFC 7515, RFC 7518
//     §3.3) following the JWT profile for OAuth 2.0 access tokens (RFC 9068):
//     header typ "at+jwt", claims iss, aud, sub, client_id, scope, jti, iat,
//     exp, plus gid, the grant id that points to the stored upstream tokens.
//     RS256 because API Management's validate-jwt accepts only PS256, RS256
//     and RS512 for asymmetric keys. With a 2048-bit key they stay under
//     1 KB so they fit any header limit. Verify accepts RS256 with one of
//     our own keys only; the algorithm is never taken from the token.
//   - The public signing keys are published as a JWK Set (RFC 7517); each
//     key id is the key's RFC 7638 JWK thumbprint, so the same key always
//     has the same kid on every instance.
//   - Upstream Entra tokens are sealed with AES-256-GCM under a key id
//     before they reach storage (Sealer).
//   - Opaque secrets (codes, client secrets) come from NewOpaque, refresh
//     tokens from NewRefresh (the grant id, then a NewOpaque secret); all
//     are stored only as Hash.
//
// Rotation. Both key kinds have a current and a previous slot. The current
// key signs or seals; both verify or open. Because the previous signing key
// is published in the JWKS, a new key can be announced before it signs:
// deploy it as the previous key first, wait for JWKS caches (max-age) to
// expire, then swap the two slots.
//
// Key material is never logged: SigningKey and SealingKey render as their
// key id in fmt and log/slog. Without a configured signing key (local runs
// only) an ephemeral RSA key is generated on first use, keeping the tens of
// milliseconds RSA key generation takes off process start.
package tokens
