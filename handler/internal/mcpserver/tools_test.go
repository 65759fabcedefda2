package mcpserver

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entra"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/graph"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
)

type fakeProfiles struct {
	p   graph.Profile
	err error
}

func (f fakeProfiles) Me(context.Context, *resource.TokenInfo) (graph.Profile, error) {
	return f.p, f.err
}

func text(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func TestWhoami(t *testing.T) {
	caller := resource.WithTokenInfo(context.Background(), &resource.TokenInfo{Subject: "u1"})
	adele := graph.Profile{ID: "u1", DisplayName: "Adele Vance", Mail: "adele@contoso.example", JobTitle: "Retail Manager", Department: "Retail", OfficeLocation: "18/2111"}
	tests := []struct {
		name      string
		ctx       context.Context
		profiles  Profiles
		wantError bool
		wantText  []string
	}{
		{"profile", caller, fakeProfiles{p: adele}, false,
			[]string{"You are Adele Vance <adele@contoso.example>.", "Retail Manager, Retail.", "Office: 18/2111.", "u1"}},
		{"upn when there is no mail", caller, fakeProfiles{p: graph.Profile{ID: "u1", DisplayName: "A", UserPrincipalName: "a@x"}}, false, []string{"<a@x>"}},
		{"consent required names the URL", caller, fakeProfiles{err: &entra.ErrConsentRequired{URL: "https://login.example/t/v2.0/adminconsent?client_id=c"}}, true,
			[]string{"consent", "https://login.example/t/v2.0/adminconsent?client_id=c"}},
		{"graph error says what failed, not the upstream detail", caller, fakeProfiles{err: &graph.Error{Status: 503, Code: "serviceNotAvailable", Message: "secret detail"}}, true,
			[]string{"503 serviceNotAvailable"}},
		{"no caller", context.Background(), fakeProfiles{p: adele}, true, []string{"not authenticated"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := whoami(tt.profiles, slog.New(slog.DiscardHandler))(tt.ctx, mcp.CallToolRequest{})
			if err != nil {
				t.Fatal(err)
			}
			got := text(res)
			if res.IsError != tt.wantError {
				t.Errorf("IsError = %v, want %v (%s)", res.IsError, tt.wantError, got)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(got, w) {
					t.Errorf("text %q does not contain %q", got, w)
				}
			}
			if strings.Contains(got, "secret detail") {
				t.Errorf("upstream detail leaked into the result: %q", got)
			}
		})
	}
}

func TestWhoamiStructuredContent(t *testing.T) {
	ctx := resource.WithTokenInfo(context.Background(), &resource.TokenInfo{Subject: "u1"})
	res, _ := whoami(fakeProfiles{p: graph.Profile{ID: "u1", DisplayName: "Adele Vance", UserPrincipalName: "a@x"}}, slog.New(slog.DiscardHandler))(ctx, mcp.CallToolRequest{})
	got, ok := res.StructuredContent.(WhoamiResult)
	if !ok || got.DisplayName != "Adele Vance" || got.UPN != "a@x" || got.ID != "u1" {
		t.Fatalf("structured content = %#v", res.StructuredContent)
	}
}

func TestAuthInfo(t *testing.T) {
	exp := time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)
	ctx := resource.WithTokenInfo(context.Background(), &resource.TokenInfo{
		Subject: "u1", Name: "Adele Vance", ClientID: "client-1", Scopes: []string{"mcp:tools"}, Issuer: "https://apim-x", Expiry: exp,
	})
	res, err := authInfo(ctx, mcp.CallToolRequest{})
	if err != nil || res.IsError {
		t.Fatalf("auth_info: %v %s", err, text(res))
	}
	got := res.StructuredContent.(AuthInfoResult)
	if got.Subject != "u1" || got.ClientID != "client-1" || strings.Join(got.Scopes, " ") != "mcp:tools" || !got.ExpiresAt.Equal(exp) {
		t.Fatalf("auth_info = %+v", got)
	}
	if w := "Signed in as Adele Vance (object id u1) through client client-1. Scopes: mcp:tools."; !strings.Contains(text(res), w) {
		t.Errorf("text %q", text(res))
	}
	if res, _ := authInfo(context.Background(), mcp.CallToolRequest{}); !res.IsError {
		t.Error("auth_info without a caller is not an error")
	}
}

func TestNewRegistersTools(t *testing.T) {
	s := New(Options{Name: "t", Version: "1", Profiles: fakeProfiles{err: errors.New("x")}, Logger: slog.New(slog.DiscardHandler)})
	tools := s.ListTools()
	if _, ok := tools["whoami"]; !ok {
		t.Error("whoami not registered")
	}
	if _, ok := tools["auth_info"]; !ok {
		t.Error("auth_info not registered")
	}
}
