package oauth

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// appView is one connected app on the page.
type appView struct {
	// Name is the app's own name for itself, never verified; Host is set
	// for a client ID metadata document: the host that publishes it, the
	// one thing about the app the server can vouch for (as on the consent
	// page).
	Name, Host   string
	ClientID     string
	Registered   bool // false: the registration has expired or was removed
	RedirectHost string
	Scopes       []scopeView
	FirstUse     string
	LastUse      string
	Ref          string // the grant reference the revoke form names
}

type accountView struct {
	UserName, Username string
	Apps               []appView
	Revoked            bool // an app was just revoked: say so
	CSRFToken          string
	ResourceName       string
}

// renderAccount lists the session's user's grants, newest first.
func (h *Handler) renderAccount(w http.ResponseWriter, r *http.Request, s accountSession, revokedRef string) {
	grants, err := h.Store.ListGrants(r.Context(), store.GrantQuery{Subject: s.Subject})
	if err != nil {
		h.logger().WarnContext(r.Context(), "account: list grants", "err", err)
		h.storeFailed(w, r, err, "Your connected apps cannot be listed right now. Please try again in a moment.")
		return
	}
	slices.SortFunc(grants, func(a, b store.Grant) int { return b.CreatedAt.Compare(a.CreatedAt) })
	view := accountView{UserName: s.Name, Username: s.Username, CSRFToken: s.CSRF, ResourceName: h.Options.ResourceName}
	view.Revoked = revokedRef != ""
	for _, g := range grants {
		app := h.appView(r.Context(), g)
		view.Apps = append(view.Apps, app)
		if app.Ref == revokedRef {
			view.Revoked = false // still listed: not (yet) gone
		}
	}
	setPageHeadersCSP(w, strings.Replace(pageCSP, "form-action 'none'", "form-action 'self'", 1))
	if err := templates.ExecuteTemplate(w, "account.html", view); err != nil {
		h.logger().ErrorContext(r.Context(), "account: render", "err", err)
	}
}

// appView describes g's client as the consent page did. It reads the
// registration without touching it (looking at an app must not keep its
// registration alive) and fetches a metadata document through the cache.
func (h *Handler) appView(ctx context.Context, g store.Grant) appView {
	v := appView{
		Name: g.ClientID, ClientID: g.ClientID, Ref: audit.GrantRef(g.ID),
		Scopes: h.scopeViews(g.Scope, "", false), FirstUse: day(g.CreatedAt), LastUse: day(g.LastUsedAt),
	}
	if u, err := url.Parse(g.RedirectURI); err == nil && g.RedirectURI != "" {
		v.RedirectHost = redirectHost(u)
	}
	var c store.Client
	var err error
	if strings.HasPrefix(g.ClientID, "https://") && h.Metadata != nil {
		c, err = h.Metadata.Fetch(ctx, g.ClientID)
		if u, perr := url.Parse(g.ClientID); perr == nil {
			v.Host = u.Host
		}
	} else {
		c, err = h.Store.GetClient(ctx, g.ClientID)
	}
	if err == nil {
		v.Registered = true
		if c.Name != "" {
			v.Name = c.Name
		}
	}
	return v
}

// day formats a time for the page: minutes are noise here.
func day(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}
