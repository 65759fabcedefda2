package oauth

import (
	"log/slog"
	"net/http"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
)

// audit logs a security event (package audit names them) with the
// request's context, so the record carries the request and trace ids.
// Callers pass identifiers only: never a token, code, secret or key.
func (h *Handler) audit(r *http.Request, e audit.Event, attrs ...slog.Attr) {
	audit.Log(r.Context(), h.logger(), e, attrs...)
}

// upstreamError records Entra's refusal at stage (callback, code, refresh)
// as an audit event: the OAuth error code and the AADSTS code, never the
// description's other text (it may quote request values).
func (h *Handler) upstreamError(r *http.Request, stage, clientID, code, description string) {
	h.audit(r, audit.UpstreamError, slog.String("stage", stage), slog.String("client_id", clientID),
		slog.String("error", code), slog.String("aadsts", audit.AADSTS(description)))
}
