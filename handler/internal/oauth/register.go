package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// Limits on what a registration may store. Table Storage holds at most 64
// KiB per string property (32K UTF-16 units) and 1 MiB per entity
// (learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model);
// the redirect URIs are one property (a JSON array), so their total is
// bounded too, far below that: real clients register a few URIs of under
// 100 bytes. With every field at its limit a registration is under 16 KiB.
const (
	maxRegistrationBody  = 64 << 10
	maxRedirectURIs      = 32
	maxRedirectURIsTotal = 8 << 10 // bytes, all redirect URIs together
	maxClientNameRunes   = 100
	maxScopeLen          = 1000
	grantAuthCode        = "authorization_code"
	grantRefresh         = "refresh_token"
)

// ClientMetadata is the client metadata of RFC 7591 §2, as sent to
// /register or served as a client ID metadata document. Unknown members
// are ignored (RFC 7591 §3.1).
type ClientMetadata struct {
	// ClientID (client_id) is only meaningful in a metadata document,
	// where it must equal the document's URL.
	ClientID string `json:"client_id,omitempty"`
	// RedirectURIs (redirect_uris) is required; see ValidateRedirectURI.
	RedirectURIs []string `json:"redirect_uris"`
	// TokenEndpointAuthMethod (token_endpoint_auth_method): "none" (the
	// default here), "client_secret_post" or "client_secret_basic".
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method,omitempty"`
	// GrantTypes (grant_types): authorization_code is required,
	// refresh_token optional, others are dropped; default both.
	GrantTypes []string `json:"grant_types,omitempty"`
	// ResponseTypes (response_types): must include code; others are dropped.
	ResponseTypes []string `json:"response_types,omitempty"`
	// ApplicationType (application_type): "web" or "native" (OIDC Dynamic
	// Client Registration §2; MCP 2026-07-28 clients send it).
	ApplicationType string `json:"application_type,omitempty"`
	ClientName      string `json:"client_name,omitempty"` // client_name, shown at consent
	ClientURI       string `json:"client_uri,omitempty"`  // client_uri, https only
	LogoURI         string `json:"logo_uri,omitempty"`    // logo_uri, https only
	Scope           string `json:"scope,omitempty"`       // scope, space-separated
}

// registrationResponse is the RFC 7591 §3.2.1 response: the registered
// metadata plus the credentials.
type registrationResponse struct {
	ClientMetadata
	ClientIDIssuedAt int64  `json:"client_id_issued_at"`
	ClientSecret     string `json:"client_secret,omitempty"`
	// ClientSecretExpiresAt (client_secret_expires_at) is required when a
	// secret is issued; 0 means it never expires.
	ClientSecretExpiresAt *int64 `json:"client_secret_expires_at,omitempty"`
}

