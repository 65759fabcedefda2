// Package oauth is the OAuth 2.1 authorization server MCP clients talk to
// in mode proxy (docs/architecture.md §4, §5). handler/routes.go mounts
// its endpoints; the files:
//
// The Handler and what every endpoint shares:
//   - handler.go: Handler and its Options, and Client, which resolves a
//     client_id (registration or metadata document).
//   - errors.go: the one error type and writer for RFC 6749 §5.2 and
//     RFC 7591 §3.2.2 error responses.
//   - html.go, templates/: the consent, error and information pages, their
//     strict CSP.
//   - cookies.go: the __Host- browser cookies that bind a sign-in to one
//     browser and remember consent.
//   - audit.go: audit events (identifiers only, never secrets).
//
// The endpoints:
//   - metadata.go: authorization server metadata (RFC 8414), its OpenID
//     Connect Discovery 1.0 alias, and the JWK Set (RFC 7517).
//   - register.go: dynamic client registration (RFC 7591); limits.go, its
//     per-address quota and the idle expiry of registrations.
//   - cimd.go, cimd_addr.go, cimd_cache.go: client ID metadata documents
//     (MCP 2025-11-25, draft-ietf-oauth-client-id-metadata-document),
//     fetched SSRF-safely (only public addresses, checked at dial time)
//     and cached.
//   - redirect.go: redirect URI rules for registration and the exact /
//     loopback-any-port matching of RFC 8252 §7.3 and OAuth 2.1 §2.3.1.
//   - authorize.go, consent.go, callback.go: the browser part of the flow
//     (OAuth 2.1 §4.1.1, RFC 9207, RFC 9700 §4.11.2 for error redirects),
//     the per-client consent MCP's security best practices ask of a proxy,
//     and the return from Entra. The scopes issued are TOOL_SCOPES'
//     (Options.Scopes): the consent page says what each lets the app do and
//     marks what a re-authorization adds, the sign-in at Entra asks for
//     their Entra permissions (incremental consent), and a new sign-in of
//     the same user through the same approval replaces the grant the last
//     one created (step-up, MCP 2025-11-25). callback.go also answers
//     Entra's admin-consent redirect.
//   - pkce.go: RFC 7636 S256 verification (the only method offered).
//   - clientauth.go: client authentication at /token and /revoke
//     (none, client_secret_post, client_secret_basic).
//   - token.go, refresh.go: the token endpoint; refresh-token rotation
//     with a grace window that hands out the successor already issued
//     (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2); code replay revokes the grant
//     (RFC 6749 §4.1.2).
//   - revoke.go: token revocation (RFC 7009), which ends the whole grant.
//
// Serving /mcp:
//   - grant.go: VerifyAccessToken, the resource.Verifier of mode proxy
//     (our token, then its grant, cached for GrantCheckInterval), and
//     UserAssertion, the grant's Entra token for On-Behalf-Of, refreshed
//     when it expires.
//
// Descriptions in error responses are for the client; the detail (the
// wrapped Err) goes only to the log.
package oauth
