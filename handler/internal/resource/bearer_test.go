package resource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const prmURL = "https://apim-x.azure-api.net/.well-known/oauth-protected-resource/mcp"

func TestChallengeHeader(t *testing.T) {
	tests := []struct {
		name    string
		ch      Challenge
		errCode string
		want    string
	}{
		{"no token", Challenge{ResourceMetadataURL: prmURL, Scopes: []string{"mcp:tools"}}, "",
			`Bearer resource_metadata="` + prmURL + `", scope="mcp:tools"`},
		{"invalid token", Challenge{ResourceMetadataURL: prmURL, Scopes: []string{"mcp:tools"}}, "invalid_token",
			`Bearer error="invalid_token", resource_metadata="` + prmURL + `", scope="mcp:tools"`},
		{"every scope at once", Challenge{ResourceMetadataURL: prmURL, Scopes: []string{"a", "b"}}, "insufficient_scope",
			`Bearer error="insufficient_scope", resource_metadata="` + prmURL + `", scope="a b"`},
		{"no scopes", Challenge{ResourceMetadataURL: prmURL}, "invalid_token",
			`Bearer error="invalid_token", resource_metadata="` + prmURL + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ch.Header(tt.errCode); got != tt.want {
				t.Errorf("Header(%q) =\n%s\nwant\n%s", tt.errCode, got, tt.want)
			}
		})
	}
}

func TestRequireBearer(t *testing.T) {
	verify := func(_ context.Context, tok string) (*TokenInfo, error) {
		switch tok {
		case "good":
			return &TokenInfo{Subject: "u1", Scopes: []string{"user_impersonation"}}, nil
		case "narrow":
			return &TokenInfo{Subject: "u1", Scopes: []string{"other"}}, nil
		case "down":
			return nil, errors.New("jwks fetch failed")
		default:
			return nil, fmt.Errorf("%w: bad signature", ErrInvalidToken)
		}
	}
	ch := Challenge{
		ResourceMetadataURL: prmURL,
		Scopes:              []string{"api://app/user_impersonation"},
		ScopeMatches:        func(g, r string) bool { return "api://app/"+g == r },
	}
	var seen *TokenInfo
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = TokenInfoFrom(r.Context())
		w.WriteHeader(http.StatusTeapot)
	})
	h := RequireBearer(verify, ch, slog.New(slog.DiscardHandler))(next)

	tests := []struct {
		name       string
		method     string
		auth       string
		wantStatus int
		wantWWW    string // exact; "" means header must be absent
	}{
		{"no header", "POST", "", 401, ch.Header("")},
		{"basic scheme is no bearer token", "POST", "Basic dXNlcjpwdw==", 401, ch.Header("")},
		{"empty bearer", "POST", "Bearer ", 401, ch.Header("")},
		{"invalid", "POST", "Bearer forged", 401, ch.Header("invalid_token")},
		{"insufficient scope", "POST", "Bearer narrow", 403, ch.Header("insufficient_scope")},
		{"verifier down is 503, not 401", "POST", "Bearer down", 503, ""},
		{"valid", "POST", "Bearer good", 418, ""},
		{"scheme case-insensitive", "POST", "bearer good", 418, ""},
		{"preflight needs no token", "OPTIONS", "", 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			req := httptest.NewRequest(tt.method, "/mcp", strings.NewReader("{}"))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", rec.Code, tt.wantStatus, rec.Body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tt.wantWWW {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.wantWWW)
			}
			if got := rec.Header().Get("Access-Control-Expose-Headers"); !strings.Contains(got, "WWW-Authenticate") {
				t.Errorf("Access-Control-Expose-Headers = %q, must expose WWW-Authenticate", got)
			}
			if tt.wantStatus == 418 && (seen == nil || seen.Subject != "u1") {
				t.Errorf("next handler saw token info %+v", seen)
			}
			if tt.wantStatus >= 400 && tt.wantStatus != 418 && rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("error response Cache-Control = %q, want no-store", rec.Header().Get("Cache-Control"))
			}
		})
	}
}

// The CORS headers are the same on every answer of /mcp, and a handler that
// adds to one response's values (e.g. another exposed header) changes
// neither the shared values nor the next response.
func TestCORSHeaders(t *testing.T) {
	want := http.Header{
		"Access-Control-Allow-Origin":   {"*"},
		"Access-Control-Allow-Methods":  {"GET, POST, DELETE, OPTIONS"},
		"Access-Control-Allow-Headers":  {"Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID"},
		"Access-Control-Expose-Headers": {"WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version"},
		"Access-Control-Max-Age":        {"600"},
	}
	verify := func(context.Context, string) (*TokenInfo, error) { return &TokenInfo{}, nil }
	h := RequireBearer(verify, Challenge{ResourceMetadataURL: prmURL}, slog.New(slog.DiscardHandler))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Access-Control-Expose-Headers", "X-Extra")
			w.Header().Set("Access-Control-Max-Age", "1")
		}))
	for i := range 2 {
		for _, method := range []string{http.MethodOptions, http.MethodPost} {
			r := httptest.NewRequest(method, "/mcp", nil)
			r.Header.Set("Authorization", "Bearer t")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			for name, v := range want {
				got := rec.Header().Values(name)
				if method == http.MethodPost && name == "Access-Control-Expose-Headers" {
					v = append(v, "X-Extra")
				}
				if method == http.MethodPost && name == "Access-Control-Max-Age" {
					v = []string{"1"}
				}
				if strings.Join(got, "|") != strings.Join(v, "|") {
					t.Errorf("answer %d, %s: %s = %q, want %q", i, method, name, got, v)
				}
			}
		}
	}
}
