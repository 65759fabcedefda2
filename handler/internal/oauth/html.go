package oauth

import (
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// pageCSP is the Content-Security-Policy of every HTML page: nothing
// executable or loadable but inline styles, no <base>, no framing, and no
// form targets (form-action does not fall back to default-src: CSP Level 3
// §6.4.1). The consent page, the one page with a form, widens form-action
// to exactly where its form leads (see consentCSP).
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

// setPageHeaders protects every HTML page: no framing (clickjacking of the
// consent buttons; MCP security best practices), no caching, no referrer
// leaking request ids, nothing executable.
func setPageHeaders(w http.ResponseWriter) { setPageHeadersCSP(w, pageCSP) }

func setPageHeadersCSP(w http.ResponseWriter, csp string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// errorPage renders an error for a browser when redirecting is not allowed:
// before the client and its redirect URI are validated (RFC 6749 §4.1.2.1),
// or when the flow cannot be tied back to a client at all.
func errorPage(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	setPageHeaders(w)
	w.WriteHeader(status)
	_ = templates.ExecuteTemplate(w, "error.html", struct{ Code, Message, RequestID string }{
		Code: code, Message: message, RequestID: w.Header().Get("X-Request-Id"),
	})
}

// infoPage renders a page that only informs (200), such as the landing
// page after an administrator's consent at Entra.
func infoPage(w http.ResponseWriter, _ *http.Request, title, message string) {
	setPageHeaders(w)
	w.WriteHeader(http.StatusOK)
	_ = templates.ExecuteTemplate(w, "info.html", struct{ Title, Message string }{title, message})
}

// oauthErrorCode is the shape of an OAuth error code (RFC 6749 §5.2 allows
// more characters; Entra's are lower-case words with underscores).
var oauthErrorCode = regexp.MustCompile(`^[a-z_]{1,64}$`)

// consentCSP is pageCSP with form-action set to where the consent form
// leads. Browsers check form-action on the submission and, Chromium at
// least, on every redirect that follows it within the same navigation
// (CSP Level 3 §6.4.1; the browser test shows Chromium refusing Deny's
// redirect under form-action 'self'): POST /consent answers with a redirect
// to Entra (Approve) or to the client (Deny), and Entra may send a signed-in
// browser straight back through /callback to the client. So the sources
// are 'self', Entra's origin and the origin of this request's redirect URI,
// nothing wider.
func consentCSP(authorityHost, redirectURI string) string {
	sources := []string{"'self'"}
	for _, s := range []string{originSource(authorityHost), originSource(redirectURI)} {
		if s != "" && !slices.Contains(sources, s) {
			sources = append(sources, s)
		}
	}
	return strings.Replace(pageCSP, "form-action 'none'", "form-action "+strings.Join(sources, " "), 1)
}

// originSource is a CSP source expression for the origin of raw: scheme,
// host and port for http(s) (paths are ignored after a redirect anyway, CSP
// Level 3 §6.7.2.13), the scheme alone for a private-use scheme
// (vscode://…). CSP host-source has no syntax for IPv6 literals, so
// http://[::1]:port can only be matched by its scheme.
func originSource(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return ""
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return u.Scheme + ":"
	case strings.HasPrefix(u.Host, "["):
		return u.Scheme + ":"
	case u.Host == "":
		return ""
	}
	return u.Scheme + "://" + u.Host
}
