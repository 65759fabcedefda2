package entra

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// ConsentRequiredError means Entra refused On-Behalf-Of because the user or
// an administrator has not consented to the downstream permission
// (AADSTS65001, suberror consent_required). URL is the admin-consent URL
// for Scopes.
type ConsentRequiredError struct {
	URL    string
	Scopes []string
	Detail string // the AADSTS code, for the log
}

func (e *ConsentRequiredError) Error() string {
	return "consent required for " + strings.Join(e.Scopes, " ") + "; an administrator can grant it at " + e.URL
}

// InteractionRequiredError means Entra refused On-Behalf-Of until the user
// signs in again interactively: error interaction_required, typically a
// Conditional Access policy asking for multi-factor authentication on the
// downstream API (AADSTS50076, AADSTS50079). On-Behalf-Of cannot prompt.
type InteractionRequiredError struct {
	Detail string
}

func (e *InteractionRequiredError) Error() string {
	return "interaction required by Entra ID (" + e.Detail + "): the user must sign in again"
}

// OBO exchanges a user assertion for a downstream token with the
// On-Behalf-Of grant, authenticating as our app registration with a
// federated credential (a managed-identity token as client assertion) in
// Azure or a client secret locally. Credentials are cached per assertion so
// azidentity's own token cache is reused across requests by the same user.
type OBO struct {
	AuthorityHost string
	TenantID      string
	ClientID      string
	// Exactly one of ClientSecret and ClientAssertion is set.
	ClientSecret    string
	ClientAssertion func(ctx context.Context) (string, error)
	HTTPClient      *http.Client
	// AdminConsentRedirectURL is where Entra sends an administrator back
	// after the admin-consent URL (ConsentURL): a redirect URI of the app.
	// Empty: Entra's default, the app's first redirect URI.
	AdminConsentRedirectURL string
	// MaxCached bounds the credential cache.
	MaxCached int
	// Now is the clock the cache compares assertion expiry with; default
	// time.Now.
	Now func() time.Time

	mu    sync.Mutex
	creds map[[32]byte]cachedCred
}

type cachedCred struct {
	cred    azcore.TokenCredential
	expires time.Time
}

// ManagedIdentityAssertion returns a ClientAssertion callback that gets a
// token for api://AzureADTokenExchange from the user-assigned managed
// identity: the federated identity credential on the app registration
// trusts exactly that token, so no secret exists in Azure.
func ManagedIdentityAssertion(miClientID string, client *http.Client) (func(context.Context) (string, error), error) {
	mi, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
		ID:            azidentity.ClientID(miClientID),
		ClientOptions: azcore.ClientOptions{Transport: client},
	})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (string, error) {
		tk, err := mi.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"api://AzureADTokenExchange/.default"}})
		return tk.Token, err
	}, nil
}

// Token returns a downstream access token for scopes on behalf of the user
// whose Entra access token is assertion (its aud must be our app).
func (o *OBO) Token(ctx context.Context, assertion string, assertionExpiry time.Time, scopes []string) (string, error) {
	cred, err := o.credential(assertion, assertionExpiry)
	if err != nil {
		return "", err
	}
	tk, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: scopes})
	if err != nil {
		return "", o.classify(err, scopes)
	}
	return tk.Token, nil
}

func (o *OBO) credential(assertion string, expiry time.Time) (azcore.TokenCredential, error) {
	key := sha256.Sum256([]byte(assertion))
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if c, ok := o.creds[key]; ok && now.Before(c.expires) {
		return c.cred, nil
	}
	opts := &azidentity.OnBehalfOfCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: o.AuthorityHost + "/"},
			Transport: o.HTTPClient,
			Retry:     policy.RetryOptions{MaxRetries: 1, TryTimeout: 10 * time.Second},
		},
		// The authority is configured, not discovered: instance discovery
		// would call login.microsoftonline.com even for the emulator.
		DisableInstanceDiscovery: true,
	}
	var cred azcore.TokenCredential
	var err error
	if o.ClientAssertion != nil {
		cred, err = azidentity.NewOnBehalfOfCredentialWithClientAssertions(o.TenantID, o.ClientID, assertion, o.ClientAssertion, opts)
	} else {
		cred, err = azidentity.NewOnBehalfOfCredentialWithSecret(o.TenantID, o.ClientID, assertion, o.ClientSecret, opts)
	}
	if err != nil {
		return nil, err
	}
	if o.creds == nil {
		o.creds = make(map[[32]byte]cachedCred)
	}
	max := o.MaxCached
	if max <= 0 {
		max = 1024
	}
	if len(o.creds) >= max {
		o.evict(now)
	}
	o.creds[key] = cachedCred{cred: cred, expires: expiry}
	return cred, nil
}

// evict drops expired entries, and if that frees nothing, an arbitrary half:
// a bounded cache matters more here than a perfect LRU.
func (o *OBO) evict(now time.Time) {
	for k, c := range o.creds {
		if !now.Before(c.expires) {
			delete(o.creds, k)
		}
	}
	n := len(o.creds) / 2
	for k := range o.creds {
		if len(o.creds) <= n {
			break
		}
		delete(o.creds, k)
	}
}

// classify turns Entra's consent and interaction answers into
// ConsentRequiredError and InteractionRequiredError. azidentity puts Entra's
// JSON error body into the error text, which is the only stable place to
// read error, error_codes and suberror from.
func (o *OBO) classify(err error, scopes []string) error {
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) {
		return fmt.Errorf("on-behalf-of: %w", err)
	}
	switch msg := err.Error(); {
	case strings.Contains(msg, "AADSTS65001") || consentSuberror.MatchString(msg):
		return &ConsentRequiredError{URL: o.ConsentURL(scopes), Scopes: scopes, Detail: "AADSTS65001"}
	case interactionError.MatchString(msg):
		return &InteractionRequiredError{Detail: aadstsCode(msg)}
	}
	return fmt.Errorf("on-behalf-of: %w", err)
}

// azidentity indents the JSON body it quotes.
var (
	consentSuberror  = regexp.MustCompile(`"suberror":\s*"consent_required"`)
	interactionError = regexp.MustCompile(`"error":\s*"interaction_required"`)
)

// aadstsCode returns the first AADSTS code in msg, e.g. "AADSTS50079".
func aadstsCode(msg string) string {
	i := strings.Index(msg, "AADSTS")
	if i < 0 {
		return "interaction_required"
	}
	j := i + len("AADSTS")
	for j < len(msg) && msg[j] >= '0' && msg[j] <= '9' {
		j++
	}
	return msg[i:j]
}

// ConsentURL is the v2 admin-consent URL for the downstream scopes: Entra
// requires consent to them for On-Behalf-Of, and only an interactive grant
// can give it.
func (o *OBO) ConsentURL(scopes []string) string {
	q := url.Values{"client_id": {o.ClientID}, "scope": {strings.Join(scopes, " ")}}
	if o.AdminConsentRedirectURL != "" {
		q.Set("redirect_uri", o.AdminConsentRedirectURL)
	}
	return o.AuthorityHost + "/" + o.TenantID + "/v2.0/adminconsent?" + q.Encode()
}
