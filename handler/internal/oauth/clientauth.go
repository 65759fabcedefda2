package oauth

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// authenticateClient identifies the client at /token and /revoke (OAuth 2.1
// §2.4): a public client by client_id alone; a confidential one by its
// secret in the body (client_secret_post) or in HTTP Basic
// (client_secret_basic, RFC 6749 §2.3.1 form-encoding of id and secret).
func (h *Handler) authenticateClient(r *http.Request, form url.Values) (store.Client, *Error) {
	id, secret := form.Get("client_id"), form.Get("client_secret")
	basicID, basicSecret, hasBasic := r.BasicAuth()
	if hasBasic {
		bid, err1 := url.QueryUnescape(basicID)
		bsec, err2 := url.QueryUnescape(basicSecret)
		if err1 != nil || err2 != nil || (id != "" && id != bid) || secret != "" {
			return store.Client{}, InvalidClient("client credentials are malformed or sent twice")
		}
		id, secret = bid, bsec
	}
	if id == "" {
		return store.Client{}, InvalidClient("client_id is required")
	}
	c, err := h.Client(r.Context(), id)
	if errors.Is(err, store.ErrUnavailable) {
		return store.Client{}, TemporarilyUnavailable(err)
	}
	if err != nil {
		return store.Client{}, InvalidClient("unknown client")
	}
	if c.SecretHash == "" {
		if secret != "" {
			return store.Client{}, InvalidClient("this client has no secret")
		}
		return c, nil
	}
	if secret == "" || subtle.ConstantTimeCompare([]byte(tokens.Hash(secret)), []byte(c.SecretHash)) != 1 {
		return store.Client{}, InvalidClient("client authentication failed")
	}
	return c, nil
}

// parseForm reads an application/x-www-form-urlencoded body of bounded
// size; parameters must not repeat (RFC 6749 §3.2).
func parseForm(w http.ResponseWriter, r *http.Request) (url.Values, *Error) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		if oerr := bodyReadError(err); oerr != nil {
			return nil, oerr
		}
		return nil, InvalidRequest("the body must be application/x-www-form-urlencoded")
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return nil, InvalidRequest("parameter %s is repeated", k)
		}
	}
	return r.PostForm, nil
}

// clientRequest is the common start of /token and /revoke: the form and
// the authenticated client. It answers every error itself; ok is false
// when the handler has nothing left to do.
func (h *Handler) clientRequest(w http.ResponseWriter, r *http.Request) (url.Values, store.Client, bool) {
	form, oerr := parseForm(w, r)
	if oerr == nil {
		var client store.Client
		if client, oerr = h.authenticateClient(r, form); oerr == nil {
			return form, client, true
		}
	}
	h.writeError(w, r, oerr)
	return nil, store.Client{}, false
}
