package tools

import (
	"context"
	"errors"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entra"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
)

// Upstream returns downstream access tokens for a caller. OBO is the one
// the server uses; tests may put a stand-in here.
type Upstream interface {
	Token(ctx context.Context, caller *resource.TokenInfo, scopes []string) (string, error)
}

// AssertionFunc returns the Entra access token that stands for the caller
// in the On-Behalf-Of request (its aud is our app), and when it expires.
type AssertionFunc func(ctx context.Context, caller *resource.TokenInfo) (assertion string, expiry time.Time, err error)

// BearerAssertion is the assertion in mode entra: the bearer token is itself
// an Entra token for our app.
func BearerAssertion(_ context.Context, caller *resource.TokenInfo) (string, time.Time, error) {
	if caller.Assertion == "" {
		return "", time.Time{}, errors.New("the verified token carries no Entra user assertion")
	}
	return caller.Assertion, caller.Expiry, nil
}

// OBO exchanges the caller's Entra assertion for a downstream token. In
// mode proxy Assertion resolves the grant's stored (and refreshed) Entra
// token, since the client's token is ours and never leaves this server; in
// mode entra it is BearerAssertion. entra.OBO caches a credential per
// assertion, and each credential caches its tokens per scope set.
type OBO struct {
	Exchange  *entra.OBO
	Assertion AssertionFunc
}

// Token implements Upstream.
func (o OBO) Token(ctx context.Context, caller *resource.TokenInfo, scopes []string) (string, error) {
	assertion, exp, err := o.Assertion(ctx, caller)
	if err != nil {
		return "", err
	}
	return o.Exchange.Token(ctx, assertion, exp, scopes)
}
