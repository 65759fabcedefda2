package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"golang.org/x/oauth2"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
)

// TestEntraModeEndToEnd is issue 2's acceptance test: a client signs in at
// the emulator with code + PKCE (as a public client pre-authorized for the
// API, like VS Code), then initialize, tools/list, whoami, recent_mail and
// auth_info go through /mcp and return the signed-in user's Graph profile,
// mail and scopes.
func TestEntraModeEndToEnd(t *testing.T) {
	st := startStack(t, "entra")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("no token: 401 with the exact resource_metadata", func(t *testing.T) {
		resp, err := http.Post(st.BaseURL+"/mcp", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := `Bearer resource_metadata="` + st.BaseURL + `/.well-known/oauth-protected-resource/mcp", scope="api://` + entraemu.DevAppClientID + `/user_impersonation"`
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != want {
			t.Fatalf("status %d, WWW-Authenticate %q\nwant %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
		}
	})

	t.Run("protected resource metadata points at the Entra tenant", func(t *testing.T) {
		var prm struct {
			Resource             string   `json:"resource"`
			AuthorizationServers []string `json:"authorization_servers"`
			ScopesSupported      []string `json:"scopes_supported"`
		}
		getJSON(t, http.DefaultClient, st.BaseURL+"/.well-known/oauth-protected-resource/mcp", &prm)
		app := "api://" + entraemu.DevAppClientID
		if prm.Resource != st.BaseURL+"/mcp" || len(prm.AuthorizationServers) != 1 ||
			prm.AuthorizationServers[0] != st.Emu.BaseURL+"/"+entraemu.DevTenantID+"/v2.0" ||
			strings.Join(prm.ScopesSupported, " ") != app+"/user_impersonation "+app+"/mail.read" {
			t.Fatalf("PRM = %+v", prm)
		}
	})

	t.Run("OAuth endpoints answer 404 in mode entra", func(t *testing.T) {
		for _, p := range []string{"/.well-known/oauth-authorization-server", "/token", "/register"} {
			resp, err := http.Get(st.BaseURL + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
			}
		}
	})

	adele := signInAtEmulator(t, ctx, st, "AdeleV@contoso.example")
	c := mcpClient(t, ctx, st.BaseURL+"/mcp", adele)

	t.Run("tools/list", func(t *testing.T) {
		tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tl := range tools.Tools {
			names = append(names, tl.Name)
		}
		slices.Sort(names)
		if strings.Join(names, ",") != "auth_info,recent_mail,whoami" {
			t.Fatalf("tools = %v", names)
		}
	})

	t.Run("whoami returns the Graph profile via On-Behalf-Of", func(t *testing.T) {
		var got struct {
			DisplayName, Mail, UserPrincipalName, ID, JobTitle, Department, OfficeLocation string
		}
		text := callTool(t, ctx, c, "whoami", &got)
		if got.DisplayName != "Adele Vance" || got.Mail != "AdeleV@contoso.example" || got.JobTitle != "Retail Manager" ||
			got.Department != "Retail" || got.OfficeLocation != "18/2111" || got.ID != "a0a0a0a0-0000-4000-8000-000000000001" {
			t.Fatalf("whoami = %+v", got)
		}
		if !strings.Contains(text, "Adele Vance") {
			t.Errorf("text summary %q does not name the user", text)
		}
	})

	t.Run("auth_info shows the caller and scopes", func(t *testing.T) {
		var got struct {
			Subject, ClientID, Issuer string
			Scopes                    []string
		}
		callTool(t, ctx, c, "auth_info", &got)
		if got.Subject != "a0a0a0a0-0000-4000-8000-000000000001" || got.ClientID != entraemu.DevPublicClientID ||
			strings.Join(got.Scopes, " ") != "user_impersonation" {
			t.Fatalf("auth_info = %+v", got)
		}
	})

	t.Run("consent required is a readable tool result with the URL, and conforms", func(t *testing.T) {
		nestor := signInAtEmulator(t, ctx, st, "NestorW@contoso.example")
		c := mcpClient(t, ctx, st.BaseURL+"/mcp", nestor)
		res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "whoami"}})
		if err != nil {
			t.Fatal(err)
		}
		text := testutil.ToolText(res)
		if !res.IsError || res.StructuredContent != nil || !strings.Contains(text, "consent") ||
			!strings.Contains(text, "/v2.0/adminconsent?client_id="+entraemu.DevAppClientID) {
			t.Fatalf("result isError=%v structured=%v text=%q", res.IsError, res.StructuredContent, text)
		}
	})

	mailScope := "api://" + entraemu.DevAppClientID + "/mail.read"
	t.Run("recent_mail without the app's mail.read scope: the step-up challenge names it", func(t *testing.T) {
		status, www, _ := postToolsCall(t, st, adele, "recent_mail")
		want := `Bearer error="insufficient_scope", resource_metadata="` + st.BaseURL + `/.well-known/oauth-protected-resource/mcp", scope="api://` +
			entraemu.DevAppClientID + `/user_impersonation ` + mailScope + `"`
		if status != 403 || www != want {
			t.Fatalf("%d %q\nwant %q", status, www, want)
		}
	})

	t.Run("recent_mail On-Behalf-Of for Mail.Read: Adele consented, Megan did not", func(t *testing.T) {
		adeleMail := mcpClient(t, ctx, st.BaseURL+"/mcp", signInAtEmulator(t, ctx, st, "AdeleV@contoso.example", mailScope))
		var got struct{ Messages []struct{ Subject string } }
		callTool(t, ctx, adeleMail, "recent_mail", &got)
		if len(got.Messages) != 5 || got.Messages[0].Subject != "Quarterly retail review" {
			t.Fatalf("Adele's mail = %+v", got)
		}
		// Megan has the app's scope, but neither she nor an administrator
		// consented to the app's Mail.Read at Graph: her client signed in to
		// the app, it cannot consent for the app's own downstream calls.
		megan := mcpClient(t, ctx, st.BaseURL+"/mcp", signInAtEmulator(t, ctx, st, "MeganB@contoso.example", mailScope))
		res, err := megan.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "recent_mail"}})
		if err != nil {
			t.Fatal(err)
		}
		text := testutil.ToolText(res)
		if !res.IsError || res.StructuredContent != nil || !strings.Contains(text, "Recent mail needs your consent to https://graph.microsoft.com/Mail.Read") ||
			!strings.Contains(text, st.Emu.BaseURL+"/"+entraemu.DevTenantID+"/v2.0/adminconsent?client_id="+entraemu.DevAppClientID) {
			t.Fatalf("Megan: isError=%v structured=%v text=%q", res.IsError, res.StructuredContent, text)
		}
		line := regexp.MustCompile(`(?m)^.*msg=audit.* tool=recent_mail .*event=upstream.error stage=obo.*$`).FindString(st.Logs.String())
		if !strings.Contains(line, "request_id=") || !strings.Contains(line, "aadsts=AADSTS65001") {
			t.Errorf("no upstream.error audit line with tool, request id and AADSTS code; got %q", line)
		}
	})
}

