package storetest

import (
	"strings"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// Full records: every field set, so a backend that forgets one fails the
// round trip.

func fullClient(id string) store.Client {
	return store.Client{
		ID:                      id,
		SecretHash:              strings.Repeat("ab", 32),
		Name:                    "Client " + id,
		RedirectURIs:            []string{"http://127.0.0.1:33418/callback", "https://app.example/cb?x=1&y=é"},
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		TokenEndpointAuthMethod: "client_secret_post",
		ApplicationType:         "native",
		Scope:                   "mcp:tools offline_access",
		ClientURI:               "https://app.example/",
		LogoURI:                 "https://app.example/logo.png",
		// A zoned time: backends must store the instant, not the wall clock.
		CreatedAt: t0.In(time.FixedZone("IST", 5*3600+1800)),
		ExpiresAt: time.Time{}, // registrations do not expire
	}
}

func fullAuthRequest(id string) store.AuthRequest {
	return store.AuthRequest{
		ID:                 id,
		ClientID:           "client-1",
		RedirectURI:        "http://localhost:8080/cb",
		State:              "client's state with 'quotes' & = ;",
		Scope:              "mcp:tools",
		Resource:           "https://mcp.example/mcp",
		CodeChallenge:      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		UpstreamVerifier:   "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
		Nonce:              "n-0S6_WzA2Mj",
		BrowserBindingHash: strings.Repeat("cd", 32),
		Approved:           true,
		CreatedAt:          t0,
		ExpiresAt:          t0.Add(10 * time.Minute),
	}
}

func fullConsent(key string) store.Consent {
	return store.Consent{
		Key:         key,
		ClientID:    "client-1",
		RedirectURI: "http://localhost:8080/cb",
		Scope:       "mcp:tools",
		GrantID:     "grant-of-" + key,
		CreatedAt:   t0,
		ExpiresAt:   t0.Add(30 * 24 * time.Hour),
	}
}

func fullCode(hash string) store.Code {
	return store.Code{
		Hash:          hash,
		ClientID:      "client-1",
		RedirectURI:   "http://localhost:8080/cb",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		Resource:      "https://mcp.example/mcp",
		Scope:         "mcp:tools",
		GrantID:       "grant-1",
		Subject:       "00000000-0000-0000-0000-000000000001",
		Replaces:      "grant-0",
		CreatedAt:     t0,
		ExpiresAt:     t0.Add(time.Minute),
	}
}

// upstream is a sealed blob as big as a fat set of Entra tokens, with every
// byte value in it.
func upstream() []byte {
	b := make([]byte, 24<<10)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func fullGrant(id string) store.Grant {
	return store.Grant{
		ID:                id,
		ClientID:          "client-1",
		Subject:           "00000000-0000-0000-0000-000000000001",
		Name:              "Ada Lovelace",
		Username:          "ada@contoso.example",
		TenantID:          "00000000-0000-0000-0000-0000000000aa",
		Scope:             "mcp:tools offline_access",
		Resource:          "https://mcp.example/mcp",
		Upstream:          upstream(),
		UpstreamExpiresAt: t0.Add(time.Hour),
		RedirectURI:       "http://127.0.0.1:33418/callback",
		CreatedAt:         t0,
		LastUsedAt:        t0.Add(time.Minute),
		ExpiresAt:         t0.Add(90 * 24 * time.Hour),
	}
}

func fullRefresh(hash, grantID string) store.RefreshToken {
	return store.RefreshToken{
		Hash:      hash,
		GrantID:   grantID,
		ClientID:  "client-1",
		Scope:     "mcp:tools offline_access",
		CreatedAt: t0,
		ExpiresAt: t0.Add(30 * 24 * time.Hour),
	}
}

// rotated is r as rotation leaves it: marked, with its sealed successor.
func rotated(r store.RefreshToken, at time.Time) store.RefreshToken {
	r.RotatedAt = at
	r.Successor = make([]byte, 82) // a sealed 43-character token: nonce, key id, tag
	for i := range r.Successor {
		r.Successor[i] = byte(255 - i)
	}
	return r
}
