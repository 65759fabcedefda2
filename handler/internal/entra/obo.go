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
	"golang.org/x/sync/singleflight"
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
// Azure or a client secret locally. The downstream tokens are cached per
// assertion and scopes until shortly before they expire, and concurrent
// requests of one user share one exchange.
//
// The cache holds tokens, not credentials: an azidentity credential holds
// an HTTP pipeline and an MSAL client with a token cache of its own, about
// 12 KB per user, where a token is about 2 KB. The soak (scripts/soak.sh)
// showed the credentials as most of an instance's heap.
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
	// MaxCached bounds the token cache (default 2048, about 5 MB).
	MaxCached int
	// Now is the clock the cache compares expiry with; default time.Now.
	Now func() time.Time

	mu       sync.Mutex
	tokens   map[[32]byte]cachedToken
	exchange singleflight.Group
}

type cachedToken struct {
	token   string
	expires time.Time // when the cache stops handing it out
}

// oboSkew retires a cached token this long before it expires, so a tool
// never gets one that dies on the way to Graph.
const oboSkew = 2 * time.Minute

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
// whose Entra access token is assertion (its aud must be our app). The
// assertion's expiry is not needed: a downstream token lives on its own
// expiry, and a renewed assertion is a new cache key.
func (o *OBO) Token(ctx context.Context, assertion string, _ time.Time, scopes []string) (string, error) {
	h := sha256.New()
	h.Write([]byte(assertion))
	for _, s := range scopes {
		h.Write([]byte{0})
		h.Write([]byte(s))
	}
	var key [32]byte
	h.Sum(key[:0])
	if tk, ok := o.cached(key); ok {
		return tk, nil
	}
	v, err, _ := o.exchange.Do(string(key[:]), func() (any, error) {
		cred, err := o.credential(assertion)
		if err != nil {
			return "", err
		}
		tk, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: scopes})
		if err != nil {
			return "", o.classify(err, scopes)
		}
		o.remember(key, tk.Token, tk.ExpiresOn.Add(-oboSkew))
		return tk.Token, nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

func (o *OBO) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *OBO) cached(key [32]byte) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c, ok := o.tokens[key]
	if !ok || !o.now().Before(c.expires) {
		return "", false
	}
	return c.token, true
}

// remember caches token until expires, dropping expired entries, and if
// that frees nothing an arbitrary half, when the cache is full: a bounded
// cache matters more here than a perfect LRU.
func (o *OBO) remember(key [32]byte, token string, expires time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.tokens == nil {
		o.tokens = make(map[[32]byte]cachedToken)
	}
	max := o.MaxCached
	if max <= 0 {
		max = 2048
	}
	if len(o.tokens) >= max {
		now := o.now()
		for k, c := range o.tokens {
			if !now.Before(c.expires) {
				delete(o.tokens, k)
			}
		}
		for k := range o.tokens {
			if len(o.tokens) < max/2 {
				break
			}
			delete(o.tokens, k)
		}
	}
	o.tokens[key] = cachedToken{token: token, expires: expires}
}

// credential is a one-off azidentity credential for one exchange.
func (o *OBO) credential(assertion string) (azcore.TokenCredential, error) {
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
	if o.ClientAssertion != nil {
		return azidentity.NewOnBehalfOfCredentialWithClientAssertions(o.TenantID, o.ClientID, assertion, o.ClientAssertion, opts)
	}
	return azidentity.NewOnBehalfOfCredentialWithSecret(o.TenantID, o.ClientID, assertion, o.ClientSecret, opts)
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
