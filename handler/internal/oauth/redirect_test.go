package oauth

import (
	"net/url"
	"strings"
	"testing"
)

func TestValidateRedirectURI(t *testing.T) {
	tests := []struct {
		uri     string
		appType string
		wantOK  bool
	}{
		{"https://claude.ai/api/mcp/auth_callback", "web", true},
		{"https://vscode.dev/redirect", "web", true},
		{"https://example.com:8443/cb?x=1", "web", true},
		{"http://127.0.0.1/", "web", true},
		{"http://127.0.0.1:33418/", "native", true},
		{"http://127.0.0.1", "native", true},
		{"http://localhost:6274/oauth/callback", "web", true},
		{"http://[::1]:8080/cb", "native", true},
		{"vscode://vscode.github-authentication/did-authenticate", "native", true},
		{"cursor://anysphere.cursor-retrieval/oauth/callback", "native", true},
		{"claude://oauth/callback", "native", true},
		{"com.example.app:/oauth2redirect", "native", true},
		{"vscode://vscode.github-authentication/did-authenticate", "web", false}, // private-use needs native
		{"com.example.app:oauth2redirect", "native", false},                      // opaque form
		{"http://example.com/cb", "web", false},
		{"http://127.0.0.1.evil.example/cb", "native", false},
		{"http://127.0.0.1@evil.example/cb", "native", false},
		{"http://evil@127.0.0.1/cb", "native", false},
		{"https://user:pass@example.com/cb", "web", false},
		{"http://127.0.0.2/cb", "native", false},
		{"http://LOCALHOST/cb", "native", false},
		{"http://[0:0:0:0:0:0:0:1]/cb", "native", false},
		{"http://127.0.0.1:99999/cb", "native", false},
		{"HTTPS://example.com/cb", "web", false},
		{"https://example.com/cb#frag", "web", false},
		{"https://example.com/cb#", "web", false},
		{"https://*.example.com/cb", "web", false},
		{"https://example.com/*", "web", false},
		{"https:///cb", "web", false},
		{"https:example.com/cb", "web", false},
		{"/relative/cb", "web", false},
		{"", "web", false},
		{"javascript:alert(1)", "native", false},
		{"javascript://x/%0aalert(1)", "native", false},
		{"data:text/html,hi", "native", false},
		{"file:///etc/passwd", "native", false},
		{"ws://127.0.0.1/", "native", false},
		{"c:/windows/cb", "native", false},
		{"https://example.com/c b", "web", false},
		{"https://example.com/cb\t", "web", false},
		{"https://exämple.com/cb", "web", false},
		{"https://example.com\\@evil.example/", "web", false},
		{"https://example.com/" + strings.Repeat("a", 2000), "web", false},
	}
	for _, tt := range tests {
		t.Run(tt.uri+"/"+tt.appType, func(t *testing.T) {
			err := ValidateRedirectURI(tt.uri, tt.appType)
			if (err == nil) != tt.wantOK {
				t.Errorf("ValidateRedirectURI(%q, %s) = %v, want ok=%v", tt.uri, tt.appType, err, tt.wantOK)
			}
		})
	}
}

var vscodeRedirects = []string{
	"http://127.0.0.1/", "http://127.0.0.1:33418/", "https://vscode.dev/redirect", "https://insiders.vscode.dev/redirect",
}

