package entra

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
)

func newVerifier(t *testing.T, e *entraemu.Emulator) *Verifier {
	t.Helper()
	v := &Verifier{
		AuthorityHost:     e.BaseURL(),
		TenantID:          e.TenantID(),
		Audiences:         []string{entraemu.DevAppClientID, "api://" + entraemu.DevAppClientID},
		HTTPClient:        e.Client(),
		Leeway:            30 * time.Second,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(time.Second), 1),
	}
	t.Cleanup(v.Close)
	return v
}

func TestVerifier(t *testing.T) {
	e := entraemu.NewTestServer(t, nil)
	v := newVerifier(t, e)
	user := e.Users()[0]
	now := time.Now()
	base := func() jwt.MapClaims { return e.DefaultAccessTokenClaims(user, entraemu.DevPublicClientID) }
	sign := func(mutate func(jwt.MapClaims)) string {
		c := base()
		if mutate != nil {
			mutate(c)
		}
		tok, err := e.SignToken(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	pubPEM := publicKeyPEM(t, e)
	tests := []struct {
		name    string
		token   string
		wantErr bool
	}{
		{"valid", sign(nil), false},
		{"aud is the app id URI", sign(func(c jwt.MapClaims) { c["aud"] = "api://" + entraemu.DevAppClientID }), false},
		{"expired", sign(func(c jwt.MapClaims) { c["exp"] = now.Add(-2 * time.Minute).Unix() }), true},
		{"no exp", sign(func(c jwt.MapClaims) { delete(c, "exp") }), true},
		{"not yet valid", sign(func(c jwt.MapClaims) { c["nbf"] = now.Add(10 * time.Minute).Unix() }), true},
		{"wrong aud", sign(func(c jwt.MapClaims) { c["aud"] = "00000003-0000-0000-c000-000000000000" }), true},
		{"wrong iss (v1 issuer)", sign(func(c jwt.MapClaims) { c["iss"] = "https://sts.windows.net/" + e.TenantID() + "/" }), true},
		{"wrong tenant", sign(func(c jwt.MapClaims) { c["tid"] = "99999999-9999-4999-8999-999999999999" }), true},
		{"app-only token without oid", sign(func(c jwt.MapClaims) { delete(c, "oid") }), true},
		{"alg none", noneToken(t, base()), true},
		{"HS256 signed with the public key", hsToken(t, base(), pubPEM), true},
		{"tampered signature", tamper(sign(nil)), true},
		{"tampered payload", swapPayload(sign(nil), base(), func(c jwt.MapClaims) { c["oid"] = "someone-else" }), true},
		{"garbage", "not.a.jwt", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ti, err := v.Verify(context.Background(), tt.token)
			if tt.wantErr {
				if !errors.Is(err, resource.ErrInvalidToken) {
					t.Fatalf("Verify() err = %v, want ErrInvalidToken", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify() = %v", err)
			}
			if ti.Subject != user.OID || ti.Username != user.UPN || ti.ClientID != entraemu.DevPublicClientID || ti.Assertion != tt.token {
				t.Errorf("TokenInfo = %+v", ti)
			}
			// scp has every scope the app exposes, short form.
			if want := strings.Join(entraemu.DefaultConfig().App.Scopes, " "); strings.Join(ti.Scopes, " ") != want {
				t.Errorf("Scopes = %v, want [%s]", ti.Scopes, want)
			}
		})
	}
}

// A token without the required scope passes the verifier but not the
// middleware: that is a 403 insufficient_scope, tested where scopes are
// checked (resource.RequireBearer) with the verifier's real output.
func TestVerifierMissingScopeIs403(t *testing.T) {
	e := entraemu.NewTestServer(t, nil)
	v := newVerifier(t, e)
	c := e.DefaultAccessTokenClaims(e.Users()[0], entraemu.DevPublicClientID)
	c["scp"] = "other.scope"
	tok, _ := e.SignToken(c)
	ch := resource.Challenge{
		ResourceMetadataURL: "https://x/.well-known/oauth-protected-resource/mcp",
		Scopes:              []string{"api://" + entraemu.DevAppClientID + "/user_impersonation"},
		ScopeMatches:        func(g, r string) bool { return "api://"+entraemu.DevAppClientID+"/"+g == r },
	}
	h := resource.RequireBearer(v.Verify, ch, discard{})(http.NotFoundHandler())
	rec := serve(h, tok)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Fatalf("status %d, WWW-Authenticate %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}

// After the emulator rotates its signing key, a token with the new kid is
// unknown to the cached JWKS; the verifier refetches (rate-limited) and
// accepts it.
func TestVerifierUnknownKIDAfterRotation(t *testing.T) {
	e := entraemu.NewTestServer(t, nil)
	v := newVerifier(t, e)
	user := e.Users()[0]
	old, _ := e.SignToken(e.DefaultAccessTokenClaims(user, entraemu.DevPublicClientID))
	if _, err := v.Verify(context.Background(), old); err != nil {
		t.Fatalf("before rotation: %v", err)
	}
	if err := e.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	fresh, _ := e.SignToken(e.DefaultAccessTokenClaims(user, entraemu.DevPublicClientID))
	if _, err := v.Verify(context.Background(), fresh); err != nil {
		t.Fatalf("token with the new kid: %v", err)
	}
	if _, err := v.Verify(context.Background(), old); err != nil {
		t.Fatalf("token with the previous kid after rotation: %v", err)
	}
	// A forged kid is refused, and its refetch is rate-limited rather than
	// hammering the IdP.
	forged := swapHeader(t, fresh, "kid", "forged-kid")
	for i := 0; i < 3; i++ {
		if _, err := v.Verify(context.Background(), forged); !errors.Is(err, resource.ErrInvalidToken) {
			t.Fatalf("forged kid: %v", err)
		}
	}
}

// Discovery failures are the server's problem (503), not a bad token (401).
func TestVerifierDiscoveryDown(t *testing.T) {
	v := &Verifier{AuthorityHost: "https://127.0.0.1:1", TenantID: entraemu.DevTenantID,
		Audiences: []string{entraemu.DevAppClientID}, HTTPClient: &http.Client{Timeout: time.Second}}
	_, err := v.Verify(context.Background(), "a.b.c")
	if err == nil || errors.Is(err, resource.ErrInvalidToken) {
		t.Fatalf("Verify() = %v, want an unavailable error that is not ErrInvalidToken", err)
	}
}

func publicKeyPEM(t *testing.T, e *entraemu.Emulator) []byte {
	t.Helper()
	resp, err := e.Client().Get(e.BaseURL() + "/" + e.TenantID() + "/discovery/v2.0/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ N, E string } `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("jwks: %v", err)
	}
	n, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].N)
	ex, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].E)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(ex).Int64())}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func noneToken(t *testing.T, c jwt.MapClaims) string {
	s, err := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hsToken(t *testing.T, c jwt.MapClaims, key []byte) string {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func tamper(tok string) string {
	b := []byte(tok)
	i := len(b) - 5
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// swapPayload keeps header and signature but replaces the claims.
func swapPayload(tok string, c jwt.MapClaims, mutate func(jwt.MapClaims)) string {
	mutate(c)
	p, _ := json.Marshal(c)
	parts := strings.Split(tok, ".")
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
}

func swapHeader(t *testing.T, tok, k, v string) string {
	parts := strings.Split(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	h[k] = v
	nb, _ := json.Marshal(h)
	return base64.RawURLEncoding.EncodeToString(nb) + "." + parts[1] + "." + parts[2]
}
