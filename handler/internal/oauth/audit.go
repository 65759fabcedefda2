package oauth

import "net/http"

// audit logs a security-relevant event (consent, code and token issue,
// refresh reuse, revocation) as one structured record with event=audit.
// Callers pass identifiers only: never a token, code, secret or key.
func (h *Handler) audit(r *http.Request, msg string, args ...any) {
	h.logger().InfoContext(r.Context(), msg, append([]any{"event", "audit"}, args...)...)
}
