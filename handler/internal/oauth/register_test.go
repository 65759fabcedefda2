package oauth

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// Registration bodies as the real clients send them (docs/architecture.md
// §16.2).
const (
	vscodeBody = `{"client_name":"Visual Studio Code","client_uri":"https://code.visualstudio.com",
		"grant_types":["authorization_code","refresh_token","urn:ietf:params:oauth:grant-type:device_code"],
		"response_types":["code"],
		"redirect_uris":["https://insiders.vscode.dev/redirect","https://vscode.dev/redirect","http://127.0.0.1/","http://127.0.0.1:33418/"],
		"scope":"mcp:tools","token_endpoint_auth_method":"none","application_type":"native"}`
	vscodeOlderBody = `{"client_name":"Visual Studio Code","client_uri":"https://code.visualstudio.com",
		"grant_types":["authorization_code","refresh_token","urn:ietf:params:oauth:grant-type:device_code"],
		"response_types":["code"],
		"redirect_uris":["https://insiders.vscode.dev/redirect","https://vscode.dev/redirect","http://localhost/","http://127.0.0.1/","http://localhost:33418/","http://127.0.0.1:33418/"],
		"token_endpoint_auth_method":"none"}`
	claudeBody = `{"client_name":"Claude","grant_types":["authorization_code","refresh_token"],"response_types":["code"],
		"token_endpoint_auth_method":"none","scope":"mcp:tools offline_access",
		"redirect_uris":["https://claude.ai/api/mcp/auth_callback","https://claude.com/api/mcp/auth_callback"]}`
	claudeSecretBody = `{"client_name":"claude.ai","redirect_uris":["https://claude.ai/api/mcp/auth_callback","https://claude.com/api/mcp/auth_callback"],
		"token_endpoint_auth_method":"client_secret_post"}`
	claudeCodeBody = `{"client_name":"Claude Code (azure-mcp)","redirect_uris":["http://localhost:54321/callback"],
		"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none"}`
	inspectorBody = `{"redirect_uris":["http://localhost:6274/oauth/callback","http://localhost:6274/oauth/callback/debug"],
		"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"response_types":["code"],
		"client_name":"MCP Inspector","client_uri":"https://github.com/modelcontextprotocol/inspector"}`
)

func postRegister(t *testing.T, h *Handler, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/register", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.Register(w, r)
	return w
}

func TestRegisterRealClients(t *testing.T) {
	tests := []struct {
		name, body string
		wantApp    string
		wantAuth   string
		wantGrants []string
	}{
		{"VS Code", vscodeBody, "native", "none", []string{"authorization_code", "refresh_token"}},
		{"VS Code, older", vscodeOlderBody, "web", "none", []string{"authorization_code", "refresh_token"}},
		{"Claude", claudeBody, "web", "none", []string{"authorization_code", "refresh_token"}},
		{"Claude with secret", claudeSecretBody, "web", "client_secret_post", []string{"authorization_code", "refresh_token"}},
		{"Claude Code", claudeCodeBody, "web", "none", []string{"authorization_code", "refresh_token"}},
		{"MCP Inspector", inspectorBody, "web", "none", []string{"authorization_code", "refresh_token"}},
		{"native app scheme", `{"redirect_uris":["cursor://anysphere.cursor-retrieval/oauth/callback"]}`, "native", "none", []string{"authorization_code", "refresh_token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHandler(t, nil)
			w := postRegister(t, h, tt.body)
			if w.Code != http.StatusCreated {
				t.Fatalf("status = %d, body %s", w.Code, w.Body)
			}
			checkNoStore(t, w.Result().Header)
			var got registrationResponse
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			var sent ClientMetadata
			_ = json.Unmarshal([]byte(tt.body), &sent)
			if diff := cmp.Diff(sent.RedirectURIs, got.RedirectURIs); diff != "" {
				t.Errorf("redirect_uris (-sent +got):\n%s", diff)
			}
			if got.ApplicationType != tt.wantApp || got.TokenEndpointAuthMethod != tt.wantAuth || !cmp.Equal(got.GrantTypes, tt.wantGrants) {
				t.Errorf("application_type, auth, grants = %q, %q, %q", got.ApplicationType, got.TokenEndpointAuthMethod, got.GrantTypes)
			}
			if got.ClientIDIssuedAt != t0.Unix() || got.ClientID == "" || !cmp.Equal(got.ResponseTypes, []string{"code"}) {
				t.Errorf("response = %+v", got)
			}
			stored, err := h.Store.GetClient(t.Context(), got.ClientID)
			if err != nil {
				t.Fatal(err)
			}
			checkSecret(t, got, stored)
			// The client resolves through Handler.Client and its redirect URIs match.
			c, err := h.Client(t.Context(), got.ClientID)
			if err != nil || !MatchRedirectURI(c.RedirectURIs, sent.RedirectURIs[0]) {
				t.Errorf("Client(%s) = %+v, %v", got.ClientID, c, err)
			}
		})
	}
}

