package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// tokenAnswer is RFC 6749 §5.1 or §5.2.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

func (d *Doctor) postForm(ctx context.Context, endpoint string, form url.Values) (answer, tokenAnswer) {
	a := d.send(ctx, http.MethodPost, endpoint, request{Body: form.Encode(), Header: http.Header{
		"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"},
	}})
	var t tokenAnswer
	_ = json.Unmarshal(a.Body, &t)
	return a, t
}

// tokenFailure explains a refused token request.
func (d *Doctor) tokenFailure(name string, a answer, t tokenAnswer) Result {
	if r, ok := entraFailure(name, t.Description); ok {
		return r
	}
	if t.Error == "" {
		return d.unexpected(name, a, "200 with tokens")
	}
	layer := LayerHandler
	if d.mode == "entra" {
		layer = LayerEntra
	}
	return Result{Name: name, Status: Fail, Layer: layer, Detail: fmt.Sprintf("%d %s: %s", a.Status, t.Error, t.Description),
		Fix: "read the token endpoint's log for request id " + a.Header.Get("X-Request-Id")}
}

// redeem exchanges the code (OAuth 2.1 §4.1.3) with the PKCE verifier.
func (d *Doctor) redeem(ctx context.Context, clientID, code, redirect, verifier string) (tokenAnswer, bool) {
	const name = "token (authorization_code)"
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
		"client_id": {clientID}, "code_verifier": {verifier}}
	if d.mode == "proxy" {
		form.Set("resource", d.opts.MCPURL)
	}
	a, t := d.postForm(ctx, d.as.TokenEndpoint, form)
	d.noteAPIM(a)
	if a.Status != http.StatusOK || t.AccessToken == "" {
		d.rep.Add(d.tokenFailure(name, a, t))
		return t, false
	}
	if !strings.EqualFold(t.TokenType, "Bearer") || t.RefreshToken == "" {
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerHandler, Detail: fmt.Sprintf("token_type %q, refresh token present: %t", t.TokenType, t.RefreshToken != ""),
			Fix: "a Bearer access token and a refresh token (offline_access) are expected"})
		return t, false
	}
	d.rep.Add(Result{Name: name, Status: Pass, Detail: fmt.Sprintf("Bearer access token (expires in %d s) and a refresh token", t.ExpiresIn)})
	return t, true
}

// whoami calls the whoami tool through the whole chain with the token.
func (d *Doctor) whoami(ctx context.Context, token string) bool {
	const name = "MCP initialize + tools/call whoami"
	s := &mcpSession{d: d, token: token}
	a, err := s.initialize(ctx)
	var tr *toolResult
	if err == nil && a.Status == http.StatusOK {
		a, tr, err = s.callTool(ctx, "whoami")
	}
	switch {
	case a.Status == http.StatusUnauthorized && a.from() == fromEdge:
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerAPIM, Detail: "API Management's validate-jwt refused the access token the server just issued",
			Fix: "validate-jwt reads <public-base-url>/.well-known/openid-configuration and its JWKS through the gateway: see the JWKS check above (RS256 only) and that the named value `public-base-url` is " + d.base})
		return false
	case a.Err != nil || a.Status != http.StatusOK:
		d.rep.Add(d.unexpected(name, a, "200 with a JSON-RPC result"))
		return false
	case err != nil:
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerHandler, Detail: err.Error(), Fix: "read the handler's log for request id " + a.Header.Get("X-Request-Id")})
		return false
	}
	var me struct {
		DisplayName       string `json:"displayName"`
		UserPrincipalName string `json:"userPrincipalName"`
		ConsentRequired   bool   `json:"consentRequired"`
	}
	_ = json.Unmarshal(tr.StructuredContent, &me)
	if me.ConsentRequired {
		r, _ := entraFailure(name, "AADSTS65001")
		r.Detail = "whoami: " + r.Detail + ": " + tr.text()
		d.rep.Add(r)
		return false
	}
	if tr.IsError || me.DisplayName == "" {
		if r, ok := entraFailure(name, tr.text()); ok {
			d.rep.Add(r)
			return false
		}
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerHandler, Detail: "whoami failed: " + tr.text(),
			Fix: "the tool could not read the Microsoft Graph profile; read the handler's log for request id " + a.Header.Get("X-Request-Id")})
		return false
	}
	d.rep.Add(Result{Name: name, Status: Pass, Detail: fmt.Sprintf("signed in as %s (%s), answered by %s", me.DisplayName, me.UserPrincipalName, a.from())})
	return true
}

