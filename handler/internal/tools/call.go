package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entra"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
)

// Caller is who called the tool, from the verified access token.
type Caller struct {
	Subject  string    // Entra object id (oid) of the user
	Name     string    // display name, when the token carries one
	Username string    // preferred_username (UPN), when the token carries one
	TenantID string    // Entra tenant id
	ClientID string    // the MCP client the token was issued to
	Scopes   []string  // granted scopes, as the token carries them
	GrantID  string    // mode proxy: the grant behind the token; "" in mode entra
	Issuer   string    // who issued the token
	Expiry   time.Time // when the token expires
}

// Call is one tools/call: the caller, the request's logger, and the way to
// act for the caller downstream.
type Call struct {
	Caller Caller
	// Log is the request's logger: lines carry the request id and the tool
	// name, with or without a context.
	Log *slog.Logger

	tool     *registered
	token    *resource.TokenInfo
	upstream Upstream
	http     *http.Client
}

// OnBehalfOf returns an access token for a downstream API, for the caller,
// through the On-Behalf-Of flow. scopes are Entra delegated permissions
// written in full (https://graph.microsoft.com/Mail.Read,
// api://<app>/Orders.Read); with none, the permissions TOOL_SCOPES gives
// the tool's own scopes (its Scopes, or the base scope if it declares
// none). A tool gets only permissions its scopes map to: least privilege,
// and the user consented to exactly those.
//
// Tokens are cached per user and scope set until shortly before they
// expire. Errors: *ConsentRequiredError when Entra needs the user's (or an
// administrator's) consent or a fresh interactive sign-in; any other error
// is an upstream failure. Return them from Run unchanged.
func (c *Call) OnBehalfOf(ctx context.Context, scopes ...string) (string, error) {
	if len(scopes) == 0 {
		if len(c.tool.downstream) == 0 {
			return "", fmt.Errorf("%w: tool %s called OnBehalfOf without permissions, but its scopes map to none, or to several resources, in TOOL_SCOPES; name the permissions",
				errMisuse, c.tool.def.Name())
		}
		scopes = c.tool.downstream
	}
	for _, s := range scopes {
		if !slices.ContainsFunc(c.tool.allowed, func(a string) bool { return strings.EqualFold(a, s) }) {
			return "", fmt.Errorf("%w: tool %s asked for %s; its scopes (%s) map to %s in TOOL_SCOPES",
				errMisuse, c.tool.def.Name(), s, strings.Join(c.tool.required, " "), strings.Join(c.tool.allowed, " "))
		}
	}
	tok, err := c.upstream.Token(ctx, c.token, scopes)
	var consent *entra.ConsentRequiredError
	var interaction *entra.InteractionRequiredError
	switch {
	case errors.As(err, &consent):
		return "", &ConsentRequiredError{Permissions: slices.Clone(scopes), AdminConsentURL: consent.URL}
	case errors.As(err, &interaction):
		return "", &ConsentRequiredError{Permissions: slices.Clone(scopes), SignInAgain: true, Detail: interaction.Detail}
	}
	return tok, err
}

// errMisuse is a tool's programming error: OnBehalfOf for permissions
// outside the tool's scopes, or without permissions where no default exists.
var errMisuse = errors.New("OnBehalfOf misused")

// GetJSON calls GET rawURL with token as a bearer token and decodes the
// JSON answer into out. The wait is bounded (the kit's HTTP client has a
// timeout) and so is the body (4 MiB). A non-2xx answer is *HTTPError.
func (c *Call) GetJSON(ctx context.Context, rawURL, token string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, 4<<20)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, body)
		return &HTTPError{Status: resp.StatusCode, Host: req.URL.Host}
	}
	if err := json.NewDecoder(body).Decode(out); err != nil {
		return fmt.Errorf("decode %s: %w", redact(req.URL), err)
	}
	return nil
}

// HTTPError is a downstream API's non-2xx answer to GetJSON.
type HTTPError struct {
	Status int
	Host   string
}

func (e *HTTPError) Error() string { return fmt.Sprintf("%s answered %d", e.Host, e.Status) }

// UserMessage is the text the tool result shows.
func (e *HTTPError) UserMessage() string {
	return fmt.Sprintf("%s answered %d %s.", e.Host, e.Status, http.StatusText(e.Status))
}

// redact drops the query, which may carry what the user asked for.
func redact(u *url.URL) string { return u.Scheme + "://" + u.Host + u.Path }

func callerOf(t *resource.TokenInfo) Caller {
	return Caller{
		Subject: t.Subject, Name: t.Name, Username: t.Username, TenantID: t.TenantID, ClientID: t.ClientID,
		Scopes: slices.Clone(t.Scopes), GrantID: t.GrantID, Issuer: t.Issuer, Expiry: t.Expiry,
	}
}

// boundHandler gives records logged without a context (Log.Info) the
// call's context, so the request id reaches every line.
type boundHandler struct {
	slog.Handler
	ctx context.Context
}

func (h boundHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == context.Background() {
		ctx = h.ctx
	}
	return h.Handler.Handle(ctx, r)
}

func (h boundHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return boundHandler{h.Handler.WithAttrs(a), h.ctx}
}

func (h boundHandler) WithGroup(n string) slog.Handler {
	return boundHandler{h.Handler.WithGroup(n), h.ctx}
}