// checkSecret: a secret is returned once with client_secret_expires_at 0
// and stored only as its hash.
func checkSecret(t *testing.T, got registrationResponse, stored store.Client) {
	t.Helper()
	if got.TokenEndpointAuthMethod == "none" {
		if got.ClientSecret != "" || got.ClientSecretExpiresAt != nil || stored.SecretHash != "" {
			t.Errorf("public client got a secret: %+v / %+v", got, stored)
		}
		return
	}
	if got.ClientSecret == "" || got.ClientSecretExpiresAt == nil || *got.ClientSecretExpiresAt != 0 {
		t.Fatalf("confidential client: secret %q, expires %v", got.ClientSecret, got.ClientSecretExpiresAt)
	}
	if stored.SecretHash != tokens.Hash(got.ClientSecret) {
		t.Error("stored secret hash does not match the issued secret")
	}
}

func TestRegisterAuditLog(t *testing.T) {
	var buf strings.Builder
	h := newTestHandler(t, func(h *Handler) { h.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
	w := postRegister(t, h, claudeSecretBody)
	var got registrationResponse
	_ = json.Unmarshal(w.Body.Bytes(), &got)
	log := buf.String()
	if !strings.Contains(log, `"msg":"audit","event":"client.registered"`) || !strings.Contains(log, got.ClientID) || !strings.Contains(log, `"client_addr":"192.0.2.1"`) {
		t.Errorf("no audit event in log:\n%s", log)
	}
	if got.ClientSecret == "" || strings.Contains(log, got.ClientSecret) || strings.Contains(log, tokens.Hash(got.ClientSecret)) {
		t.Errorf("log contains the client secret or its hash:\n%s", log)
	}
}

func TestRegisterTwiceGivesTwoClients(t *testing.T) {
	h := newTestHandler(t, nil)
	var ids []string
	for range 2 { // claude.ai registers twice per connect
		var got registrationResponse
		_ = json.Unmarshal(postRegister(t, h, claudeBody).Body.Bytes(), &got)
		ids = append(ids, got.ClientID)
	}
	if ids[0] == ids[1] || ids[0] == "" {
		t.Errorf("client ids = %q", ids)
	}
}

func TestRegisterRejects(t *testing.T) {
	tests := []struct {
		name, body string
		wantStatus int
		wantCode   string
	}{
		{"no redirect_uris", `{"client_name":"x"}`, 400, CodeInvalidRedirectURI},
		{"empty redirect_uris", `{"redirect_uris":[]}`, 400, CodeInvalidRedirectURI},
		{"http non-loopback", `{"redirect_uris":["http://example.com/cb"]}`, 400, CodeInvalidRedirectURI},
		{"fragment", `{"redirect_uris":["https://example.com/cb#x"]}`, 400, CodeInvalidRedirectURI},
		{"javascript", `{"redirect_uris":["javascript:alert(1)"],"application_type":"native"}`, 400, CodeInvalidRedirectURI},
		{"private-use for web", `{"redirect_uris":["vscode://x/cb"],"application_type":"web"}`, 400, CodeInvalidRedirectURI},
		{"too many", `{"redirect_uris":[` + strings.Repeat(`"https://a.example/",`, 32) + `"https://a.example/"]}`, 400, CodeInvalidRedirectURI},
		{"one too long", `{"redirect_uris":["https://a.example/` + strings.Repeat("a", 2000) + `"]}`, 400, CodeInvalidRedirectURI},
		// Each is allowed, together they exceed 8 KiB (issue 8 item 9).
		{"too long together", `{"redirect_uris":[` + strings.Repeat(`"https://a.example/`+strings.Repeat("a", 1000)+`",`, 9) + `"https://a.example/"]}`, 400, CodeInvalidRedirectURI},
		{"redirect_uris wrong type", `{"redirect_uris":"https://a.example/"}`, 400, CodeInvalidClientMetadata},
		{"not JSON", `redirect_uris=https://a.example/`, 400, CodeInvalidClientMetadata},
		{"JSON array", `[]`, 400, CodeInvalidClientMetadata},
		{"trailing garbage", `{"redirect_uris":["https://a.example/"]} x`, 400, CodeInvalidClientMetadata},
		{"bad auth method", `{"redirect_uris":["https://a.example/"],"token_endpoint_auth_method":"private_key_jwt"}`, 400, CodeInvalidClientMetadata},
		{"no authorization_code", `{"redirect_uris":["https://a.example/"],"grant_types":["client_credentials"]}`, 400, CodeInvalidClientMetadata},
		{"implicit only", `{"redirect_uris":["https://a.example/"],"response_types":["token"]}`, 400, CodeInvalidClientMetadata},
		{"bad application_type", `{"redirect_uris":["https://a.example/"],"application_type":"desktop"}`, 400, CodeInvalidClientMetadata},
		{"http logo", `{"redirect_uris":["https://a.example/"],"logo_uri":"http://a.example/logo.png"}`, 400, CodeInvalidClientMetadata},
		{"javascript client_uri", `{"redirect_uris":["https://a.example/"],"client_uri":"javascript:alert(1)"}`, 400, CodeInvalidClientMetadata},
		{"bad scope", `{"redirect_uris":["https://a.example/"],"scope":"a\"b"}`, 400, CodeInvalidClientMetadata},
		{"too large", `{"redirect_uris":["https://a.example/"],"x":"` + strings.Repeat("a", 64<<10) + `"}`, 413, CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := postRegister(t, newTestHandler(t, nil), tt.body)
			var got errorBody
			_ = json.Unmarshal(w.Body.Bytes(), &got)
			if w.Code != tt.wantStatus || got.Error != tt.wantCode {
				t.Errorf("got %d %+v, want %d %s", w.Code, got, tt.wantStatus, tt.wantCode)
			}
			checkNoStore(t, w.Result().Header)
		})
	}
}

func TestRegisterCleansMetadata(t *testing.T) {
	h := newTestHandler(t, nil)
	body := `{"redirect_uris":["https://a.example/cb"],"client_name":"  Evil\u202e\u0000 Corp\n` + strings.Repeat("x", 200) + `",
		"scope":"  mcp:tools   offline_access ","grant_types":["refresh_token","authorization_code","refresh_token"]}`
	w := postRegister(t, h, body)
	var got registrationResponse
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 201 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if strings.ContainsAny(got.ClientName, "\u202e\x00\n") || !strings.HasPrefix(got.ClientName, "Evil Corp") || len([]rune(got.ClientName)) > maxClientNameRunes {
		t.Errorf("client_name = %q", got.ClientName)
	}
	if got.Scope != "mcp:tools offline_access" {
		t.Errorf("scope = %q", got.Scope)
	}
	if !cmp.Equal(got.GrantTypes, []string{"refresh_token", "authorization_code"}) {
		t.Errorf("grant_types = %q", got.GrantTypes)
	}
}

func TestRegisterStoreUnavailable(t *testing.T) {
	h := newTestHandler(t, func(h *Handler) { h.Store = flakyStore{h.Store} })
	w := postRegister(t, h, claudeBody)
	var got errorBody
	_ = json.Unmarshal(w.Body.Bytes(), &got)
	if w.Code != http.StatusServiceUnavailable || got.Error != CodeTemporarilyUnavailable || strings.Contains(w.Body.String(), "timed out") {
		t.Errorf("got %d %s", w.Code, w.Body)
	}
}
