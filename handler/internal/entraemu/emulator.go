package entraemu

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/reqlog"
)

// maxBodyBytes bounds every request body; Entra's own limits are larger but
// nothing legitimate sent to the emulator comes close.
const maxBodyBytes = 64 << 10

// Emulator is one emulated tenant. It is safe for concurrent use.
type Emulator struct {
	cfg     Config
	log     *slog.Logger
	cert    tls.Certificate
	certPEM []byte
	mux     *http.ServeMux

	mu      sync.Mutex
	base    string
	curKey  *signingKey
	prevKey *signingKey
	codes   map[string]*codeGrant
	refresh map[string]*refreshGrant
	// consents are the Graph permissions users accepted on the consent
	// prompt, by consentKey(client, oid).
	consents map[string][]string
	// adminConsents are the Graph permissions an administrator granted the
	// API app for everyone at the admin-consent endpoint (adminconsent.go).
	adminConsents []string
}

// New builds an emulator: it generates the TLS certificate and the first
// signing key, and validates cfg.
func New(cfg Config) (*Emulator, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cert, certPEM, err := servingCert(cfg.ServingCert)
	if err != nil {
		return nil, err
	}
	key, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	e := &Emulator{
		cfg:      cfg,
		log:      cfg.Logger,
		cert:     cert,
		certPEM:  certPEM,
		base:     cfg.BaseURL,
		curKey:   key,
		codes:    map[string]*codeGrant{},
		refresh:  map[string]*refreshGrant{},
		consents: map[string][]string{},
	}
	e.mux = e.routes()
	return e, nil
}

// routes is the emulator's whole URL surface.
func (e *Emulator) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", e.tenant(e.handleDiscovery))
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", e.tenant(e.handleKeys))
	// authorize and token take any method so that a wrong one gets an
	// Entra-shaped answer rather than the mux's plain-text 405.
	mux.HandleFunc("/{tenant}/oauth2/v2.0/authorize", e.tenant(e.handleAuthorize))
	mux.HandleFunc("/{tenant}/oauth2/v2.0/token", e.tenant(e.handleToken))
	mux.HandleFunc("GET /{tenant}/v2.0/adminconsent", e.tenant(e.handleAdminConsent))
	mux.HandleFunc("POST /{tenant}/v2.0/adminconsent", e.tenant(e.handleAdminConsent))
	mux.HandleFunc("GET /v1.0/me", e.handleMe)
	mux.HandleFunc("GET /v1.0/me/messages", e.handleMessages)
	mux.HandleFunc("GET /oidc/userinfo", e.handleUserInfo)
	mux.HandleFunc("GET /msi/token", e.handleManagedIdentity)
	mux.HandleFunc("POST /_emulator/rotate-keys", e.handleRotateKeys)
	return mux
}

// Handler returns the HTTP handler: routes behind panic recovery, a body
// limit and an access log (paths only; never tokens or codes).
func (e *Emulator) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := reqlog.NewRecorder(w)
		defer func() {
			if v := recover(); v != nil {
				e.log.Error("panic serving request", "path", r.URL.Path, "panic", v)
				if !sw.Wrote {
					e.writeJSONError(sw, r, errorf(http.StatusInternalServerError, "server_error", 90033, "A transient error has occurred. Please try again."))
				}
			}
			e.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.Status, "duration", time.Since(start))
		}()
		if r.Body != nil {
			r.Body = http.MaxBytesReader(sw, r.Body, maxBodyBytes)
		}
		e.mux.ServeHTTP(sw, r)
	})
}

// tenant refuses any tenant but the configured one, as Entra refuses an
// unknown tenant (AADSTS90002).
func (e *Emulator) tenant(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if t := r.PathValue("tenant"); !strings.EqualFold(t, e.cfg.TenantID) {
			e.writeJSONError(w, r, invalidRequest(90002, "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", t))
			return
		}
		next(w, r)
	}
}

// SetBaseURL sets the public origin (https://host:port, no trailing slash)
// that issuers and endpoint URLs are built from.
func (e *Emulator) SetBaseURL(base string) {
	e.mu.Lock()
	e.base = strings.TrimSuffix(base, "/")
	e.mu.Unlock()
}

// BaseURL returns the public origin, empty until known.
func (e *Emulator) BaseURL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.base
}

// baseURL falls back to the request's host when no origin was configured,
// so Handler works behind any httptest server.
func (e *Emulator) baseURL(r *http.Request) string {
	if b := e.BaseURL(); b != "" {
		return b
	}
	return "https://" + r.Host
}

// Issuer returns the tenant's v2 issuer, {base}/{tenant}/v2.0.
func (e *Emulator) Issuer() string { return e.BaseURL() + "/" + e.cfg.TenantID + "/v2.0" }

func (e *Emulator) issuer(r *http.Request) string {
	return e.baseURL(r) + "/" + e.cfg.TenantID + "/v2.0"
}

// AuthorityHost returns the value for azcore's cloud.Configuration
// ActiveDirectoryAuthorityHost: the origin with a trailing slash.
func (e *Emulator) AuthorityHost() string { return e.BaseURL() + "/" }

// TenantID returns the emulated tenant's id.
func (e *Emulator) TenantID() string { return e.cfg.TenantID }

// Config returns a copy of the configuration in use.
func (e *Emulator) Config() Config { return e.cfg }

// Users returns the test users.
func (e *Emulator) Users() []User { return append([]User(nil), e.cfg.Users...) }

// User returns the test user with the given UPN (case-insensitive) or oid.
func (e *Emulator) User(upnOrOID string) (User, bool) {
	for _, u := range e.cfg.Users {
		if strings.EqualFold(u.UPN, upnOrOID) || strings.EqualFold(u.OID, upnOrOID) {
			return u, true
		}
	}
	return User{}, false
}

func (e *Emulator) client(id string) (*Client, bool) {
	if id == e.cfg.App.ID {
		return &e.cfg.App, true
	}
	for i := range e.cfg.PublicClients {
		if e.cfg.PublicClients[i].ID == id {
			return &e.cfg.PublicClients[i], true
		}
	}
	return nil, false
}

func (e *Emulator) now() time.Time { return e.cfg.Now() }

func (e *Emulator) handleRotateKeys(w http.ResponseWriter, r *http.Request) {
	if err := e.RotateKeys(); err != nil {
		e.writeJSONError(w, r, errorf(http.StatusInternalServerError, "server_error", 90033, "Key generation failed."))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"kid": e.CurrentKeyID()})
}
