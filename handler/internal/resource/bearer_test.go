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
			if tt.wantStatus == 418 && (seen == nil || seen.Subject != "u1") {
				t.Errorf("next handler saw token info %+v", seen)
			}
			if tt.wantStatus >= 400 && tt.wantStatus != 418 && rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("error response Cache-Control = %q, want no-store", rec.Header().Get("Cache-Control"))
			}
		})
	}
}

// TestForbid: the step-up challenge names the scopes given, with
// error="insufficient_scope" and resource_metadata (RFC 6750 §3.1; MCP
// 2025-11-25, "Scope Challenge Handling").
func TestForbid(t *testing.T) {
	ch := Challenge{ResourceMetadataURL: prmURL, Scopes: []string{"mcp:tools"}}
	w := httptest.NewRecorder()
	ch.Forbid(w, []string{"mcp:tools", "mail.read"}, "calling recent_mail needs scope mail.read")
	want := `Bearer error="insufficient_scope", resource_metadata="` + prmURL + `", scope="mcp:tools mail.read"`
	if w.Code != http.StatusForbidden || w.Header().Get("WWW-Authenticate") != want ||
		!strings.Contains(w.Body.String(), `"error":"insufficient_scope"`) || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %q %s", w.Code, w.Header().Get("WWW-Authenticate"), w.Body)
	}
	// The challenge itself is a value: the 401 keeps naming the base scope.
	if got := ch.Header("invalid_token"); !strings.HasSuffix(got, `scope="mcp:tools"`) {
		t.Errorf("Header after Forbid = %q", got)
	}
}

func TestMissing(t *testing.T) {
	entra := Challenge{ScopeMatches: func(g, r string) bool { return g == r || "api://app/"+g == r }}
	tests := []struct {
		ch                Challenge
		granted, required []string
		want              []string
	}{
		{Challenge{}, []string{"mcp:tools"}, []string{"mcp:tools", "mail.read"}, []string{"mail.read"}},
		{Challenge{}, []string{"mcp:tools", "mail.read", "offline_access"}, []string{"mcp:tools", "mail.read"}, nil},
		{Challenge{}, nil, []string{"mcp:tools"}, []string{"mcp:tools"}},
		{entra, []string{"user_impersonation"}, []string{"api://app/user_impersonation", "api://app/mail.read"}, []string{"api://app/mail.read"}},
		{entra, []string{"user_impersonation", "mail.read"}, []string{"api://app/user_impersonation", "api://app/mail.read"}, nil},
	}
	for _, tt := range tests {
		if got := tt.ch.Missing(tt.granted, tt.required); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("Missing(%v, %v) = %v, want %v", tt.granted, tt.required, got, tt.want)
		}
	}
}
