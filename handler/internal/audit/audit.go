// Package audit writes the security events of the authorization server:
// one structured log record per event, with a stable name and fields that
// identify who and what (client id, user object id, tenant, a grant
// reference, addresses, OAuth and AADSTS error codes), never a token, code,
// secret, key or cookie. Operators query them in Application Insights (the
// README has KQL for the common questions).
//
// Every record has msg "audit" and event set to one of the Event names
// below; they are part of the operator interface and do not change.
package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/telemetry"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Event is the stable name of an audit event.
type Event string

const (
	// ClientRegistered: a client registered at /register (RFC 7591), from
	// client_addr.
	ClientRegistered Event = "client.registered"
	// ConsentApproved and ConsentDenied: the user's answer on the consent
	// page.
	ConsentApproved Event = "consent.approved"
	ConsentDenied   Event = "consent.denied"
	// SignInCompleted: Entra signed the user in and a grant was created
	// (sub, tid, client_id, grant).
	SignInCompleted Event = "signin.completed"
	// TokensIssued: an authorization code was redeemed for tokens.
	TokensIssued Event = "tokens.issued"
	// RefreshRotated: a refresh token was exchanged for a new one.
	RefreshRotated Event = "refresh.rotated"
	// RefreshReuseDetected: a rotated refresh token came back after the
	// grace window; its grant (the whole family) was revoked.
	RefreshReuseDetected Event = "refresh.reuse_detected"
	// CodeReplayed: an authorization code was redeemed twice; the grant
	// its first redemption created was revoked (RFC 6749 §4.1.2).
	CodeReplayed Event = "code.replayed"
	// GrantRevoked: a grant ended before its time; by says who ended it:
	// "client" (/revoke), "user" (/account), "operator" (the grants
	// command), "entra" (Entra refused to renew the sign-in) or "signin"
	// (the same user signed in again through the same client, as in a
	// step-up: reason "replaced", replaced_by the new grant).
	GrantRevoked Event = "grant.revoked"
	// ClientBlocked and ClientUnblocked: the operator stopped (or allowed
	// again) new sign-ins for a client.
	ClientBlocked   Event = "client.blocked"
	ClientUnblocked Event = "client.unblocked"
	// UpstreamError: Entra refused a sign-in, a code, a refresh or an
	// On-Behalf-Of exchange (error, aadsts, stage).
	UpstreamError Event = "upstream.error"
	// AccountSignIn: a user signed in to the connected-apps page.
	AccountSignIn Event = "account.signin"
	// AdminConsentReported: Entra sent an administrator back from the
	// admin-consent URL a tool result gave, reporting consent granted for
	// tenant. The redirect is not signed: this records what the browser
	// brought, not a verified fact.
	AdminConsentReported Event = "admin_consent.reported"
)

// Log writes the event as one record. It is written whatever the logger's
// level: LOG_LEVEL=warn must not silence the audit trail.
func Log(ctx context.Context, l *slog.Logger, e Event, attrs ...slog.Attr) {
	if l == nil {
		return
	}
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "audit", 0)
	r.AddAttrs(slog.String("event", string(e)))
	r.AddAttrs(attrs...)
	_ = l.Handler().Handle(ctx, r) // a log write that fails has nowhere better to go
	if s := telemetry.Span(ctx); s != nil {
		// The same event on the request's span: its fields are secret-free.
		kv := make([]attribute.KeyValue, 0, len(attrs))
		for _, a := range attrs {
			kv = append(kv, attribute.String(a.Key, a.Value.String()))
		}
		s.AddEvent("audit "+string(e), trace.WithAttributes(kv...))
	}
}

// GrantRef names a grant in logs, traces, the connected-apps page and the
// grants command: the first 16 hex digits of the SHA-256 of its id. The id
// itself stays in the store and in our access tokens.
func GrantRef(grantID string) string {
	if grantID == "" {
		return ""
	}
	return tokens.Hash("grant:" + grantID)[:16]
}

// Grant is the grant attribute of an event.
func Grant(grantID string) slog.Attr { return slog.String("grant", GrantRef(grantID)) }

// AADSTS returns the first AADSTS code in an Entra error description
// ("AADSTS65004: User declined…" → "AADSTS65004"), or "".
func AADSTS(description string) string {
	for i := 0; i+6 < len(description); i++ {
		if description[i:i+6] != "AADSTS" {
			continue
		}
		j := i + 6
		for j < len(description) && description[j] >= '0' && description[j] <= '9' {
			j++
		}
		if j > i+6 {
			return description[i:j]
		}
	}
	return ""
}
