// Package entra is everything this server asks of Microsoft Entra ID (v2
// endpoints): verifying Entra access tokens for mode entra (OpenID Connect
// Discovery 1.0 §4 for the key location, RFC 7519/7515 with RS256 only),
// and the On-Behalf-Of grant (RFC 7523 jwt-bearer, Entra's
// requested_token_use=on_behalf_of) that turns a user assertion into a
// Microsoft Graph token. The authority host is configuration, so the same
// code runs against login.microsoftonline.com and the local emulator.
package entra
