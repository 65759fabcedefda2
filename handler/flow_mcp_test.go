package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/oauth"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// Flow tests of /mcp (mcpHandler in server.go, internal/oauth/grant.go):
// only our own tokens are accepted, the grant's Entra token is refreshed
// when it expires, and the DNS-rebinding guard.

// TestMCPRejectsForeignTokens: /mcp in mode proxy accepts only our own
// RS256 tokens for our resource (MCP: no token passthrough).
func TestMCPRejectsForeignTokens(t *testing.T) {
	ts := newTestServer(t, nil)
	st := ts.stack
	c, code := signedIn(t, ts)
	good := c.redeem(t, st, code)
	claims := func() jwt.MapClaims {
		p := jwt.NewParser()
		mc := jwt.MapClaims{}
		if _, _, err := p.ParseUnverified(good.AccessToken, mc); err != nil {
			t.Fatal(err)
		}
		return mc
	}
	otherAudience := func() string {
		iss, err := tokens.NewIssuer(tokens.IssuerOptions{Issuer: "https://other.example", Audience: "https://other.example/mcp", Now: ts.clock.Now}, ts.key, nil)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := iss.Mint(tokens.AccessClaims{Subject: "s", ClientID: c.ID, Scope: "mcp:tools", GrantID: "g"})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	hs256 := func() string {
		pub := publicPEM(t, ts.key)
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims())
		tok.Header["kid"] = ts.key.KeyID()
		tok.Header["typ"] = "at+jwt"
		s, _ := tok.SignedString(pub)
		return s
	}
	none := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, claims())
		tok.Header["typ"] = "at+jwt"
		s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		return s
	}
	// signed re-signs our token's claims (modified by mod) with alg and key,
	// under our kid.
	signed := func(alg jwt.SigningMethod, key any, mod func(jwt.MapClaims)) string {
		mc := claims()
		if mod != nil {
			mod(mc)
		}
		tok := jwt.NewWithClaims(alg, mc)
		tok.Header["kid"] = ts.key.KeyID()
		tok.Header["typ"] = "at+jwt"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	otherAud := func(mc jwt.MapClaims) { mc["aud"] = []string{"https://graph.microsoft.com"} }
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	entraToken := signInAtEmulator(t, context.Background(), st, "AdeleV@contoso.example")

	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"our valid token", good.AccessToken, 200},
		{"our claims re-signed RS256 with our key", signed(jwt.SigningMethodRS256, signerOf(t, ts.key), nil), 200},
		{"token for another audience (other issuer)", otherAudience(), 401},
		{"our key, aud of another resource", signed(jwt.SigningMethodRS256, signerOf(t, ts.key), otherAud), 401},
		{"ES256 under our kid", signed(jwt.SigningMethodES256, ecKey, nil), 401},
		{"PS256 with our key", signed(jwt.SigningMethodPS256, signerOf(t, ts.key), nil), 401},
		{"alg none", none(), 401},
		{"HS256 keyed with our public key", hs256(), 401},
		{"an Entra token (no passthrough)", entraToken, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mcpStatus(t, st, tt.token); got != tt.want {
				t.Fatalf("/mcp = %d, want %d", got, tt.want)
			}
		})
	}
}

// mcpStatus posts tools/list with the token and returns the status code.
func mcpStatus(t *testing.T, st *stack, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, st.BaseURL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// signerOf returns the RSA key inside k, through its PKCS#8 PEM.
func signerOf(t *testing.T, k *tokens.SigningKey) *rsa.PrivateKey {
	t.Helper()
	b, _ := k.PEM()
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("no PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return key.(*rsa.PrivateKey)
}

func publicPEM(t *testing.T, k *tokens.SigningKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(&signerOf(t, k).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// TestUpstreamRefreshWhenExpired: when the grant's stored Entra token has
// expired, whoami refreshes it at Entra, stores the new one (sealed), and
// uses it for On-Behalf-Of.
func TestUpstreamRefreshWhenExpired(t *testing.T) {
	ts := newTestServer(t, nil)
	ctx := context.Background()
	c, code := signedIn(t, ts)
	tok := c.redeem(t, ts.stack, code)
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok.AccessToken, claims); err != nil {
		t.Fatal(err)
	}
	before, err := ts.store.GetGrant(ctx, claims["gid"].(string))
	if err != nil {
		t.Fatal(err)
	}
	// 59 minutes on: our access token (1 h) is still valid, the Entra token
	// (1 h, refreshed 2 minutes early) is not.
	ts.clock.Advance(59 * time.Minute)
	mc := mcpClient(t, ctx, ts.BaseURL+"/mcp", tok.AccessToken)
	var me struct{ DisplayName string }
	callTool(t, ctx, mc, "whoami", &me)
	if me.DisplayName != "Adele Vance" {
		t.Fatalf("whoami = %+v", me)
	}
	after, err := ts.store.GetGrant(ctx, before.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(after.Upstream) == string(before.Upstream) || after.ETag == before.ETag {
		t.Fatal("the grant's Entra tokens were not refreshed and stored")
	}
	h := &oauth.Handler{Sealer: ts.sealer}
	old, _ := h.OpenUpstream(before)
	fresh, err := h.OpenUpstream(after)
	if err != nil || fresh.AccessToken == old.AccessToken || fresh.RefreshToken == "" {
		t.Fatalf("refreshed upstream tokens: err %v, same access token %v", err, fresh.AccessToken == old.AccessToken)
	}
}

// The DNS-rebinding guard (docs/architecture.md §10.4): run by itself on
// loopback, /mcp refuses a request whose Host is not a loopback name (a web
// page that rebinds its own domain to 127.0.0.1). Behind the Functions host,
// which forwards the public Host over loopback, the guard is off, or every
// real request would be refused.
func TestDNSRebindingGuard(t *testing.T) {
	for _, tt := range []struct {
		name       string
		behindHost string
		want       int
	}{
		{"standalone on loopback: guard on", "false", http.StatusForbidden},
		{"behind the Functions host: guard off", "true", http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, func(env map[string]string) { env["BEHIND_FUNCTIONS_HOST"] = tt.behindHost })
			c, code := signedIn(t, ts)
			tok := c.redeem(t, ts.stack, code)
			req, _ := http.NewRequest(http.MethodPost, ts.BaseURL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
			req.Host = "apim-x.azure-api.net"
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("/mcp with Host %s = %d, want %d", req.Host, resp.StatusCode, tt.want)
			}
		})
	}
}
