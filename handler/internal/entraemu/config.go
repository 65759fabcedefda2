package entraemu

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Defaults shared with the handler's local configuration, so a local stack
// and the tests agree on identifiers without repeating them.
const (
	DevTenantID        = "11111111-1111-4111-8111-111111111111"
	DevAppClientID     = "22222222-2222-4222-8222-222222222222"
	DevAppClientSecret = "local-dev-secret-not-for-production"
	DevAppName         = "MCP Server (local dev)"
	DevAppScope        = "user_impersonation"
	DevPublicClientID  = "33333333-3333-4333-8333-333333333333"
	// VSCodeClientID is the public client id VS Code signs in with; in entra
	// mode it is pre-authorized on the API app.
	VSCodeClientID = "aebc6443-996d-45c2-90f0-388ff96faa56"
	// DevManagedIdentityClientID is the client id of the user-assigned managed
	// identity, and DevFederatedSubject its principal (object) id: the subject
	// of the federated identity credential on the API app.
	DevManagedIdentityClientID = "44444444-4444-4444-8444-444444444444"
	DevFederatedSubject        = "55555555-5555-4555-8555-555555555555"
	// DevIdentityHeader is the secret the managed identity endpoint expects in
	// X-IDENTITY-HEADER (App Service passes it to the app as IDENTITY_HEADER).
	DevIdentityHeader = "entra-emulator-identity-header"
	DefaultAddr       = "127.0.0.1:7072"

	// FederatedAudience is the audience Entra requires in a federated
	// identity credential assertion.
	FederatedAudience = "api://AzureADTokenExchange"
	// GraphResource is the audience of emulated Microsoft Graph tokens.
	GraphResource = "https://graph.microsoft.com"
	// GraphAppID is Microsoft Graph's well-known application id, accepted as
	// a scope prefix like Entra does.
	GraphAppID = "00000003-0000-0000-c000-000000000000"
)

// DefaultRedirectURIs are the API app's registered (web) redirect URIs.
var DefaultRedirectURIs = []string{"http://127.0.0.1:7071/callback", "http://localhost:7071/callback"}

// Client is an app registration.
type Client struct {
	ID   string
	Name string
	// Secret empty and Public true make a public client (no client
	// authentication, loopback redirect URIs match on any port).
	Secret string
	Public bool
	// RedirectURIs are matched exactly, except loopback http URIs of public
	// clients (RFC 8252 §7.3: any port, same path).
	RedirectURIs []string
	// AppIDURI and Scopes make the client an API (a resource); only the API
	// app has them.
	AppIDURI string
	Scopes   []string
	// FederatedSubjects are the subjects of federated identity credentials
	// (issuer = the tenant v2 issuer, audience = FederatedAudience).
	FederatedSubjects []string
	// GraphScopes are the delegated Microsoft Graph permissions an
	// administrator consented to for every user of the tenant (an
	// oauth2PermissionGrant with consentType AllPrincipals). Users add their
	// own consent on top (User.Consented, the consent prompt).
	GraphScopes []string
}

// User is a test user, with the properties Graph /v1.0/me returns.
type User struct {
	OID               string
	UPN               string
	DisplayName       string
	GivenName         string
	Surname           string
	Mail              string
	JobTitle          string
	Department        string
	OfficeLocation    string
	BusinessPhones    []string
	MobilePhone       string
	PreferredLanguage string
	// Consented are the delegated Graph permissions this user has granted
	// the API app themselves (consentType Principal), on top of the
	// tenant-wide Client.GraphScopes. The consent prompt adds to them.
	Consented []string
	// NeedsConsent stands for a user no consent reaches but one an
	// administrator grants at the admin-consent endpoint while the
	// emulator runs: On-Behalf-Of for any other Graph permission fails with
	// AADSTS65001 (consent_required), and the consent prompt tells him an
	// administrator must approve (AADSTS90094) instead of offering Accept.
	NeedsConsent bool
	// Admin may grant consent for the whole organization at the
	// admin-consent endpoint.
	Admin bool
	// Messages are the user's mailbox, newest first or not: Graph
	// /v1.0/me/messages sorts them.
	Messages []Message
}

// Message is a mail message in a test user's mailbox, with the properties
// Graph's message resource has that the emulator serves.
type Message struct {
	ID          string
	Subject     string
	FromName    string
	FromAddress string
	BodyPreview string
	IsRead      bool
	Received    time.Time
}

// Config configures an Emulator. Start from DefaultConfig.
type Config struct {
	TenantID string
	// BaseURL is the public https origin (no trailing slash). Empty means it
	// is set when the emulator starts listening, or taken from the request.
	BaseURL       string
	App           Client
	PublicClients []Client
	// ServingCert is the TLS certificate to serve; nil makes a new one
	// (see LoadOrCreateServingCert to keep one across runs).
	ServingCert *tls.Certificate
	Users       []User
	// ManagedIdentityClientID is the user-assigned identity the /msi/token
	// endpoint serves; its tokens carry FederatedSubject as sub and oid.
	ManagedIdentityClientID string
	FederatedSubject        string
	IdentityHeader          string

	AccessTokenLifetime  time.Duration
	CodeLifetime         time.Duration
	RefreshTokenLifetime time.Duration
	Now                  func() time.Time
	Logger               *slog.Logger
}

