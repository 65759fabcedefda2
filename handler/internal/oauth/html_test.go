package oauth

import (
	"strings"
	"testing"
)

// TestConsentCSP: the consent form may lead to this server, Entra and the
// request's redirect URI, and nowhere else; error pages have no form.
func TestConsentCSP(t *testing.T) {
	const entra = "https://login.microsoftonline.com"
	tests := []struct {
		redirectURI, want string
	}{
		{"https://claude.ai/api/mcp/auth_callback", "form-action 'self' https://login.microsoftonline.com https://claude.ai"},
		{"http://127.0.0.1:33418/", "form-action 'self' https://login.microsoftonline.com http://127.0.0.1:33418"},
		{"http://localhost:6274/oauth/callback?x=1", "form-action 'self' https://login.microsoftonline.com http://localhost:6274"},
		{"vscode://vscode.github-authentication/did-authenticate", "form-action 'self' https://login.microsoftonline.com vscode:"},
		// CSP has no host syntax for IPv6 literals: only the scheme fits.
		{"http://[::1]:8080/cb", "form-action 'self' https://login.microsoftonline.com http:"},
		{"https://login.microsoftonline.com/common/oauth2/nativeclient", "form-action 'self' https://login.microsoftonline.com"},
	}
	for _, tt := range tests {
		csp := consentCSP(entra, tt.redirectURI)
		if !strings.HasSuffix(csp, "; "+tt.want) || !strings.HasPrefix(csp, "default-src 'none';") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("consentCSP(%q) = %q, want it to end with %q", tt.redirectURI, csp, tt.want)
		}
	}
	if !strings.Contains(pageCSP, "form-action 'none'") {
		t.Errorf("pageCSP = %q, want form-action 'none'", pageCSP)
	}
}
