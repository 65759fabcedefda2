package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/reqbody"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/telemetry"
)

// Error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 7591 §3.2.2, RFC 8707 §2.
const (
	CodeInvalidRequest          = "invalid_request"
	CodeInvalidClient           = "invalid_client"
	CodeInvalidGrant            = "invalid_grant"
	CodeUnauthorizedClient      = "unauthorized_client"
	CodeUnsupportedGrantType    = "unsupported_grant_type"
	CodeInvalidScope            = "invalid_scope"
	CodeInvalidTarget           = "invalid_target"
	CodeAccessDenied            = "access_denied"
	CodeServerError             = "server_error"
	CodeTemporarilyUnavailable  = "temporarily_unavailable"
	CodeInvalidRedirectURI      = "invalid_redirect_uri"
	CodeInvalidClientMetadata   = "invalid_client_metadata"
	CodeUnsupportedResponseType = "unsupported_response_type"
)

// Error is an OAuth error response. Code and Description are sent to the
// client; Err is the cause, logged and never sent.
type Error struct {
	Code        string // "error"
	Description string // "error_description"
	Status      int    // 0: derived from Code, see StatusCode
	Err         error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Description + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Description
}

func (e *Error) Unwrap() error { return e.Err }

// StatusCode is Status, or else 401 for invalid_client (RFC 6749 §5.2),
// 500 for server_error, 503 for temporarily_unavailable, and 400 otherwise.
func (e *Error) StatusCode() int {
	switch {
	case e.Status != 0:
		return e.Status
	case e.Code == CodeInvalidClient:
		return http.StatusUnauthorized
	case e.Code == CodeServerError:
		return http.StatusInternalServerError
	case e.Code == CodeTemporarilyUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

func newError(code, format string, args []any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...)}
}

// InvalidRequest: a parameter is missing, repeated, or malformed.
func InvalidRequest(format string, args ...any) *Error {
	return newError(CodeInvalidRequest, format, args)
}

// InvalidClient: unknown client or failed client authentication (401).
func InvalidClient(format string, args ...any) *Error {
	return newError(CodeInvalidClient, format, args)
}

// InvalidGrant: the code or refresh token is invalid, expired, used, or
// was issued to another client or redirect URI.
func InvalidGrant(format string, args ...any) *Error {
	return newError(CodeInvalidGrant, format, args)
}

// UnauthorizedClient: the client may not use this grant or response type.
func UnauthorizedClient(format string, args ...any) *Error {
	return newError(CodeUnauthorizedClient, format, args)
}

// UnsupportedGrantType: grant_type is not one we implement.
func UnsupportedGrantType(format string, args ...any) *Error {
	return newError(CodeUnsupportedGrantType, format, args)
}

// InvalidScope: the requested scope is unknown or exceeds the grant.
func InvalidScope(format string, args ...any) *Error {
	return newError(CodeInvalidScope, format, args)
}

// InvalidTarget: the resource parameter is not our MCP resource (RFC 8707 §2).
func InvalidTarget(format string, args ...any) *Error {
	return newError(CodeInvalidTarget, format, args)
}

// AccessDenied: the user (or policy) refused the request.
func AccessDenied(format string, args ...any) *Error {
	return newError(CodeAccessDenied, format, args)
}

// InvalidRedirectURI: a registered redirect URI breaks the rules (RFC 7591 §3.2.2).
func InvalidRedirectURI(format string, args ...any) *Error {
	return newError(CodeInvalidRedirectURI, format, args)
}

// InvalidClientMetadata: other registration metadata is invalid (RFC 7591 §3.2.2).
func InvalidClientMetadata(format string, args ...any) *Error {
	return newError(CodeInvalidClientMetadata, format, args)
}

// ServerError wraps an internal failure; the client sees a generic text.
func ServerError(err error) *Error {
	return &Error{Code: CodeServerError, Description: "internal server error", Err: err}
}

// TemporarilyUnavailable wraps a failure of a dependency (storage, Entra);
// the client may retry.
func TemporarilyUnavailable(err error) *Error {
	return &Error{Code: CodeTemporarilyUnavailable, Description: "the service is temporarily unavailable, try again later", Err: err}
}

// AsError turns any error into an *Error: an *Error in the chain is used
// as is (unless it is a bare server_error over a store error),
// store.ErrUnavailable becomes 503 temporarily_unavailable,
// store.ErrTooLarge 400 invalid_request, and anything else 500
// server_error with a generic description.
func AsError(err error) *Error {
	var e *Error
	isOAuth := errors.As(err, &e)
	switch {
	case isOAuth && e.Code != CodeServerError:
		return e
	case errors.Is(err, store.ErrUnavailable):
		return TemporarilyUnavailable(err)
	case errors.Is(err, store.ErrTooLarge):
		return storeError(err)
	case isOAuth:
		return e
	}
	return ServerError(err)
}

// WriteError writes err as an RFC 6749 §5.2 JSON error response, logging
// the cause of server-side failures through slog.Default. Handlers with a
// logger use (*Handler).writeError instead.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	writeError(slog.Default(), w, r, err)
}

func writeError(logger *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	e := AsError(err)
	status := e.StatusCode()
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	logger.LogAttrs(r.Context(), level, "oauth error",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("code", e.Code), slog.Int("status", status), slog.Any("err", e.Err))
	if s := telemetry.Span(r.Context()); s != nil {
		s.SetAttributes(telemetry.Error(e.Code))
	}
	// RFC 6749 §5.2: a failed Basic authentication is answered with a
	// challenge for the scheme the client used.
	if e.Code == CodeInvalidClient && status == http.StatusUnauthorized {
		if scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " "); strings.EqualFold(scheme, "Basic") {
			w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
		}
	}
	WriteJSON(w, status, errorBody{Error: e.Code, Description: sanitizeDescription(e.Description)})
}

// errorBody is the RFC 6749 §5.2 response body.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// sanitizeDescription keeps error_description within the characters RFC
// 6749 §5.2 allows (%x20-21 / %x23-5B / %x5D-7E): quoted user input could
// otherwise carry anything. Others become '?'; the length is capped.
func sanitizeDescription(s string) string {
	const max = 300
	b := make([]byte, 0, min(len(s), max))
	for _, r := range s {
		if len(b) == max {
			break
		}
		switch {
		case r == '"':
			b = append(b, '\'')
		case r < 0x20 || r > 0x7e || r == '\\':
			b = append(b, '?')
		default:
			b = append(b, byte(r))
		}
	}
	return string(b)
}

// WriteJSON writes v as JSON with Cache-Control: no-store and Pragma:
// no-cache, as RFC 6749 §5.1 asks of every response that may carry a
// credential. A value that cannot be encoded is a bug: 500, no partial body.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		slog.Default().Error("encoding JSON response", slog.Any("err", err))
		status = http.StatusInternalServerError
		body = []byte(`{"error":"server_error","error_description":"internal server error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// bodyReadError is the answer to a request body that could not be read
// because it was too large (413) or too slow (408, package reqbody), both
// invalid_request; nil for other read errors.
func bodyReadError(err error) *Error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return &Error{Code: CodeInvalidRequest, Description: "the request body is too large", Status: http.StatusRequestEntityTooLarge, Err: err}
	}
	if errors.Is(err, reqbody.ErrTimeout) {
		return &Error{Code: CodeInvalidRequest, Description: "the request body did not arrive in time", Status: http.StatusRequestTimeout, Err: err}
	}
	return nil
}
