package entraemu

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
)

// Error is an Entra error answer: the OAuth error code (RFC 6749 §5.2), the
// AADSTS number and its message, and the suberror Entra adds for some
// conditions (consent_required, bad_token, ...).
type Error struct {
	Status   int
	Code     string
	AADSTS   int
	Message  string
	Suberror string
}

func (e *Error) Error() string { return fmt.Sprintf("AADSTS%d: %s", e.AADSTS, e.Message) }

func errorf(status int, code string, aadsts int, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, AADSTS: aadsts, Message: fmt.Sprintf(format, args...)}
}

func invalidRequest(aadsts int, format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, "invalid_request", aadsts, format, args...)
}

func invalidGrant(aadsts int, format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, "invalid_grant", aadsts, format, args...)
}

func invalidClient(aadsts int, format string, args ...any) *Error {
	return errorf(http.StatusUnauthorized, "invalid_client", aadsts, format, args...)
}

func missingParam(name string) *Error {
	return invalidRequest(900144, "The request body must contain the following parameter: '%s'.", name)
}

// ids are the per-request identifiers Entra puts into every error; the
// correlation id echoes the client-request-id header when the client sent
// one (MSAL does), as Entra does.
type ids struct{ trace, correlation, timestamp string }

func (e *Emulator) newIDs(r *http.Request) ids {
	corr := r.Header.Get("client-request-id")
	if corr == "" {
		corr = newGUID()
	}
	return ids{trace: newGUID(), correlation: corr, timestamp: e.now().UTC().Format("2006-01-02 15:04:05Z")}
}

func (err *Error) description(id ids) string {
	return fmt.Sprintf("%s Trace ID: %s Correlation ID: %s Timestamp: %s", err.Error(), id.trace, id.correlation, id.timestamp)
}

// writeJSONError writes the token endpoint error body Entra sends.
func (e *Emulator) writeJSONError(w http.ResponseWriter, r *http.Request, err *Error) {
	id := e.newIDs(r)
	body := map[string]any{
		"error":             err.Code,
		"error_description": err.description(id),
		"error_codes":       []int{err.AADSTS},
		"timestamp":         id.timestamp,
		"trace_id":          id.trace,
		"correlation_id":    id.correlation,
		"error_uri":         fmt.Sprintf("%s/error?code=%d", e.baseURL(r), err.AADSTS),
	}
	if err.Suberror != "" {
		body["suberror"] = err.Suberror
	}
	e.log.Info("request refused", "path", r.URL.Path, "code", err.Code, "aadsts", err.AADSTS, "correlation_id", id.correlation)
	writeJSON(w, err.Status, body)
}

// redirectError sends the error back to a redirect URI that has been
// validated (RFC 6749 §4.1.2.1).
func (e *Emulator) redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state string, err *Error) {
	id := e.newIDs(r)
	u, perr := url.Parse(redirectURI)
	if perr != nil {
		e.renderError(w, r, err)
		return
	}
	q := u.Query()
	q.Set("error", err.Code)
	q.Set("error_description", err.description(id))
	q.Set("error_uri", fmt.Sprintf("%s/error?code=%d", e.baseURL(r), err.AADSTS))
	if state != "" {
		q.Set("state", state)
	}
	if err.Suberror != "" {
		q.Set("error_subcode", err.Suberror)
	}
	u.RawQuery = q.Encode()
	e.log.Info("authorization refused", "code", err.Code, "aadsts", err.AADSTS, "correlation_id", id.correlation)
	http.Redirect(w, r, u.String(), http.StatusFound)
}

var errorPage = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title></head>
<body><h1>Sign in</h1><p>Sorry, but we’re having trouble signing you in.</p>
<p id="error-code">AADSTS{{.Err.AADSTS}}</p><p id="error-message">{{.Description}}</p></body></html>`))

// renderError shows an error page without redirecting, for errors found
// before the client and its redirect URI are trusted.
func (e *Emulator) renderError(w http.ResponseWriter, r *http.Request, err *Error) {
	id := e.newIDs(r)
	e.log.Info("authorization refused without redirect", "aadsts", err.AADSTS, "correlation_id", id.correlation)
	setPageHeaders(w)
	w.WriteHeader(http.StatusBadRequest)
	_ = errorPage.Execute(w, struct {
		Err         *Error
		Description string
	}{err, err.description(id)})
}

func setPageHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "frame-ancestors 'none'")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// newGUID returns a random version 4 UUID.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
