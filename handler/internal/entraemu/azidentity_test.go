package entraemu

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// clientOptions points azcore at the emulator the way the handler will:
// authority host = the emulator origin, transport trusting its certificate.
func clientOptions(e *Emulator) azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: e.AuthorityHost()},
		Transport: e.Client(),
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}
}

var graphScope = policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/User.Read"}}

// callMe calls Graph /v1.0/me on the emulator with token.
func callMe(t *testing.T, e *Emulator, token string) map[string]any {
	t.Helper()
	status, me := getJSON(t, e, "/v1.0/me", token)
	if status != http.StatusOK {
		t.Fatalf("/v1.0/me: %d %v", status, me)
	}
	return me
}

// TestOnBehalfOfWithSecret runs the real azidentity OBO credential (MSAL
// confidential client: tenant discovery, then the jwt-bearer grant) and calls
// Graph /me with the token it gets.
func TestOnBehalfOfWithSecret(t *testing.T) {
	e := NewTestServer(t, nil)
	user := userAccessToken(t, e, adele)
	cred, err := azidentity.NewOnBehalfOfCredentialWithSecret(DevTenantID, DevAppClientID, user.AccessToken, DevAppClientSecret,
		&azidentity.OnBehalfOfCredentialOptions{ClientOptions: clientOptions(e), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok, err := cred.GetToken(ctx, graphScope)
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	me := callMe(t, e, tok.Token)
	u, _ := e.User(adele)
	want := map[string]any{"id": u.OID, "displayName": "Adele Vance", "userPrincipalName": adele, "jobTitle": "Retail Manager",
		"department": "Retail", "officeLocation": "18/2111", "mail": adele, "givenName": "Adele", "surname": "Vance",
		"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity", "mobilePhone": nil}
	for k, v := range want {
		if me[k] != v {
			t.Errorf("me.%s = %v, want %v", k, me[k], v)
		}
	}
	if _, ok := me["businessPhones"].([]any); !ok {
		t.Errorf("businessPhones = %v", me["businessPhones"])
	}

	// An app token is not a Graph token; no token is not either.
	if status, body := getJSON(t, e, "/v1.0/me", user.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("/me with an API token: %d %v", status, body)
	}
	if status, body := getJSON(t, e, "/v1.0/me", ""); status != http.StatusUnauthorized || body["error"] == nil {
		t.Errorf("/me without token: %d %v", status, body)
	}
}

// TestOnBehalfOfWithManagedIdentityAssertion is the Azure setup end to end:
// ManagedIdentityCredential (App Service protocol, against /msi/token)
// supplies the federated credential assertion, and the OBO credential uses
// it as client_assertion.
func TestOnBehalfOfWithManagedIdentityAssertion(t *testing.T) {
	e := NewTestServer(t, nil)
	for k, v := range e.ManagedIdentityEnv() {
		t.Setenv(k, v)
	}
	mi, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
		ClientOptions: clientOptions(e),
		ID:            azidentity.ClientID(DevManagedIdentityClientID),
	})
	if err != nil {
		t.Fatal(err)
	}
	getAssertion := func(ctx context.Context) (string, error) {
		tk, err := mi.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{FederatedAudience + "/.default"}})
		return tk.Token, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	assertion, err := getAssertion(ctx)
	if err != nil {
		t.Fatalf("managed identity: %v", err)
	}
	ac, err := e.parseToken(assertion, e.Issuer())
	if err != nil || ac["aud"] != FederatedAudience || ac["sub"] != DevFederatedSubject {
		t.Fatalf("assertion claims %v %v", ac, err)
	}

	user := userAccessToken(t, e, "MeganB@contoso.example")
	cred, err := azidentity.NewOnBehalfOfCredentialWithClientAssertions(DevTenantID, DevAppClientID, user.AccessToken, getAssertion,
		&azidentity.OnBehalfOfCredentialOptions{ClientOptions: clientOptions(e), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if me := callMe(t, e, tok.Token); me["userPrincipalName"] != "MeganB@contoso.example" {
		t.Fatalf("me = %v", me)
	}
	gc, _ := e.parseToken(tok.Token, e.Issuer())
	if gc["appidacr"] != "2" {
		t.Errorf("appidacr = %v, want 2 (assertion)", gc["appidacr"])
	}
}

// TestOnBehalfOfConsentRequired: Entra's consent-required answer surfaces
// through azidentity with AADSTS65001.
func TestOnBehalfOfConsentRequired(t *testing.T) {
	e := NewTestServer(t, nil)
	user := userAccessToken(t, e, nestor)
	cred, err := azidentity.NewOnBehalfOfCredentialWithSecret(DevTenantID, DevAppClientID, user.AccessToken, DevAppClientSecret,
		&azidentity.OnBehalfOfCredentialOptions{ClientOptions: clientOptions(e), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = cred.GetToken(ctx, graphScope)
	if err == nil || !strings.Contains(err.Error(), "AADSTS65001") || !strings.Contains(err.Error(), "consent_required") {
		t.Fatalf("GetToken error = %v", err)
	}
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil || afe.RawResponse.StatusCode != http.StatusBadRequest {
		t.Fatalf("want AuthenticationFailedError with a 400 response, got %T %v", err, err)
	}
}
