package entraemu

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Consent to delegated Microsoft Graph permissions, per app and user, as
// Entra keeps it in oauth2PermissionGrants: an administrator's consent for
// every user (Client.GraphScopes), a user's own (User.Consented), and what
// users accept on the consent prompt at /authorize, which is recorded here.
// On-Behalf-Of checks the same record and answers AADSTS65001 when a
// permission is missing (it cannot prompt).
//
// Not modelled: consent for public clients' own Graph requests (treated as
// given), consent to the API app's scope (pre-authorized), the static
// permissions behind "/.default" at /authorize, and revoking consent.

// consented returns every Graph permission user u has consented to for c.
func (e *Emulator) consented(c *Client, u User) []string {
	e.mu.Lock()
	var all []string
	if c.ID == e.cfg.App.ID {
		// An administrator's grant at the admin-consent endpoint reaches
		// everyone, Nestor too.
		all = slices.Clone(e.adminConsents)
	}
	if !u.NeedsConsent {
		all = slices.Concat(all, c.GraphScopes, u.Consented, e.consents[consentKey(c.ID, u.OID)])
	}
	e.mu.Unlock()
	var out []string
	for _, p := range all {
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, p) }) {
			out = append(out, p)
		}
	}
	return out
}

// missingConsent returns the permissions of perms that u has not consented
// to for c, compared case-insensitively as Entra compares scope values.
func (e *Emulator) missingConsent(c *Client, u User, perms []string) []string {
	have := e.consented(c, u)
	var missing []string
	for _, p := range perms {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, p) }) {
			missing = append(missing, p)
		}
	}
	return missing
}

// recordConsent remembers that u accepted perms for client c.
func (e *Emulator) recordConsent(c *Client, u User, perms []string) {
	e.mu.Lock()
	k := consentKey(c.ID, u.OID)
	e.consents[k] = append(e.consents[k], perms...)
	e.mu.Unlock()
	e.log.Info("audit: user consented", "client_id", c.ID, "oid", u.OID, "scope", strings.Join(perms, " "))
}

func consentKey(clientID, oid string) string { return clientID + "|" + strings.ToLower(oid) }

// consentStep runs after the user is chosen at /authorize. It returns true
// when the sign-in may go on to issue a code; otherwise it has answered:
// with the "Permissions requested" page when consent is missing (or
// prompt=consent asks for it again), with Entra's "Need admin approval"
// error for a user who may not consent, with access_denied when the user
// cancelled. The page posts back every parameter plus consent=accept or
// consent=cancel.
func (e *Emulator) consentStep(w http.ResponseWriter, r *http.Request, req authzRequest, user User, params url.Values) bool {
	if req.client.Public || len(req.scopes.graph) == 0 {
		return true
	}
	missing := e.missingConsent(req.client, user, req.scopes.graph)
	if params.Get("prompt") == "consent" && params.Get("consent") == "" {
		missing = req.scopes.graph
	}
	if len(missing) == 0 {
		return true
	}
	if user.NeedsConsent {
		e.renderError(w, r, errorf(http.StatusForbidden, "access_denied", 90094, "%s needs permission to access resources in your organization that only an admin can grant. Please ask an admin to grant permission to this app before you can use it.", clientName(req.client)))
		return false
	}
	switch params.Get("consent") {
	case "accept":
		e.recordConsent(req.client, user, missing)
		return true
	case "cancel":
		// What Entra sends when the user cancels its consent prompt. (Older
		// Entra versions sent error=consent_required with the same AADSTS.)
		err := errorf(http.StatusBadRequest, "access_denied", 65004, "User declined to consent to access the app.")
		err.Suberror = "cancel"
		e.redirectError(w, r, req.redirectURI, req.state, err)
		return false
	case "":
		e.renderConsent(w, r, req, user, missing, params)
		return false
	default:
		e.renderError(w, r, invalidRequest(90014, "The consent answer '%s' is neither accept nor cancel.", params.Get("consent")))
		return false
	}
}

// permissionText is what Entra's prompt says for the Graph permissions the
// project's tools use (the userConsentDisplayName of each permission).
var permissionText = map[string]string{
	"user.read":      "Sign you in and read your profile",
	"mail.read":      "Read your mail",
	"mail.readbasic": "Read user basic mail",
	"calendars.read": "Read your calendars",
}

var consentPage = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Permissions requested</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto}button{margin:.5rem .5rem 0 0;padding:.6rem 1.4rem}</style>
</head><body>
<h1>Permissions requested</h1>
<p><strong>{{.App}}</strong> (Entra emulator, tenant <code>{{.Tenant}}</code>) would like to, for <strong>{{.User}}</strong>:</p>
<ul id="permissions">{{range .Permissions}}<li data-permission="{{.Name}}">{{.Text}}</li>{{end}}</ul>
<p>Accepting these permissions means that you allow this app to use your data as specified.</p>
<form id="consent" method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<button type="submit" name="consent" value="cancel" id="cancel">Cancel</button><button type="submit" name="consent" value="accept" id="accept">Accept</button>
</form></body></html>`))

type permissionLine struct{ Name, Text string }

func (e *Emulator) renderConsent(w http.ResponseWriter, r *http.Request, req authzRequest, user User, missing []string, params url.Values) {
	var lines []permissionLine
	for _, p := range missing {
		text := permissionText[strings.ToLower(p)]
		if text == "" {
			text = "Microsoft Graph permission " + p
		}
		lines = append(lines, permissionLine{p, text})
	}
	setPageHeaders(w)
	_ = consentPage.Execute(w, map[string]any{
		"App": clientName(req.client), "Tenant": e.cfg.TenantID, "User": user.UPN,
		"Permissions": lines, "Action": r.URL.Path, "Hidden": hiddenFields(params, "consent"),
	})
}

func clientName(c *Client) string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}
