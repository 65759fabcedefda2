package entraemu

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

func TestDiscoveryDocument(t *testing.T) {
	e := NewTestServer(t, nil)
	status, doc := getJSON(t, e, "/"+DevTenantID+"/v2.0/.well-known/openid-configuration", "")
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	tb := e.BaseURL() + "/" + DevTenantID
	want := map[string]string{
		"issuer":                 tb + "/v2.0",
		"authorization_endpoint": tb + "/oauth2/v2.0/authorize",
		"token_endpoint":         tb + "/oauth2/v2.0/token",
		"jwks_uri":               tb + "/discovery/v2.0/keys",
		"tenant_region_scope":    "NA",
		"cloud_instance_name":    "microsoftonline.com",
		"msgraph_host":           "graph.microsoft.com",
		"rbac_url":               "https://pas.windows.net",
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %s", k, doc[k], v)
		}
	}
	for _, k := range []string{"response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported", "scopes_supported", "token_endpoint_auth_methods_supported", "claims_supported"} {
		if _, ok := doc[k].([]any); !ok {
			t.Errorf("%s missing or not a list", k)
		}
	}
	if e.Issuer() != tb+"/v2.0" {
		t.Errorf("Issuer() = %s", e.Issuer())
	}
}

func TestUnknownTenant(t *testing.T) {
	e := NewTestServer(t, nil)
	status, body := getJSON(t, e, "/common/v2.0/.well-known/openid-configuration", "")
	if status != http.StatusBadRequest || aadsts(body) != "AADSTS90002" {
		t.Fatalf("got %d %v", status, body)
	}
	for _, k := range []string{"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id"} {
		if _, ok := body[k]; !ok {
			t.Errorf("error body lacks %s", k)
		}
	}
}

// TestKeyfuncAndRotation verifies tokens with keyfunc/v3 reading the JWKS,
// rotates keys, and checks that old and new tokens both verify and that new
// tokens carry the new kid.
func TestKeyfuncAndRotation(t *testing.T) {
	e := NewTestServer(t, nil)
	u := e.Users()[0]
	oldTok, err := e.SignToken(e.DefaultAccessTokenClaims(u, DevPublicClientID))
	if err != nil {
		t.Fatal(err)
	}
	oldKid := e.CurrentKeyID()

	// Rotate over HTTP the way a test harness outside the process would.
	resp, err := e.Client().Post(e.BaseURL()+"/_emulator/rotate-keys", "", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("rotate: %v %v", err, resp)
	}
	resp.Body.Close()
	newTok, _ := e.SignToken(e.DefaultAccessTokenClaims(u, DevPublicClientID))
	if e.CurrentKeyID() == oldKid {
		t.Fatal("kid unchanged after rotation")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{e.BaseURL() + "/" + DevTenantID + "/discovery/v2.0/keys"},
		keyfunc.Override{Client: e.Client()})
	if err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string]string{"old": oldTok, "new": newTok} {
		tok, err := jwt.Parse(raw, kf.Keyfunc, jwt.WithIssuer(e.Issuer()), jwt.WithAudience(DevAppClientID))
		if err != nil {
			t.Fatalf("%s token: %v", name, err)
		}
		wantKid := oldKid
		if name == "new" {
			wantKid = e.CurrentKeyID()
		}
		if tok.Header["kid"] != wantKid || tok.Header["typ"] != "JWT" {
			t.Errorf("%s header %v, want kid %s", name, tok.Header, wantKid)
		}
		c := tok.Claims.(jwt.MapClaims)
		for _, k := range []string{"aud", "iss", "iat", "nbf", "exp", "azp", "azpacr", "name", "oid", "preferred_username", "scp", "sub", "tid", "ver", "uti"} {
			if _, ok := c[k]; !ok {
				t.Errorf("%s token lacks %s", name, k)
			}
		}
	}

	// A second rotation retires the first key.
	if err := e.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	_, keys := getJSON(t, e, "/"+DevTenantID+"/discovery/v2.0/keys", "")
	if n := len(keys["keys"].([]any)); n != 2 {
		t.Fatalf("JWKS has %d keys, want current and previous", n)
	}
	if _, err := e.parseToken(oldTok, e.Issuer()); err == nil {
		t.Error("token of a retired key still verifies")
	}
}
