package oauth

import (
	"embed"
	"html/template"
	"net/http"
)

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// setPageHeaders protects every HTML page: no framing (clickjacking of the
// consent buttons; MCP security best practices), no caching, no referrer
// leaking request ids, nothing executable.
func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
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
