package entraemu

import (
	"context"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"golang.org/x/oauth2"
)

// TestMSALConfidentialAuthCode redeems a code with MSAL Go's confidential
// client and a federated credential assertion, the way the handler redeems
// Entra's code in Azure, then refreshes silently.
func TestMSALConfidentialAuthCode(t *testing.T) {
	e := NewTestServer(t, nil)
	redirect := DefaultRedirectURIs[0]
	cfg := oauthConfig(e, DevAppClientID, "", redirect, apiScope, "openid", "profile", "offline_access")
	verifier := oauth2.GenerateVerifier()
	code, _ := signIn(t, e, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), adele)

	cred := confidential.NewCredFromAssertionCallback(func(context.Context, confidential.AssertionRequestOptions) (string, error) {
		return e.SignToken(e.managedIdentityClaims(e.Issuer(), FederatedAudience))
	})
	cca, err := confidential.New(e.BaseURL()+"/"+DevTenantID, DevAppClientID, cred,
		confidential.WithHTTPClient(e.Client()), confidential.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := cca.AcquireTokenByAuthCode(ctx, code, redirect, []string{apiScope}, confidential.WithChallenge(verifier))
	if err != nil {
		t.Fatalf("AcquireTokenByAuthCode: %v", err)
	}
	if res.Account.PreferredUsername != adele || res.IDToken.Oid == "" {
		t.Errorf("account %+v", res.Account)
	}
	claims, err := e.parseToken(res.AccessToken, e.Issuer())
	if err != nil || claims["azpacr"] != "2" || claims["scp"] != DevAppScope {
		t.Fatalf("access token %v %v", claims, err)
	}
	// Silent acquisition for Graph uses the refresh token MSAL cached.
	silent, err := cca.AcquireTokenSilent(ctx, []string{"https://graph.microsoft.com/User.Read"}, confidential.WithSilentAccount(res.Account))
	if err != nil {
		t.Fatalf("AcquireTokenSilent: %v", err)
	}
	if me := callMe(t, e, silent.AccessToken); me["userPrincipalName"] != adele {
		t.Fatalf("me %v", me)
	}
}
