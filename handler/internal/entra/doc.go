// Package entra is everything this server asks of Microsoft Entra ID (v2
// endpoints). The authority host is configuration, so the same code runs
// against login.microsoftonline.com and the local emulator.
//
//   - verify.go: Verifier checks Entra access tokens in mode entra and the ID
//     token /callback receives (OpenID Connect Discovery 1.0 §4 for the key
//     location, OIDC Core §3.1.3.7, RFC 7519/7515 with RS256 only).
//   - upstream.go: Upstream is the authorization server's confidential-client
//     leg in mode proxy: authorization code with PKCE and refresh
//     (golang.org/x/oauth2), authenticated by a client assertion (RFC 7523
//     §2.2) or, outside Azure, a secret.
//   - obo.go: OBO, the On-Behalf-Of grant (RFC 7523 jwt-bearer with Entra's
//     requested_token_use=on_behalf_of) that turns a user assertion into a
//     Microsoft Graph token, its consent and interaction errors, and
//     ManagedIdentityAssertion, the managed-identity token the app
//     registration's federated credential trusts.
//   - http.go: NewHTTPClient, the one outbound client for Entra and Graph,
//     with every wait bounded.
//
// docs/architecture.md §9 describes both modes and the upstream leg.
package entra
