package oauth

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// Browser cookies of the sign-in flow. With an https public URL they carry
// the __Host- prefix (Secure, Path=/, no Domain: no other host or path can
// set or shadow them). Local runs on http://127.0.0.1 drop the prefix and
// Secure, because browsers keep neither for http origins.
const (
	// cookieBrowser identifies a browser for consent records: set when the
	// user first approves, never before (MCP security best practices).
	cookieBrowser = "mcp-browser"
	// cookieFlow binds a sign-in to the browser that started it: its hash
	// is stored with the pending request at /authorize and checked at GET
	// and POST /consent and at /callback.
	cookieFlow = "mcp-flow"
	// cookieCSRF is the double-submit token of the consent form.
	cookieCSRF = "mcp-csrf"
)

func (h *Handler) secureCookies() bool {
	return strings.HasPrefix(h.Options.PublicBaseURL, "https://")
}

func (h *Handler) cookieName(base string) string {
	if h.secureCookies() {
		return "__Host-" + base
	}
	return base
}

// setCookie writes an HttpOnly cookie scoped to the whole host. SameSite
// Lax lets the flow cookie ride along on Entra's top-level redirect to
// /callback; the CSRF cookie is Strict.
func (h *Handler) setCookie(w http.ResponseWriter, base, value string, maxAge time.Duration, sameSite http.SameSite) {
	http.SetCookie(w, &http.Cookie{
		Name:     h.cookieName(base),
		Value:    value,
		Path:     "/",
		MaxAge:   int(maxAge / time.Second),
		Secure:   h.secureCookies(),
		HttpOnly: true,
		SameSite: sameSite,
	})
}

func (h *Handler) cookie(r *http.Request, base string) string {
	c, err := r.Cookie(h.cookieName(base))
	if err != nil {
		return ""
	}
	return c.Value
}

// flowCookie returns this browser's flow cookie, setting a new one if it
// has none (SameSite Lax: it must ride along on Entra's top-level redirect
// back to /callback).
func (h *Handler) flowCookie(w http.ResponseWriter, r *http.Request) string {
	flow := h.cookie(r, cookieFlow)
	if flow == "" {
		flow = tokens.NewOpaque()
	}
	h.setCookie(w, cookieFlow, flow, authRequestTTL, http.SameSiteLaxMode)
	return flow
}

// sameBrowser reports whether r carries the flow cookie whose hash a
// pending request was stored with.
func (h *Handler) sameBrowser(r *http.Request, a store.AuthRequest) bool {
	flow := h.cookie(r, cookieFlow)
	return flow != "" && a.BrowserBindingHash != "" && equalSecret(tokens.Hash(flow), a.BrowserBindingHash)
}

// consentKey ties a consent record to one browser, one client and one
// redirect URI: a changed redirect URI asks again.
func consentKey(browserID, clientID, redirectURI string) string {
	return tokens.Hash(browserID + "\n" + clientID + "\n" + redirectURI)
}

func equalSecret(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
