package oauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/audit"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// tokenResponse is RFC 6749 §5.1.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// Token handles POST /token.
func (h *Handler) Token(w http.ResponseWriter, r *http.Request) {
	form, client, ok := h.clientRequest(w, r)
	if !ok {
		return
	}
	var resp tokenResponse
	var oerr *Error
	switch gt := form.Get("grant_type"); {
	case gt == "":
		oerr = InvalidRequest("grant_type is required")
	case gt != grantAuthCode && gt != grantRefresh:
		oerr = UnsupportedGrantType("grant_type %q is not supported", gt)
	case !allowsGrant(client, gt):
		// RFC 6749 §5.2: the client is not registered for this grant.
		oerr = UnauthorizedClient("this client is not registered for the %s grant", gt)
	case gt == grantAuthCode:
		resp, oerr = h.codeGrant(r, form, client)
	default:
		resp, oerr = h.refreshGrant(r, form, client)
	}
	if oerr != nil {
		h.writeError(w, r, oerr)
		return
	}
	WriteJSON(w, http.StatusOK, resp)
}

// codeGrant redeems an authorization code (OAuth 2.1 §4.1.3): single use
// by conditional delete, then the client, redirect URI, PKCE verifier and
// resource are checked against what /authorize recorded.
func (h *Handler) codeGrant(r *http.Request, form map[string][]string, client store.Client) (tokenResponse, *Error) {
	get := func(k string) string { return first(form[k]) }
	code, verifier := get("code"), get("code_verifier")
	if code == "" || verifier == "" {
		return tokenResponse{}, InvalidRequest("code and code_verifier are required")
	}
	c, err := h.Store.TakeCode(r.Context(), tokens.Hash(code))
	switch {
	case errors.Is(err, store.ErrRedeemed):
		// RFC 6749 §4.1.2: a code used twice was intercepted by one of the
		// two callers, and nobody can tell which; revoke what the first
		// use issued (RFC 9700 §4.2.4 makes the same point for PKCE).
		if err := h.revokeGrant(r.Context(), c.GrantID); err != nil {
			return tokenResponse{}, storeError(err)
		}
		h.audit(r, audit.CodeReplayed, slog.String("client_id", client.ID), slog.String("code_client_id", c.ClientID),
			slog.String("sub", c.Subject), audit.Grant(c.GrantID))
		return tokenResponse{}, InvalidGrant("the authorization code is invalid, expired or already used")
	case errors.Is(err, store.ErrNotFound):
		h.logger().InfoContext(r.Context(), "authorization code rejected (unknown or expired)", "client_id", client.ID)
		return tokenResponse{}, InvalidGrant("the authorization code is invalid, expired or already used")
	case err != nil:
		return tokenResponse{}, storeError(err)
	}
	switch {
	case !h.now().Before(c.ExpiresAt):
		return tokenResponse{}, InvalidGrant("the authorization code has expired")
	case c.ClientID != client.ID:
		return tokenResponse{}, InvalidGrant("the authorization code was issued to another client")
	case get("redirect_uri") != c.RedirectURI:
		return tokenResponse{}, InvalidGrant("redirect_uri does not match the authorization request")
	case !VerifyS256(verifier, c.CodeChallenge):
		return tokenResponse{}, InvalidGrant("code_verifier does not match the code_challenge")
	}
	if res := get("resource"); res != "" && (!h.resourceMatches(res) || (c.Resource != "" && !h.resourceMatches(c.Resource))) {
		return tokenResponse{}, InvalidTarget("resource must be %s", h.Options.ResourceURL)
	}
	g, err := h.Store.GetGrant(r.Context(), c.GrantID)
	if err != nil {
		return tokenResponse{}, grantError(err)
	}
	// A refresh token only if the user approved staying signed in (the
	// consent page listed offline_access) and the client can use one.
	var refresh string
	if allowsGrant(client, grantRefresh) && slices.Contains(strings.Fields(c.Scope), scopeOffline) {
		var oerr *Error
		if refresh, oerr = h.newRefresh(r.Context(), g, c.Scope); oerr != nil {
			return tokenResponse{}, oerr
		}
	}
	resp, oerr := h.issue(g, c.Scope, refresh)
	if oerr != nil {
		return resp, oerr
	}
	h.audit(r, audit.TokensIssued, slog.String("client_id", g.ClientID), slog.String("sub", g.Subject),
		audit.Grant(g.ID), slog.String("scope", c.Scope), slog.Bool("refresh_token", refresh != ""))
	if c.Replaces != "" {
		// The same user's previous sign-in through this client in this
		// browser: the client holds the new tokens now, so the old family
		// goes (linkGrant in callback.go).
		if err := h.revokeGrant(r.Context(), c.Replaces); err != nil {
			h.logger().WarnContext(r.Context(), "token: could not revoke the replaced grant", "grant", audit.GrantRef(c.Replaces), "err", err)
		} else {
			h.audit(r, audit.GrantRevoked, slog.String("by", "signin"), slog.String("reason", "replaced"),
				slog.String("client_id", g.ClientID), slog.String("sub", g.Subject), audit.Grant(c.Replaces),
				slog.String("replaced_by", audit.GrantRef(g.ID)))
		}
	}
	return resp, oerr
}

// issue mints an access token with accessScope for the grant; refresh is
// the refresh token to hand out with it (already stored), or "" for none.
func (h *Handler) issue(g store.Grant, accessScope, refresh string) (tokenResponse, *Error) {
	at, exp, err := h.Issuer.Mint(tokens.AccessClaims{Subject: g.Subject, ClientID: g.ClientID, Scope: accessScope, GrantID: g.ID})
	if err != nil {
		return tokenResponse{}, ServerError(err)
	}
	return tokenResponse{
		AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(exp.Sub(h.now()).Round(time.Second) / time.Second),
		RefreshToken: refresh, Scope: accessScope,
	}, nil
}

// newRefresh stores a new refresh token of grant g with scope and returns it.
func (h *Handler) newRefresh(ctx context.Context, g store.Grant, scope string) (string, *Error) {
	raw := tokens.NewRefresh(g.ID)
	if err := h.Store.PutRefresh(ctx, store.RefreshToken{
		Hash: tokens.Hash(raw), GrantID: g.ID, ClientID: g.ClientID, Scope: scope,
		CreatedAt: h.now(), ExpiresAt: g.ExpiresAt,
	}); err != nil {
		return "", storeError(err)
	}
	return raw, nil
}

// narrowScope allows a refresh to ask for fewer scopes, never more
// (RFC 6749 §6). The result is normalised (sorted, each scope once), so
// what is stored and signed is bounded by the granted scope, not by the
// request.
func narrowScope(granted, requested string) (string, *Error) {
	if requested == "" {
		return granted, nil
	}
	have := strings.Fields(granted)
	var out []string
	for _, s := range strings.Fields(requested) {
		if !slices.Contains(have, s) {
			return "", InvalidScope("scope %q was not granted", s)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return strings.Join(slices.Compact(out), " "), nil
}

func grantError(err error) *Error {
	if errors.Is(err, store.ErrNotFound) {
		return InvalidGrant("the grant was revoked or has expired; sign in again")
	}
	return storeError(err)
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
