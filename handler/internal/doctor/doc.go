// Package doctor checks a deployed MCP server from outside, with no
// credentials, the way an MCP client meets it, and names the layer at fault
// when a check fails: API Management (the public URL), the Azure Functions
// host, the handler's configuration, or Microsoft Entra ID.
//
// What it checks, and against which specification:
//
//   - Protected Resource Metadata (RFC 9728 §3) at the root and the
//     path-inserted well-known URL, and that its "resource" is the URL the
//     user gave (RFC 9728 §3.3);
//   - the authorization server's metadata (RFC 8414 §3; MCP authorization:
//     PKCE S256 must be advertised), the OpenID configuration API
//     Management's validate-jwt reads, and the JWKS (RFC 7517) whose keys
//     validate-jwt can use (RS256, PS256 or RS512 only);
//   - the 401 challenge of /mcp (RFC 6750 §3, RFC 9728 §5.1), and who sent
//     it, told apart by the answer itself (the handler sets X-Request-Id on
//     every response; API Management's own errors are {"statusCode",
//     "message"} JSON; the Functions host answers a missing function key
//     with an empty 401);
//   - the handler's /healthz through the whole chain;
//   - CORS for browser clients (Fetch standard: preflight, exposed headers);
//   - dynamic client registration (RFC 7591).
//
// With sign-in it walks the whole flow a client does: authorization code
// with PKCE (RFC 7636) and the iss check (RFC 9207) on a loopback redirect
// (RFC 8252 §7.3), the token request with resource (RFC 8707), the whoami
// tool over MCP streamable HTTP, refresh-token rotation (OAuth 2.1 §4.3.1),
// revocation (RFC 7009), and the access token after revocation.
//
// The doctor is a separate command (handler/cmd/doctor) and is never linked
// into the handler binary.
package doctor
