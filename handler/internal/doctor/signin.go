package doctor

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// callback is what came back to the loopback redirect URI.
type callback struct {
	Query url.Values
}

// signIn walks the flow an MCP client walks, with a person at the browser.
func (d *Doctor) signIn(ctx context.Context) {
	const name = "sign-in"
	clientID, skip := d.signInClient()
	if skip != "" {
		d.rep.Add(Result{Name: name, Status: Skip, Detail: skip})
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerNetwork, Detail: "cannot listen on loopback: " + err.Error(), Fix: "free a loopback port"})
		return
	}
	redirect := fmt.Sprintf("http://127.0.0.1:%d/callback", ln.Addr().(*net.TCPAddr).Port)
	verifier, state := random(32), random(16)
	authURL := d.authorizeURL(clientID, redirect, verifier, state)

	got := make(chan callback, 1)
	srv := &http.Server{Handler: callbackHandler(got), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }() // the answer is in; nothing waits on this server

	d.rep.Print("Sign in: open this URL in a browser (the doctor tried to open one for you):\n  %s", authURL)
	if err := d.opts.OpenBrowser(authURL); err != nil {
		d.rep.Print("  (no browser opened: %v; copy the URL into one on this machine)", err)
	}
	wait, cancel := context.WithTimeout(ctx, d.opts.SignInTimeout)
	defer cancel()
	var cb callback
	select {
	case cb = <-got:
	case <-wait.Done():
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerUnknown,
			Detail: fmt.Sprintf("no answer on %s within %s", redirect, d.opts.SignInTimeout),
			Fix:    "finish the sign-in in the browser. If Microsoft's page showed an AADSTS code, find its row in infra/README.md (Troubleshooting); if our consent or error page showed a problem, read the handler's log"})
		return
	}
	code, ok := d.checkCallback(name, cb.Query, state)
	if !ok {
		return
	}
	tok, ok := d.redeem(ctx, clientID, code, redirect, verifier)
	if !ok {
		return
	}
	if !d.whoami(ctx, tok.AccessToken) {
		return
	}
	latest := d.refresh(ctx, clientID, tok)
	d.revoke(ctx, clientID, latest)
}

// signInClient picks the client id, or says why sign-in cannot run.
func (d *Doctor) signInClient() (clientID, skip string) {
	switch {
	case d.as == nil:
		return "", "no authorization server metadata (see above)"
	case d.mode == "entra" && d.opts.ClientID == "":
		return "", "mode entra: Entra has no dynamic registration; pass -client-id with a public client registered in the tenant (redirect URI http://localhost, allowed to request the API scope)"
	case d.mode == "entra":
		return d.opts.ClientID, ""
	case d.reg == nil:
		return "", "no client registration (see above)"
	}
	return d.reg.ClientID, ""
}

// authorizeURL builds the authorization request (OAuth 2.1 §4.1.1, PKCE
// S256 per RFC 7636 §4.2). resource (RFC 8707) goes only to our own server:
// Entra refuses it with AADSTS9010010.
func (d *Doctor) authorizeURL(clientID, redirect, verifier, state string) string {
	scopes := append(d.signInScopes(), "offline_access")
	q := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect},
		"code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"},
		"state": {state}, "scope": {strings.Join(scopes, " ")},
	}
	if d.mode == "proxy" {
		q.Set("resource", d.opts.MCPURL)
	}
	sep := "?"
	if strings.Contains(d.as.AuthorizationEndpoint, "?") {
		sep = "&"
	}
	return d.as.AuthorizationEndpoint + sep + q.Encode()
}

// signInScopes are what an MCP client asks for (MCP 2025-11-25 scope
// selection): the 401 challenge's scope, else the PRM's scopes_supported.
// The challenge names what every tool needs; scopes_supported lists every
// scope, tools that need more consent included, which the doctor's
// whoami does not.
func (d *Doctor) signInScopes() []string {
	if _, params := parseChallenge(d.challenge.Header.Get("WWW-Authenticate")); params["scope"] != "" {
		return strings.Fields(params["scope"])
	}
	return append([]string(nil), d.prm.ScopesSupported...)
}

func callbackHandler(got chan<- callback) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- callback{Query: r.URL.Query()}:
		default: // a second answer (reload) is ignored
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = fmt.Fprint(w, "<!doctype html><title>entra-mcp doctor</title><p>The doctor received the sign-in answer. You can close this window and read the result in your terminal.</p>")
	})
	return mux
}

// checkCallback holds the redirect to RFC 6749 §4.1.2 (state), RFC 9207
// (iss) and §4.1.2.1 (errors).
func (d *Doctor) checkCallback(name string, q url.Values, state string) (string, bool) {
	if e := q.Get("error"); e != "" {
		desc := q.Get("error_description")
		if r, ok := entraFailure(name, desc); ok {
			d.rep.Add(r)
			return "", false
		}
		r := Result{Name: name, Status: Fail, Layer: LayerEntra, Detail: fmt.Sprintf("error=%s: %s", e, desc),
			Fix: "Entra refused the sign-in; the handler logs Entra's AADSTS code ('callback: entra returned an error' in the Function App's logs): find its row in infra/README.md"}
		if !strings.Contains(desc, "Entra") {
			r.Layer, r.Fix = LayerHandler, "the authorization server refused the request; its log names the reason"
		}
		if e == "access_denied" && strings.Contains(desc, "denied") {
			r.Layer, r.Fix = LayerUnknown, "you chose Deny on the consent page; run the doctor again and approve"
		}
		d.rep.Add(r)
		return "", false
	}
	var problems []string
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
		problems = append(problems, "state does not match")
	}
	iss := q.Get("iss")
	if (iss != "" || d.as.ISSParameterSupported) && iss != d.as.Issuer {
		problems = append(problems, fmt.Sprintf("iss is %q, not the issuer %s (RFC 9207)", iss, d.as.Issuer))
	}
	if q.Get("code") == "" {
		problems = append(problems, "no code")
	}
	if len(problems) > 0 {
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerConfig, Detail: strings.Join(problems, "; "),
			Fix: "the authorization server builds iss from PUBLIC_BASE_URL; it must be " + d.base})
		return "", false
	}
	detail := "code received, state"
	if iss != "" {
		detail += " and iss"
	}
	d.rep.Add(Result{Name: name, Status: Pass, Detail: detail + " checked (PKCE S256)"})
	return q.Get("code"), true
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