// signInAtEmulator does the public-client code + PKCE flow against the
// emulator for the API scope and more (e.g. the app's mail.read scope) and
// returns the Entra access token.
func signInAtEmulator(t *testing.T, ctx context.Context, st *stack, upn string, more ...string) string {
	t.Helper()
	hc := trustingClient(t, st.Emu.CAFile)
	conf := &oauth2.Config{
		ClientID:    entraemu.DevPublicClientID,
		RedirectURL: "http://127.0.0.1:33418/callback",
		Scopes:      append([]string{"api://" + entraemu.DevAppClientID + "/user_impersonation", "openid", "profile", "offline_access"}, more...),
		Endpoint: oauth2.Endpoint{
			AuthURL:   st.Emu.BaseURL + "/" + entraemu.DevTenantID + "/oauth2/v2.0/authorize",
			TokenURL:  st.Emu.BaseURL + "/" + entraemu.DevTenantID + "/oauth2/v2.0/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
	verifier := oauth2.GenerateVerifier()
	loc, err := entraemu.SignIn(hc, conf.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifier)), upn)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	code := u.Query().Get("code")
	if code == "" || u.Query().Get("state") != "st-1" {
		t.Fatalf("sign-in redirect %q", loc)
	}
	tok, err := conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, hc), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func trustingClient(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func mcpClient(t *testing.T, ctx context.Context, endpoint, token string) *client.Client {
	t.Helper()
	c, err := client.NewStreamableHttpClient(endpoint, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "e2e-test", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return c
}

// callTool calls a tool, decodes its structured content into out and
// returns its text.
func callTool(t *testing.T, ctx context.Context, c *client.Client, name string, out any) string {
	t.Helper()
	res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name}})
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError {
		t.Fatalf("%s: tool error: %s", name, testutil.ToolText(res))
	}
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s structured content %s: %v", name, b, err)
	}
	return testutil.ToolText(res)
}

func getJSON(t *testing.T, hc *http.Client, u string, out any) {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}