// Register is the RFC 7591 dynamic client registration endpoint, POST
// /register. Duplicate registrations are fine: claude.ai registers twice
// per connect.
func (h *Handler) Register(w http.ResponseWriter, r *http.Request) {
	c, secret, err := h.register(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	// No secret or hash in the audit record; redirect URIs are public.
	h.audit(r, audit.ClientRegistered,
		slog.String("client_id", c.ID), slog.String("client_name", c.Name),
		slog.String("application_type", c.ApplicationType),
		slog.String("token_endpoint_auth_method", c.TokenEndpointAuthMethod),
		slog.Any("redirect_uris", c.RedirectURIs), slog.String("client_addr", h.clientAddr(r)))
	WriteJSON(w, http.StatusCreated, newRegistrationResponse(c, secret))
}

func (h *Handler) register(w http.ResponseWriter, r *http.Request) (store.Client, string, error) {
	var m ClientMetadata
	if err := decodeJSONBody(w, r, &m); err != nil {
		return store.Client{}, "", err
	}
	c, err := m.client()
	if err != nil {
		return store.Client{}, "", err
	}
	if err := h.checkQuota(w, r); err != nil {
		return store.Client{}, "", err
	}
	c.ID = tokens.NewOpaque()
	c.CreatedAt = h.now().UTC().Truncate(time.Second)
	if idle := h.Options.RegistrationIdleTTL; idle > 0 {
		// Unused registrations expire and are purged (see touch).
		c.ExpiresAt = c.CreatedAt.Add(idle)
	}
	var secret string
	if c.TokenEndpointAuthMethod != "none" {
		// Returned once, stored only as its hash.
		secret = tokens.NewOpaque()
		c.SecretHash = tokens.Hash(secret)
	}
	if err := h.Store.CreateClient(r.Context(), c); err != nil {
		if errors.Is(err, store.ErrTooLarge) {
			return store.Client{}, "", &Error{Code: CodeInvalidClientMetadata, Description: "the client metadata is too large to store", Err: err}
		}
		return store.Client{}, "", fmt.Errorf("store client: %w", err)
	}
	return c, secret, nil
}

// decodeJSONBody reads at most 64 KiB of JSON into v. Any Content-Type is
// accepted as long as the body is JSON: being lenient costs nothing here,
// since registration carries no ambient credentials.
func decodeJSONBody(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRegistrationBody))
	if err != nil {
		if oerr := bodyReadError(err); oerr != nil {
			return oerr
		}
		return InvalidRequest("reading the request body failed")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return InvalidClientMetadata("%s has the wrong JSON type", typeErr.Field)
		}
		return InvalidClientMetadata("the request body is not a JSON object")
	}
	return nil
}

