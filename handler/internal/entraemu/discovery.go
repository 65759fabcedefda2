package entraemu

import "net/http"

// handleDiscovery serves the OpenID Connect Discovery 1.0 document with the
// members Entra's v2 document has. MSAL reads authorization_endpoint,
// token_endpoint and issuer from it and requires the issuer's host to be the
// authority's host.
func (e *Emulator) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	base := e.baseURL(r)
	tenantBase := base + "/" + e.cfg.TenantID
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        tenantBase + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              tenantBase + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                tenantBase + "/v2.0",
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     base + "/oidc/userinfo",
		"authorization_endpoint":                tenantBase + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         tenantBase + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  tenantBase + "/oauth2/v2.0/logout",
		"claims_supported": []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
			"cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce",
			"preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		"kerberos_endpoint":     tenantBase + "/kerberos",
		"tenant_region_scope":   "NA",
		"cloud_instance_name":   "microsoftonline.com",
		"cloud_graph_host_name": "graph.windows.net",
		"msgraph_host":          "graph.microsoft.com",
		"rbac_url":              "https://pas.windows.net",
	})
}

// handleKeys serves the JWKS (RFC 7517 §5): the current key first, then the
// previous one while it may still verify live tokens.
func (e *Emulator) handleKeys(w http.ResponseWriter, r *http.Request) {
	iss := e.issuer(r)
	var keys []jwk
	for _, k := range e.publicKeys() {
		keys = append(keys, k.jwk(iss))
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}
