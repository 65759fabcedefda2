// Package entraemu is an in-memory emulator of the Microsoft Entra ID v2
// endpoints this project talks to, for tests and offline local runs only. It
// is never part of the deployed package.
//
// It serves, over HTTPS with a self-signed certificate generated at start
// (azidentity refuses an authority host without https):
//
//   - OpenID Connect Discovery 1.0 at /{tenant}/v2.0/.well-known/openid-configuration
//     and a JWKS (RFC 7517) at /{tenant}/discovery/v2.0/keys;
//   - the authorization endpoint (RFC 6749 §4.1, PKCE per RFC 7636, S256 only)
//     with an HTML sign-in page listing the test users, and Entra's consent
//     prompt for delegated Graph permissions a user has not consented to
//     (consent is kept per app and user, see consent.go);
//   - the token endpoint: authorization_code, refresh_token, and On-Behalf-Of
//     (RFC 7523 jwt-bearer with requested_token_use=on_behalf_of), with client
//     authentication by secret (RFC 6749 §2.3.1) or by a JWT client assertion
//     (RFC 7523 §2.2) that must be a federated identity credential: a managed
//     identity token for api://AzureADTokenExchange issued by the emulator;
//   - the v2 admin-consent endpoint (/{tenant}/v2.0/adminconsent), where an
//     administrator grants the API app Graph permissions for everyone and is
//     sent back with admin_consent=True (adminconsent.go);
//   - the App Service managed identity endpoint (/msi/token) that issues those
//     assertions, as azidentity's ManagedIdentityCredential calls it;
//   - Microsoft Graph GET /v1.0/me and GET /v1.0/me/messages (fixture
//     mailboxes) for tokens from the OBO flow.
//
// Errors are Entra-shaped (AADSTS codes, error_codes, trace and correlation
// ids) so that code written against the emulator handles real Entra answers.
// Everything lives in memory behind one mutex.
package entraemu