// client validates m and returns the client it describes, without ID,
// secret or timestamps. Errors are invalid_redirect_uri or
// invalid_client_metadata (RFC 7591 §3.2.2).
func (m *ClientMetadata) client() (store.Client, error) {
	appType, err := m.applicationType()
	if err != nil {
		return store.Client{}, err
	}
	if err := validRedirectURIs(m.RedirectURIs, appType); err != nil {
		return store.Client{}, err
	}
	auth, err := authMethod(m.TokenEndpointAuthMethod)
	if err != nil {
		return store.Client{}, err
	}
	// Refresh tokens by default: RFC 7591's default is authorization_code
	// alone, but MCP clients that omit grant_types still expect to refresh.
	grants := subset(m.GrantTypes, []string{grantAuthCode, grantRefresh}, []string{grantAuthCode, grantRefresh})
	if !slices.Contains(grants, grantAuthCode) {
		return store.Client{}, InvalidClientMetadata("grant_types must include authorization_code; supported: authorization_code, refresh_token")
	}
	responses := subset(m.ResponseTypes, []string{"code"}, []string{"code"})
	if len(responses) == 0 {
		return store.Client{}, InvalidClientMetadata("response_types must include code")
	}
	scope, err := normalizeScope(m.Scope)
	if err != nil {
		return store.Client{}, err
	}
	clientURI, err1 := httpsURL("client_uri", m.ClientURI)
	logoURI, err2 := httpsURL("logo_uri", m.LogoURI)
	if err := errors.Join(err1, err2); err != nil {
		return store.Client{}, InvalidClientMetadata("%v", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return store.Client{
		Name:                    cleanName(m.ClientName),
		RedirectURIs:            slices.Clone(m.RedirectURIs),
		GrantTypes:              grants,
		ResponseTypes:           responses,
		TokenEndpointAuthMethod: auth,
		ApplicationType:         appType,
		Scope:                   scope,
		ClientURI:               clientURI,
		LogoURI:                 logoURI,
	}, nil
}

func validRedirectURIs(uris []string, appType string) error {
	if len(uris) == 0 {
		return InvalidRedirectURI("redirect_uris is required")
	}
	if len(uris) > maxRedirectURIs {
		return InvalidRedirectURI("at most %d redirect_uris", maxRedirectURIs)
	}
	total := 0
	for i, u := range uris {
		if err := ValidateRedirectURI(u, appType); err != nil {
			return InvalidRedirectURI("redirect_uris[%d]: %v", i, err)
		}
		total += len(u)
	}
	if total > maxRedirectURIsTotal {
		return InvalidRedirectURI("redirect_uris together are longer than %d bytes", maxRedirectURIsTotal)
	}
	return nil
}

// authMethod defaults to "none": RFC 7591 §2 defaults to
// client_secret_basic, but MCP clients are public clients using PKCE, and a
// secret nobody asked for is only a credential to leak.
func authMethod(m string) (string, error) {
	switch m {
	case "":
		return "none", nil
	case "none", "client_secret_post", "client_secret_basic":
		return m, nil
	}
	return "", InvalidClientMetadata("token_endpoint_auth_method %q is not supported; use none, client_secret_post or client_secret_basic", m)
}

// applicationType returns the declared type, or, when absent, "native" if
// a redirect URI uses a private-use scheme (only native apps can receive
// those) and "web" otherwise, the OIDC Registration §2 default.
func (m *ClientMetadata) applicationType() (string, error) {
	switch m.ApplicationType {
	case "web", "native":
		return m.ApplicationType, nil
	case "":
		for _, u := range m.RedirectURIs {
			if !strings.HasPrefix(u, "https:") && !strings.HasPrefix(u, "http:") {
				return "native", nil
			}
		}
		return "web", nil
	}
	return "", InvalidClientMetadata("application_type %q is not web or native", m.ApplicationType)
}

// subset returns the supported values among values, deduplicated in
// order, or def when values is empty. Unsupported values are dropped, not
// refused: RFC 7591 §2 lets the server replace requested metadata and the
// client read the result, and older VS Code releases ask for the device
// code grant whatever the metadata says. The caller checks that what
// remains is usable.
func subset(values, def, supported []string) []string {
	if len(values) == 0 {
		return slices.Clone(def)
	}
	out := make([]string, 0, len(values))
	for _, v := range values {
		if slices.Contains(supported, v) && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// normalizeScope checks RFC 6749 §3.3 scope-token syntax and joins the
// tokens with single spaces. Which scopes are granted is decided at
// /authorize; registration only records what the client asked for.
func normalizeScope(s string) (string, error) {
	if len(s) > maxScopeLen {
		return "", InvalidClientMetadata("scope is longer than %d bytes", maxScopeLen)
	}
	fields := strings.Fields(s)
	for _, f := range fields {
		for i := 0; i < len(f); i++ {
			if c := f[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				return "", InvalidClientMetadata("scope contains an invalid character")
			}
		}
	}
	return strings.Join(fields, " "), nil
}

// httpsURL accepts an empty value or an absolute https URL without
// userinfo or fragment; these URLs end up as links on the consent page.
func httpsURL(field, raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	if err := checkURIChars(raw); err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	if !strings.HasPrefix(raw, "https://") || IsLoopbackRedirectURI(raw) {
		return "", fmt.Errorf("%s: must be an https URL", field)
	}
	if _, err := parseHTTPSURL(raw); err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	return raw, nil
}

// cleanName makes client_name safe to show: invalid UTF-8, control and
// format characters (including bidi overrides that could reorder the
// consent text) are removed, and the length is capped.
func cleanName(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxClientNameRunes {
		s = strings.TrimSpace(string(r[:maxClientNameRunes]))
	}
	return s
}

func newRegistrationResponse(c store.Client, secret string) registrationResponse {
	resp := registrationResponse{
		ClientMetadata: ClientMetadata{
			ClientID:                c.ID,
			RedirectURIs:            c.RedirectURIs,
			TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
			GrantTypes:              c.GrantTypes,
			ResponseTypes:           c.ResponseTypes,
			ApplicationType:         c.ApplicationType,
			ClientName:              c.Name,
			ClientURI:               c.ClientURI,
			LogoURI:                 c.LogoURI,
			Scope:                   c.Scope,
		},
		ClientIDIssuedAt: c.CreatedAt.Unix(),
		ClientSecret:     secret,
	}
	if secret != "" {
		var never int64
		resp.ClientSecretExpiresAt = &never
	}
	return resp
}
