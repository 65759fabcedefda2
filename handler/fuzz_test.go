package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// plainServer is the handler in mode proxy with a memory store (Azure
// Table Storage when env says so) and no upstream reachable: enough for
// every endpoint's input validation and for benchmarks. env overrides the
// defaults. Its store and an issuer of tokens it accepts come with it.
func plainServer(tb testing.TB, logger *slog.Logger, env map[string]string) plain {
	tb.Helper()
	key, err := testSigningKey()
	if err != nil {
		tb.Fatal(err)
	}
	keyPEM, _ := key.PEM()
	vars := map[string]string{
		"AUTH_MODE": "proxy", "PUBLIC_BASE_URL": "http://127.0.0.1:7071", "LOG_LEVEL": "warn",
		"ENTRA_TENANT_ID": "11111111-1111-4111-8111-111111111111", "ENTRA_CLIENT_ID": "22222222-2222-4222-8222-222222222222",
		"ENTRA_CLIENT_SECRET": "x", "ENTRA_AUTHORITY_HOST": "https://127.0.0.1:1", "GRAPH_BASE_URL": "https://127.0.0.1:1",
		"SIGNING_KEY": string(keyPEM),
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		tb.Fatal(err)
	}
	opts := options{Logger: logger, Clock: time.Now}
	if opts.Store, err = openStore(cfg, opts); err != nil {
		tb.Fatal(err)
	}
	srv, err := newServer(cfg, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Close)
	issuer, err := tokens.NewIssuer(tokens.IssuerOptions{Issuer: cfg.PublicBaseURL, Audience: cfg.ResourceURL()}, key, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return plain{srv, opts.Store, issuer}
}

type plain struct {
	*server
	store  store.Store
	issuer *tokens.Issuer
}

// FuzzEndpoints throws arbitrary input at every endpoint: the answer may be
// any client error, never a 5xx or a panic (which the request middleware
// would turn into a 500).
func FuzzEndpoints(f *testing.F) {
	srv := plainServer(f, slog.New(slog.DiscardHandler), nil)
	seeds := []struct{ method, path, query, body string }{
		{"POST", "/token", "", "grant_type=authorization_code&code=x&code_verifier=y&client_id=z&redirect_uri=http://127.0.0.1/cb"},
		{"POST", "/token", "", "grant_type=refresh_token&refresh_token=%ZZ&client_id=a&client_id=b"},
		{"POST", "/revoke", "", "token=abc&token_type_hint=access_token&client_id=c"},
		{"GET", "/authorize", "client_id=c&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&response_type=code&code_challenge=x", ""},
		{"GET", "/authorize", "client_id=https%3A%2F%2F127.0.0.1%2Fdoc&resource=%00", ""},
		{"POST", "/register", "", `{"redirect_uris":["http://127.0.0.1:1/x"],"client_name":"\u202e"}`},
		{"POST", "/register", "", `{"redirect_uris":[{}]}`},
		{"GET", "/consent", "request=nope", ""},
		{"POST", "/consent", "", "request=x&csrf_token=y&decision=approve"},
		{"GET", "/callback", "state=x&code=y", ""},
		{"GET", "/callback", "error=access_denied", ""},
		{"POST", "/mcp", "", `{"jsonrpc":"2.0","id":1,"method":"tools/call"}`},
		{"GET", "/.well-known/oauth-protected-resource/mcp", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.body, "Bearer x")
	}
	f.Fuzz(func(t *testing.T, method, path, query, body, auth string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t?#") || !validMethod(method) {
			return
		}
		u := path
		if query != "" {
			u += "?" + url.PathEscape(query)
		}
		req, err := http.NewRequest(method, "http://127.0.0.1:7071"+u, strings.NewReader(body))
		if err != nil {
			return
		}
		req.RemoteAddr = "203.0.113.7:4000"
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if strings.HasPrefix(body, "{") {
			req.Header.Set("Content-Type", "application/json")
		}
		if auth != "" && !strings.ContainsAny(auth, "\r\n") {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		_, _ = io.Copy(io.Discard, rec.Body)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s?%s body %q: status %d", method, path, query, body, rec.Code)
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case "GET", "POST", "HEAD", "OPTIONS", "DELETE", "PUT", "PATCH":
		return true
	}
	return false
}
