// Package oauth is the OAuth 2.1 authorization server MCP clients talk to
// (docs/architecture.md §4, §5). This file set holds its building blocks:
//
//   - errors.go: the one error type and writer for RFC 6749 §5.2 and
//     RFC 7591 §3.2.2 error responses.
//   - pkce.go: RFC 7636 S256 verification (the only method offered).
//   - redirect.go: redirect URI rules for registration and the exact /
//     loopback-any-port matching of RFC 8252 §7.3 and OAuth 2.1 §2.3.1.
//   - register.go: dynamic client registration (RFC 7591).
//   - cimd.go: client ID metadata documents (MCP 2025-11-25,
//     draft-ietf-oauth-client-id-metadata-document), fetched SSRF-safely.
//   - metadata.go: authorization server metadata (RFC 8414), its OpenID
//     Connect Discovery 1.0 alias, and the JWK Set (RFC 7517).
//   - authorize.go, consent.go, callback.go: the browser part of the flow
//     (OAuth 2.1 §4.1.1, RFC 9207, RFC 9700 §4.11.2 for error redirects).
//   - token.go, refresh.go: the token endpoint; refresh-token rotation
//     with a grace window that hands out the successor already issued
//     (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2); code replay revokes the grant
//     (RFC 6749 §4.1.2).
//   - handler.go: the Handler that carries every dependency.
//
// Descriptions in error responses are for the client; the detail (the
// wrapped Err) goes only to the log.
package oauth
