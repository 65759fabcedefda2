package entraemu

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" // RFC 7636 Appendix B

func TestAuthorizeErrors(t *testing.T) {
	e := NewTestServer(t, nil)
	good := url.Values{
		"client_id":             {DevPublicClientID},
		"redirect_uri":          {"http://127.0.0.1:49152/callback"},
		"response_type":         {"code"},
		"scope":                 {apiScope + " openid offline_access"},
		"state":                 {"xyz"},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
	tests := []struct {
		name   string
		change url.Values // empty value deletes the parameter
		page   string     // AADSTS code on an error page (no redirect)
		error  string     // error redirected to the client
		aadsts string
	}{
		{name: "missing client_id", change: url.Values{"client_id": {""}}, page: "AADSTS900144"},
		{name: "unknown client", change: url.Values{"client_id": {"99999999-9999-4999-8999-999999999999"}}, page: "AADSTS700016"},
		{name: "missing redirect_uri", change: url.Values{"redirect_uri": {""}}, page: "AADSTS900144"},
		{name: "unregistered redirect", change: url.Values{"redirect_uri": {"https://evil.example/callback"}}, page: "AADSTS50011"},
		{name: "loopback with other path", change: url.Values{"redirect_uri": {"http://127.0.0.1:49152/other"}}, page: "AADSTS50011"},
		{name: "confidential app needs exact port", change: url.Values{"client_id": {DevAppClientID}, "redirect_uri": {"http://127.0.0.1:7000/callback"}}, page: "AADSTS50011"},
		{name: "response_type token", change: url.Values{"response_type": {"token"}}, error: "unsupported_response_type", aadsts: "AADSTS700054"},
		{name: "missing scope", change: url.Values{"scope": {""}}, error: "invalid_request", aadsts: "AADSTS900144"},
		{name: "unknown resource", change: url.Values{"scope": {"api://other/x"}}, error: "invalid_resource", aadsts: "AADSTS500011"},
		{name: "unknown app scope", change: url.Values{"scope": {"api://" + DevAppClientID + "/nope"}}, error: "invalid_client", aadsts: "AADSTS650053"},
		{name: "RFC 8707 resource", change: url.Values{"resource": {"https://mcp.example/mcp"}}, error: "invalid_target", aadsts: "AADSTS9010010"},
		{name: "public client without PKCE", change: url.Values{"code_challenge": {""}, "code_challenge_method": {""}}, error: "invalid_request", aadsts: "AADSTS9002325"},
		{name: "plain PKCE", change: url.Values{"code_challenge_method": {"plain"}}, error: "invalid_request", aadsts: "AADSTS501492"},
		{name: "method without challenge", change: url.Values{"code_challenge": {""}}, error: "invalid_request", aadsts: "AADSTS900144"},
		{name: "short challenge", change: url.Values{"code_challenge": {"abc"}}, error: "invalid_request", aadsts: "AADSTS501491"},
		{name: "prompt none", change: url.Values{"prompt": {"none"}}, error: "login_required", aadsts: "AADSTS50058"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{}
			for k, v := range good {
				q[k] = v
			}
			for k, v := range tt.change {
				if v[0] == "" {
					q.Del(k)
				} else {
					q[k] = v
				}
			}
			resp, err := e.Client().Get(e.BaseURL() + "/" + DevTenantID + "/oauth2/v2.0/authorize?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tt.page != "" {
				if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), tt.page) {
					t.Fatalf("want error page %s, got %d %s", tt.page, resp.StatusCode, body)
				}
				return
			}
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("want redirect, got %d %s", resp.StatusCode, body)
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			rq := loc.Query()
			if rq.Get("error") != tt.error || !strings.HasPrefix(rq.Get("error_description"), tt.aadsts+":") || rq.Get("state") != "xyz" {
				t.Fatalf("redirect %s: want %s %s", loc, tt.error, tt.aadsts)
			}
			if loc.Host != "127.0.0.1:49152" {
				t.Fatalf("redirected to %s", loc.Host)
			}
		})
	}
}

func TestAuthorizeResourceMatchingScopesAccepted(t *testing.T) {
	e := NewTestServer(t, nil)
	q := url.Values{"client_id": {DevPublicClientID}, "redirect_uri": {"http://localhost:1234/"}, "response_type": {"code"},
		"scope": {apiScope}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "resource": {"api://" + DevAppClientID}}
	if _, err := SignIn(e.Client(), e.BaseURL()+"/"+DevTenantID+"/oauth2/v2.0/authorize?"+q.Encode(), adele); err != nil {
		t.Fatal(err)
	}
}

func TestSignInPage(t *testing.T) {
	e := NewTestServer(t, nil)
	q := url.Values{"client_id": {VSCodeClientID}, "redirect_uri": {"https://vscode.dev/redirect"}, "response_type": {"code"},
		"scope": {apiScope}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"s1"}, "nonce": {"n1"}}
	authURL := e.BaseURL() + "/" + DevTenantID + "/oauth2/v2.0/authorize?" + q.Encode()
	resp, err := e.Client().Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, u := range e.Users() {
		if !strings.Contains(string(page), `name="user" value="`+u.UPN+`"`) {
			t.Errorf("page lacks button for %s", u.UPN)
		}
	}
	if !strings.Contains(string(page), `name="code_challenge" value="`+challenge+`"`) {
		t.Error("request parameters are not carried in hidden fields")
	}
	code, rq := signIn(t, e, authURL, adele)
	if rq.Get("state") != "s1" || code == "" {
		t.Fatalf("redirect query %v", rq)
	}
	if _, err := SignIn(e.Client(), authURL, "nobody@contoso.example"); err == nil {
		t.Fatal("SignIn with an unknown user succeeded")
	}
}