// refresh rotates the refresh token (OAuth 2.1 §4.3.1) and tries the old
// one again: it must be refused, or accepted within the server's short
// grace window. Returns the newest tokens.
func (d *Doctor) refresh(ctx context.Context, clientID string, old tokenAnswer) tokenAnswer {
	const name = "refresh (rotation)"
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old.RefreshToken}, "client_id": {clientID}}
	a, t := d.postForm(ctx, d.as.TokenEndpoint, form)
	if a.Status != http.StatusOK || t.AccessToken == "" {
		d.rep.Add(d.tokenFailure(name, a, t))
		return old
	}
	if t.RefreshToken == "" || t.RefreshToken == old.RefreshToken {
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerHandler, Detail: "the refresh token was not rotated",
			Fix: "public clients must get a new refresh token on every refresh (OAuth 2.1 §4.3.1)"})
		return t
	}
	b, bt := d.postForm(ctx, d.as.TokenEndpoint, form)
	switch {
	case b.Status == http.StatusOK && d.mode == "entra":
		d.rep.Add(Result{Name: name, Status: Pass, Detail: "new refresh token; Entra still accepts the old one (it does not rotate strictly)"})
	case b.Status == http.StatusOK:
		d.rep.Add(Result{Name: name, Status: Pass, Detail: "new refresh token; the old one is still accepted inside the grace window"})
		if bt.RefreshToken != "" {
			t.RefreshToken = bt.RefreshToken // the newest of the family
		}
	case bt.Error == "invalid_grant":
		d.rep.Add(Result{Name: name, Status: Pass, Detail: "new refresh token; the old one is refused (invalid_grant)"})
	default:
		d.rep.Add(d.tokenFailure(name+": reusing the old refresh token", b, bt))
	}
	return t
}

// revoke revokes the refresh token (RFC 7009 §2.1), which ends the grant,
// then expects the access token to be refused.
func (d *Doctor) revoke(ctx context.Context, clientID string, t tokenAnswer) {
	const name = "revoke (RFC 7009)"
	if d.as.RevocationEndpoint == "" {
		d.rep.Add(Result{Name: name, Status: Skip, Detail: "the authorization server has no revocation_endpoint (Entra has none)"})
		return
	}
	a, rt := d.postForm(ctx, d.as.RevocationEndpoint, url.Values{"token": {t.RefreshToken}, "token_type_hint": {"refresh_token"}, "client_id": {clientID}})
	if a.Status != http.StatusOK {
		d.rep.Add(d.tokenFailure(name, a, rt))
		return
	}
	d.rep.Add(Result{Name: name, Status: Pass, Detail: "refresh token revoked"})
	d.afterRevoke(ctx, t.AccessToken)
}

// afterRevoke: the grant is gone, so the still-unexpired access token must
// get 401 invalid_token. Other instances trust a grant they read for a
// couple of seconds, so the doctor retries for a short while.
func (d *Doctor) afterRevoke(ctx context.Context, token string) {
	const name = "access token after revocation"
	s := &mcpSession{d: d, token: token}
	var a answer
	for deadline := time.Now().Add(6 * time.Second); ; {
		a, _, _ = s.post(ctx, 3, "tools/list", nil)
		_, params := parseChallenge(a.Header.Get("WWW-Authenticate"))
		if a.Status == http.StatusUnauthorized && params["error"] == "invalid_token" {
			d.rep.Add(Result{Name: name, Status: Pass, Detail: "401 invalid_token, answered by " + string(a.from())})
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if a.Status == http.StatusOK {
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerHandler, Detail: "the access token still works 6 s after its grant was revoked",
			Fix: "the handler must check the grant behind every access token; read its log for request id " + a.Header.Get("X-Request-Id")})
		return
	}
	d.rep.Add(d.unexpected(name, a, "401 invalid_token"))
}
