package entraemu

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The v2 admin-consent endpoint
// (https://learn.microsoft.com/entra/identity-platform/v2-admin-consent):
// GET /{tenant}/v2.0/adminconsent?client_id&scope&redirect_uri&state. An
// administrator signs in, sees the permissions and accepts them for the
// whole organization (an oauth2PermissionGrant with consentType
// AllPrincipals); the browser then goes to redirect_uri with
// admin_consent=True, tenant, scope and state, or, when they cancel, with
// error=access_denied (AADSTS65004) and admin_consent=True. Without
// redirect_uri Entra uses the app's first redirect URI.
//
// Modelled: the API app's delegated Graph permissions, the administrator
// check (User.Admin), accept and cancel; the grant reaches every user,
// Nestor included. Not modelled: other apps, application permissions,
// /.default, the admin consent workflow (requests to an administrator).

func (e *Emulator) handleAdminConsent(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			e.renderError(w, r, invalidRequest(90014, "The request body could not be read."))
			return
		}
		params = r.PostForm
	}
	redirect, perms, err := e.validateAdminConsent(params)
	if err != nil {
		e.renderError(w, r, err)
		return
	}
	if r.Method == http.MethodGet {
		setPageHeaders(w)
		_ = signInPage.Execute(w, map[string]any{
			"Tenant": e.cfg.TenantID, "ClientName": clientName(&e.cfg.App) + " (administrator consent)", "RedirectHost": redirect.Host,
			"Action": r.URL.Path, "Hidden": hiddenFields(params, "user"), "Users": e.cfg.Users,
		})
		return
	}
	user, ok := e.User(params.Get("user"))
	switch {
	case !ok:
		e.renderError(w, r, invalidRequest(50034, "The user account %s does not exist in the %s directory.", params.Get("user"), e.cfg.TenantID))
		return
	case !user.Admin:
		e.renderError(w, r, errorf(http.StatusForbidden, "access_denied", 90094, "%s needs permission to access resources in your organization that only an admin can grant. Please ask an admin to grant permission to this app before you can use it.", clientName(&e.cfg.App)))
		return
	}
	q := redirect.Query()
	switch params.Get("consent") {
	case "":
		e.renderConsent(w, r, authzRequest{client: &e.cfg.App}, user, perms, params)
		return
	case "accept":
		e.mu.Lock()
		e.adminConsents = append(e.adminConsents, perms...)
		e.mu.Unlock()
		e.log.Info("audit: administrator consented for the organization", "client_id", e.cfg.App.ID, "oid", user.OID, "scope", strings.Join(perms, " "))
		q.Set("admin_consent", "True")
		q.Set("tenant", e.cfg.TenantID)
		q.Set("scope", params.Get("scope"))
	case "cancel":
		err := errorf(http.StatusBadRequest, "access_denied", 65004, "User declined to consent to access the app.")
		q.Set("error", err.Code)
		q.Set("error_description", err.description(e.newIDs(r)))
		q.Set("admin_consent", "True")
	default:
		e.renderError(w, r, invalidRequest(90014, "The consent answer '%s' is neither accept nor cancel.", params.Get("consent")))
		return
	}
	if s := params.Get("state"); s != "" {
		q.Set("state", s)
	}
	redirect.RawQuery = q.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// validateAdminConsent checks the request: the API app, a redirect URI
// registered for it (or its first one), Graph permissions in scope.
func (e *Emulator) validateAdminConsent(p url.Values) (*url.URL, []string, *Error) {
	app := &e.cfg.App
	if id := p.Get("client_id"); id != app.ID {
		if id == "" {
			return nil, nil, missingParam("client_id")
		}
		return nil, nil, errorf(http.StatusBadRequest, "unauthorized_client", 700016, "Application with identifier '%s' was not found in the directory '%s'. The emulator models administrator consent for the API app only.", id, e.cfg.TenantID)
	}
	redirect := p.Get("redirect_uri")
	if redirect == "" && len(app.RedirectURIs) > 0 {
		redirect = app.RedirectURIs[0]
	}
	u, err := url.Parse(redirect)
	if err != nil || !redirectAllowed(app, redirect) {
		return nil, nil, invalidRequest(50011, "The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'.", redirect, app.ID)
	}
	var perms []string
	for _, s := range strings.Fields(p.Get("scope")) {
		res, name, serr := e.resolveScope(s)
		if serr != nil {
			return nil, nil, serr
		}
		if res != resourceGraph || name == ".default" {
			return nil, nil, invalidRequest(90014, "The emulator's admin consent covers delegated Microsoft Graph permissions only; got '%s'.", s)
		}
		if !slices.Contains(perms, name) {
			perms = append(perms, name)
		}
	}
	if len(perms) == 0 {
		return nil, nil, missingParam("scope")
	}
	return u, perms, nil
}
