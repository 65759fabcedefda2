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

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entra"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokencache"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// maxClientIDLen bounds client_id values before they reach storage or
// the metadata fetcher; ours are 43 characters, CIMD URLs short.
const maxClientIDLen = 2048

// Handler serves the authorization server endpoints. Build it as a struct
// literal; Now and Logger may be left nil. Its methods are safe for
// concurrent use; do not copy a Handler after first use.
type Handler struct {
	Config config.Config
	Store  store.Store
	Issuer *tokens.Issuer
	Sealer *tokens.Sealer
	// Metadata resolves client IDs that are https URLs (client ID metadata
	// documents). Nil refuses such client IDs.
	Metadata *CIMDFetcher
	// Upstream is the confidential-client leg to Entra (sign-in, refresh).
	Upstream *entra.Upstream
	// IDTokens verifies the id token Entra returns with its code.
	IDTokens *entra.Verifier
	Now      func() time.Time
	Logger   *slog.Logger

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
	return c, nil
}

// Browser clients (MCP Inspector, claude.ai) call the metadata, JWKS,
// /register, /token and /revoke endpoints with fetch(), so those answer
// CORS with any origin and no credentials (DESIGN §9). /authorize, /consent
// and /callback are navigations and get no CORS headers.
const corsAllowHeaders = "Authorization, Content-Type, MCP-Protocol-Version"

// allowCORS marks a response as readable by any origin, without credentials.
func allowCORS(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
}

// writePreflight answers an OPTIONS preflight for an endpoint serving
// methods (e.g. "POST, OPTIONS"). Requested headers are echoed when they
// are plain header names: with no credentials that grants nothing extra.
func writePreflight(w http.ResponseWriter, r *http.Request, methods string) {
	allowCORS(w)
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", methods)
	allow := corsAllowHeaders
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" && len(req) < 1000 && isHeaderList(req) {
		allow = req
	}
	h.Set("Access-Control-Allow-Headers", allow)
	h.Set("Access-Control-Max-Age", "86400")
	h.Add("Vary", "Access-Control-Request-Headers")
	w.WriteHeader(http.StatusNoContent)
}

func isHeaderList(s string) bool {
	for _, c := range []byte(s) {
		ok := c == ',' || c == ' ' || c == '-' || c == '_' || c == '.' ||
			'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !ok {
			return false
		}
	}
	return true
}

// methodNotAllowed answers 405 with the Allow header (RFC 9110 §15.5.6).
func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	WriteJSON(w, http.StatusMethodNotAllowed, errorBody{Error: CodeInvalidRequest, Description: "method not allowed"})
}
