package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entra"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokencache"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// maxClientIDLen bounds client_id values before they reach storage or
// the metadata fetcher; ours are 43 characters, CIMD URLs short.
const maxClientIDLen = 2048

// Options are the settings of the authorization server, taken from the
// configuration (package config documents each).
type Options struct {
	// PublicBaseURL is our issuer identifier (RFC 8414 §2) and the base of
	// every endpoint URL; no trailing slash.
	PublicBaseURL string
	// ResourceURL is the one resource tokens are issued for (RFC 8707),
	// PUBLIC_BASE_URL + "/mcp".
	ResourceURL  string
	ResourceName string // shown on the consent page
	MCPScope     string // the scope /mcp requires (MCP_SCOPE), granted to every sign-in
	// Scopes are every scope this server issues (TOOL_SCOPES), the base
	// scope among them. Nil means the base scope alone, with no
	// permissions.
	Scopes []Scope

	AuthCodeTTL     time.Duration
	RefreshTokenTTL time.Duration // a grant's lifetime from sign-in
	// RegistrationIdleTTL: a registration unused this long expires; 0 never.
	RegistrationIdleTTL time.Duration
	// RegistrationQuota is how many registrations one client address may
	// make per hour; 0 means no quota.
	RegistrationQuota int

	// ClientID is our app registration's client ID at Entra, the audience
	// of the ID tokens /callback receives.
	ClientID string
	// AuthorityHost is Entra's login host; the consent form may lead there.
	AuthorityHost string
}

// Scope is a scope the authorization server issues, with what the consent
// page says about it and what the sign-in at Entra asks for with it.
type Scope struct {
	Name string
	// Description completes "It will be able to:" on the consent page.
	Description string
	// Permissions are the Entra delegated permissions the scope maps to
	// (TOOL_SCOPES), written in full. A sign-in for the scope asks Entra
	// for them, so Entra asks the user to consent to those not consented
	// yet, and On-Behalf-Of for them works afterwards.
	Permissions []string
}

// scopes returns Options.Scopes, or the base scope alone.
func (h *Handler) scopes() []Scope {
	if len(h.Options.Scopes) > 0 {
		return h.Options.Scopes
	}
	return []Scope{{Name: h.Options.MCPScope}}
}

// scope returns the issued scope called name.
func (h *Handler) scope(name string) (Scope, bool) {
	for _, s := range h.scopes() {
		if s.Name == name {
			return s, true
		}
	}
	return Scope{}, false
}

// Handler serves the authorization server endpoints. Build it as a struct
// literal; Now and Logger may be left nil. Its methods are safe for
// concurrent use; do not copy a Handler after first use.
type Handler struct {
	Options Options
	Store   store.Store
	Issuer  *tokens.Issuer
	Sealer  *tokens.Sealer
	// Metadata resolves client IDs that are https URLs (client ID metadata
	// documents). Nil refuses such client IDs.
	Metadata *CIMDFetcher
	// Upstream is the confidential-client leg to Entra (sign-in, refresh).
	Upstream *entra.Upstream
	// IDTokens verifies the id token Entra returns with its code.
	IDTokens *entra.Verifier
	// ClientAddr returns the address of the client behind the proxies in
	// front of the handler (see package forwarded); nil means the TCP peer.
	ClientAddr func(*http.Request) string
	Now        func() time.Time
	Logger     *slog.Logger

	docsOnce sync.Once
	docs     metadataDocs

	grantsOnce sync.Once
	grants     *tokencache.Cache[store.Grant] // live grants, see GrantCheckInterval
	grantReads singleflight.Group

	callersOnce sync.Once
	callers     *tokencache.Cache[*resource.TokenInfo] // see VerifyAccessToken
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// writeError is WriteError with the handler's logger.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	writeError(h.logger(), w, r, err)
}

// Client resolves a client_id: an https URL is a client ID metadata
// document (fetched and cached by h.Metadata); anything else is looked up
// among dynamic registrations. An unknown or unusable client is
// invalid_client; a storage outage wraps store.ErrUnavailable (503).
func (h *Handler) Client(ctx context.Context, clientID string) (store.Client, error) {
	switch {
	case clientID == "":
		return store.Client{}, InvalidRequest("client_id is required")
	case len(clientID) > maxClientIDLen:
		return store.Client{}, InvalidClient("unknown client_id")
	case strings.HasPrefix(clientID, "https://"):
		if h.Metadata == nil {
			return store.Client{}, InvalidClient("client ID metadata documents are not supported")
		}
		return h.Metadata.Fetch(ctx, clientID)
	case strings.Contains(clientID, ":"):
		// Our own ids are base64url; a URL that is not https cannot be a
		// metadata document (draft-ietf-oauth-client-id-metadata-document §3).
		return store.Client{}, InvalidClient("client_id is neither a registered client nor an https client metadata URL")
	}
	c, err := h.Store.GetClient(ctx, clientID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Client{}, InvalidClient("unknown client_id")
	case err != nil:
		return store.Client{}, fmt.Errorf("get client: %w", err)
	}
	h.touch(ctx, &c)
	return c, nil
}