// DefaultConfig returns the configuration of the local development tenant.
func DefaultConfig() Config {
	loopback := []string{"http://127.0.0.1/", "http://localhost/", "http://127.0.0.1/callback", "http://localhost/callback"}
	return Config{
		TenantID: DevTenantID,
		App: Client{
			ID:                DevAppClientID,
			Name:              DevAppName,
			Secret:            DevAppClientSecret,
			RedirectURIs:      append([]string(nil), DefaultRedirectURIs...),
			AppIDURI:          "api://" + DevAppClientID,
			Scopes:            []string{DevAppScope, "mail.read"},
			FederatedSubjects: []string{DevFederatedSubject},
			GraphScopes:       []string{"User.Read"},
		},
		PublicClients: []Client{
			{ID: DevPublicClientID, Name: "Local dev public client", Public: true, RedirectURIs: loopback},
			{ID: VSCodeClientID, Name: "Visual Studio Code", Public: true,
				RedirectURIs: []string{"https://vscode.dev/redirect", "http://127.0.0.1/", "http://localhost/"}},
		},
		Users:                   DefaultUsers(),
		ManagedIdentityClientID: DevManagedIdentityClientID,
		FederatedSubject:        DevFederatedSubject,
		IdentityHeader:          DevIdentityHeader,
		AccessTokenLifetime:     time.Hour,
		CodeLifetime:            10 * time.Minute,
		RefreshTokenLifetime:    24 * time.Hour,
		Now:                     time.Now,
		Logger:                  slog.Default(),
	}
}

// DefaultUsers returns the test users. Their oids are fixed so tests and
// stored state survive restarts. Every user has consented to User.Read
// through the tenant-wide admin consent (Client.GraphScopes) except Nestor,
// whom no consent reaches but an administrator's at run time; Adele has
// also consented to Mail.Read herself, the others have not. Miriam is an
// administrator (the admin-consent endpoint).
func DefaultUsers() []User {
	return []User{
		{OID: "a0a0a0a0-0000-4000-8000-000000000001", UPN: "AdeleV@contoso.example", DisplayName: "Adele Vance",
			GivenName: "Adele", Surname: "Vance", Mail: "AdeleV@contoso.example", JobTitle: "Retail Manager",
			Department: "Retail", OfficeLocation: "18/2111", BusinessPhones: []string{"+1 425 555 0109"},
			PreferredLanguage: "en-US", Consented: []string{"Mail.Read"}, Messages: mailbox("AdeleV")},
		{OID: "a0a0a0a0-0000-4000-8000-000000000002", UPN: "AlexW@contoso.example", DisplayName: "Alex Wilber",
			GivenName: "Alex", Surname: "Wilber", Mail: "AlexW@contoso.example", JobTitle: "Marketing Assistant",
			Department: "Marketing", OfficeLocation: "131/1104", BusinessPhones: []string{"+1 858 555 0110"},
			PreferredLanguage: "en-US", Messages: mailbox("AlexW")},
		{OID: "a0a0a0a0-0000-4000-8000-000000000003", UPN: "MeganB@contoso.example", DisplayName: "Megan Bowen",
			GivenName: "Megan", Surname: "Bowen", Mail: "MeganB@contoso.example", JobTitle: "Marketing Manager",
			Department: "Marketing", OfficeLocation: "12/1110", BusinessPhones: []string{"+1 412 555 0109"},
			MobilePhone: "+1 412 555 0199", PreferredLanguage: "en-US", Messages: mailbox("MeganB")},
		{OID: "a0a0a0a0-0000-4000-8000-000000000004", UPN: "NestorW@contoso.example", DisplayName: "Nestor Wilke",
			GivenName: "Nestor", Surname: "Wilke", Mail: "NestorW@contoso.example", JobTitle: "Director",
			Department: "Operations", OfficeLocation: "36/2121", BusinessPhones: []string{"+1 206 555 0105"},
			PreferredLanguage: "en-US", NeedsConsent: true, Messages: mailbox("NestorW")},
		{OID: "a0a0a0a0-0000-4000-8000-000000000005", UPN: "MiriamG@contoso.example", DisplayName: "Miriam Graham",
			GivenName: "Miriam", Surname: "Graham", Mail: "MiriamG@contoso.example", JobTitle: "IT Administrator",
			Department: "IT", OfficeLocation: "131/2103", BusinessPhones: []string{"+1 206 555 0114"},
			PreferredLanguage: "en-US", Admin: true, Messages: mailbox("MiriamG")},
	}
}

// validate names every problem at once.
func (c *Config) validate() error {
	var errs []error
	if c.TenantID == "" {
		errs = append(errs, errors.New("tenant id is empty"))
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || u.Scheme != "https" || u.Host == "" || strings.HasSuffix(c.BaseURL, "/") {
			errs = append(errs, fmt.Errorf("base URL %q must be an https origin without trailing slash", c.BaseURL))
		}
	}
	if c.App.ID == "" {
		errs = append(errs, errors.New("app client id is empty"))
	}
	if c.App.AppIDURI == "" {
		c.App.AppIDURI = "api://" + c.App.ID
	}
	if len(c.App.Scopes) == 0 {
		errs = append(errs, errors.New("app exposes no scopes"))
	}
	for _, uri := range c.App.RedirectURIs {
		if u, err := url.Parse(uri); err != nil || u.Scheme == "" || u.Host == "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("redirect URI %q is not an absolute URI without fragment", uri))
		}
	}
	if c.AccessTokenLifetime <= 0 || c.CodeLifetime <= 0 || c.RefreshTokenLifetime <= 0 {
		errs = append(errs, errors.New("token, code and refresh lifetimes must be positive"))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return errors.Join(errs...)
}