func TestMatchRedirectURI(t *testing.T) {
	inspector := []string{"http://localhost:6274/oauth/callback", "http://localhost:6274/oauth/callback/debug"}
	tests := []struct {
		name       string
		registered []string
		requested  string
		want       bool
	}{
		{"exact https", vscodeRedirects, "https://vscode.dev/redirect", true},
		{"exact loopback", vscodeRedirects, "http://127.0.0.1:33418/", true},
		{"loopback other port", vscodeRedirects, "http://127.0.0.1:51234/", true},
		{"loopback no port", vscodeRedirects, "http://127.0.0.1/", true},
		{"inspector other port", inspector, "http://localhost:9999/oauth/callback/debug", true},
		{"ipv6 loopback other port", []string{"http://[::1]:1/cb"}, "http://[::1]:2/cb", true},
		{"loopback query kept", []string{"http://127.0.0.1/cb?a=1"}, "http://127.0.0.1:5/cb?a=1", true},
		{"loopback different query", []string{"http://127.0.0.1/cb?a=1"}, "http://127.0.0.1:5/cb?a=2", false},
		{"loopback trailing slash", vscodeRedirects, "http://127.0.0.1:51234", false},
		{"loopback extra path", vscodeRedirects, "http://127.0.0.1:51234/x", false},
		{"https other port", vscodeRedirects, "https://vscode.dev:444/redirect", false},
		{"https trailing slash", vscodeRedirects, "https://vscode.dev/redirect/", false},
		{"https case", vscodeRedirects, "https://VSCODE.dev/redirect", false},
		{"https path case", vscodeRedirects, "https://vscode.dev/Redirect", false},
		{"https added query", vscodeRedirects, "https://vscode.dev/redirect?x=1", false},
		{"https fragment", vscodeRedirects, "https://vscode.dev/redirect#x", false},
		{"127.0.0.1 is not localhost", vscodeRedirects, "http://localhost:33418/", false},
		{"localhost is not 127.0.0.1", inspector, "http://127.0.0.1:6274/oauth/callback", false},
		{"[::1] is not 127.0.0.1", vscodeRedirects, "http://[::1]:33418/", false},
		{"suffix host", vscodeRedirects, "http://127.0.0.1.evil.example/", false},
		{"suffix host with port", vscodeRedirects, "http://127.0.0.1.evil.example:33418/", false},
		{"userinfo trick", vscodeRedirects, "http://127.0.0.1@evil.example/", false},
		{"userinfo before loopback", vscodeRedirects, "http://evil@127.0.0.1/", false},
		{"port then userinfo", vscodeRedirects, "http://127.0.0.1:1@evil.example/", false},
		{"backslash", vscodeRedirects, "http://127.0.0.1\\@evil.example/", false},
		{"scheme case", vscodeRedirects, "HTTP://127.0.0.1:5/", false},
		{"https on loopback", vscodeRedirects, "https://127.0.0.1:5/", false},
		{"port letters", vscodeRedirects, "http://127.0.0.1:abc/", false},
		{"empty port", vscodeRedirects, "http://127.0.0.1:/", false},
		{"huge port", vscodeRedirects, "http://127.0.0.1:65536/", false},
		{"encoded path", vscodeRedirects, "http://127.0.0.1:5/%2e", false},
		{"loopback fragment", vscodeRedirects, "http://127.0.0.1:5/#x", false},
		{"empty", vscodeRedirects, "", false},
		{"nothing registered", nil, "http://127.0.0.1/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchRedirectURI(tt.registered, tt.requested); got != tt.want {
				t.Errorf("MatchRedirectURI(%q, %q) = %v, want %v", tt.registered, tt.requested, got, tt.want)
			}
		})
	}
}

// FuzzMatchRedirectURI holds the matcher to its invariant: a match means
// the request has the scheme, host and path of some registered URI (only
// a loopback port may differ).
func FuzzMatchRedirectURI(f *testing.F) {
	for _, s := range [][2]string{
		{"http://127.0.0.1/", "http://127.0.0.1:33418/"},
		{"http://localhost:6274/oauth/callback", "http://localhost:1/oauth/callback"},
		{"http://[::1]/cb", "http://[::1]:80/cb"},
		{"https://claude.ai/api/mcp/auth_callback", "https://claude.ai/api/mcp/auth_callback"},
		{"http://127.0.0.1/", "http://127.0.0.1.evil.example/"},
		{"http://127.0.0.1/", "http://127.0.0.1@evil.example/"},
		{"http://127.0.0.1/", "http://evil@127.0.0.1/"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, registered, requested string) {
		if !MatchRedirectURI([]string{registered}, requested) || registered == requested {
			return
		}
		reg, err1 := url.Parse(registered)
		req, err2 := url.Parse(requested)
		if err1 != nil || err2 != nil {
			t.Fatalf("matched unparseable URIs %q, %q", registered, requested)
		}
		if reg.Scheme != "http" || req.Scheme != reg.Scheme || req.Hostname() != reg.Hostname() ||
			req.EscapedPath() != reg.EscapedPath() || req.RawQuery != reg.RawQuery || req.User != nil {
			t.Fatalf("%q matched %q with a different scheme, host, path or query", requested, registered)
		}
		if !IsLoopbackRedirectURI(requested) {
			t.Fatalf("non-exact match of non-loopback %q", requested)
		}
	})
}
