package headless

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Tokens is a token endpoint answer (RFC 6749 §5.1, §5.2).
type Tokens struct {
	Status       int    `json:"-"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
}

// Code runs a sign-in as upn in b up to the code (the public URL base
// receives the browser) and returns the code and its PKCE verifier.
func (c Client) Code(ctx context.Context, b *Browser, base, upn string) (string, PKCE, error) {
	p := NewPKCE()
	q, err := b.Authorize(ctx, c, c.AuthorizeURL(base, p, "s"), upn)
	if err != nil {
		return "", p, err
	}
	if q.Get("code") == "" {
		return "", p, &StatusError{"sign-in", 0, q.Encode()}
	}
	return q.Get("code"), p, nil
}

// SignIn is Code and then Redeem: a whole sign-in. An answer other than
// 200 is an error.
func (c Client) SignIn(ctx context.Context, b *Browser, base, upn string) (Tokens, error) {
	code, p, err := c.Code(ctx, b, base, upn)
	if err != nil {
		return Tokens{}, err
	}
	t, err := c.Redeem(ctx, code, p)
	if err == nil && t.Status != http.StatusOK {
		err = &StatusError{"token (code)", t.Status, t.Error}
	}
	return t, err
}

// Redeem exchanges a code (OAuth 2.1 §4.1.3). Error answers come back as
// Tokens with Status and Error set; err is for transport failures.
func (c Client) Redeem(ctx context.Context, code string, p PKCE) (Tokens, error) {
	return c.token(ctx, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.RedirectURI},
		"client_id": {c.ID}, "code_verifier": {p.Verifier}, "resource": {c.Resource},
	})
}

// Refresh exchanges a refresh token (OAuth 2.1 §4.3).
func (c Client) Refresh(ctx context.Context, refresh string) (Tokens, error) {
	return c.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {c.ID}})
}

func (c Client) token(ctx context.Context, form url.Values) (Tokens, error) {
	status, b, err := c.do(ctx, http.MethodPost, "/token", "application/x-www-form-urlencoded", form.Encode(), "")
	if err != nil {
		return Tokens{}, err
	}
	var t Tokens
	if err := json.Unmarshal(b, &t); err != nil {
		return Tokens{Status: status}, &StatusError{"token", status, string(b)}
	}
	t.Status = status
	return t, nil
}

// Revoke revokes a token (RFC 7009 §2.1). An answer other than 200 is a
// *StatusError.
func (c Client) Revoke(ctx context.Context, token string) error {
	form := url.Values{"token": {token}, "client_id": {c.ID}}
	status, b, err := c.do(ctx, http.MethodPost, "/revoke", "application/x-www-form-urlencoded", form.Encode(), "")
	if err == nil && status != http.StatusOK {
		err = &StatusError{"revoke", status, string(b)}
	}
	return err
}

// CallTool calls tool name with no arguments as a stateless MCP client
// does: one POST /mcp, no session. It returns the status and, on 200,
// the result's first text content; isError says the tool reported an
// error.
func (c Client) CallTool(ctx context.Context, accessToken, name string) (status int, text string, isError bool, err error) {
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":` + quoteJSON(name) + `,"arguments":{}}}`
	status, b, err := c.do(ctx, http.MethodPost, "/mcp", "application/json", body, accessToken)
	if err != nil || status != http.StatusOK {
		return status, string(b), false, err
	}
	var res struct {
		Result struct {
			Content []struct{ Text string }
			IsError bool
		}
		Error *struct{ Message string }
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return status, string(b), false, &StatusError{"tools/call", status, string(b)}
	}
	if res.Error != nil {
		return status, res.Error.Message, true, nil
	}
	if len(res.Result.Content) > 0 {
		text = res.Result.Content[0].Text
	}
	return status, text, res.Result.IsError, nil
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// do sends one API request to c.Base+path and reads the answer.
func (c Client) do(ctx context.Context, method, path, contentType, body, bearer string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	if path == "/mcp" {
		req.Header.Set("Accept", "application/json, text/event-stream")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if c.Header != nil {
		for k, v := range c.Header() {
			req.Header[k] = v
		}
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
