package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entra"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/forwarded"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/oauth"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store/aztable"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store/memory"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// proxyMode is what mode proxy adds: the authorization server and the
// resolution of our tokens to the stored Entra tokens of their grant.
type proxyMode struct {
	oauth    *oauth.Handler
	handlers handlers
}

func newProxyMode(cfg config.Config, logger *slog.Logger, httpClient *http.Client, assertion func(context.Context) (string, error), idTokens *entra.Verifier) (*proxyMode, error) {
	st, err := openStore(cfg, logger)
	if err != nil {
		return nil, err
	}
	keys, err := tokens.LoadKeys(cfg, logger)
	if err != nil {
		return nil, err
	}
	issuer, err := keys.Issuer(cfg)
	if err != nil {
		return nil, err
	}
	sealer, err := keys.Sealer()
	if err != nil {
		return nil, err
	}
	upstream := entra.NewUpstream(entra.UpstreamConfig{
		AuthorityHost:   cfg.AuthorityHost,
		TenantID:        cfg.TenantID,
		ClientID:        cfg.ClientID,
		ClientSecret:    cfg.ClientSecret,
		ClientAssertion: assertion,
		RedirectURL:     cfg.PublicBaseURL + "/callback",
		APIScope:        cfg.EntraScope(),
		HTTPClient:      httpClient,
	})
	h := &oauth.Handler{
		Config:   cfg,
		Store:    st,
		Issuer:   issuer,
		Sealer:   sealer,
		Metadata: oauth.NewCIMDFetcher(oauth.CIMDOptions{}),
		Upstream: upstream,
		IDTokens: idTokens,
		ClientAddr: func(r *http.Request) string {
			return forwarded.ClientAddr(r, cfg.TrustedProxyHops).String()
		},
		Logger: logger,
	}
	return &proxyMode{
		oauth: h,
		handlers: handlers{
			"/.well-known/oauth-authorization-server": http.HandlerFunc(h.AuthorizationServerMetadata),
			"/.well-known/openid-configuration":       http.HandlerFunc(h.OpenIDConfiguration),
			"/.well-known/jwks.json":                  http.HandlerFunc(h.JWKS),
			"/register":                               http.HandlerFunc(h.Register),
			"/authorize":                              http.HandlerFunc(h.Authorize),
			"/consent":                                http.HandlerFunc(h.Consent),
			"/callback":                               http.HandlerFunc(h.Callback),
			"/token":                                  http.HandlerFunc(h.Token),
			"/revoke":                                 http.HandlerFunc(h.Revoke),
		},
	}, nil
}

// openStore picks the state backend: Table Storage when configured
// (Azurite locally), memory otherwise (with a warning: every restart and
// every other instance loses the flows in flight).
func openStore(cfg config.Config, logger *slog.Logger) (store.Store, error) {
	switch {
	case cfg.TableConnString != "":
		return aztable.NewFromConnectionString(cfg.TableConnString, cfg.TableName)
	case cfg.TableEndpoint != "":
		var opts *azidentity.ManagedIdentityCredentialOptions
		if cfg.ManagedIdentityClientID != "" {
			opts = &azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(cfg.ManagedIdentityClientID)}
		}
		cred, err := azidentity.NewManagedIdentityCredential(opts)
		if err != nil {
			return nil, fmt.Errorf("storage credential: %w", err)
		}
		return aztable.NewFromEndpoint(cfg.TableEndpoint, cfg.TableName, cred)
	default:
		logger.Warn("no storage configured: OAuth state is kept in memory and lost on restart; set " +
			config.EnvTableConnString + " or " + config.EnvTableEndpoint)
		return memory.New(), nil
	}
}

// userAssertion is the On-Behalf-Of assertion in mode proxy: the client's
// token is ours and never leaves this server; the grant's stored Entra
// token (refreshed when expired) stands for the user.
func (pm *proxyMode) userAssertion(ctx context.Context, caller *resource.TokenInfo) (string, time.Time, error) {
	return pm.oauth.UserAssertion(ctx, caller.GrantID)
}

// purgeEvery runs the store's expiry purge in the background (Table Storage
// has no TTL; docs/architecture.md §7.2). Every instance ticks; the purge
// lease lets one of them purge per interval, a bounded amount each time (see
// store.Purger).
func purgeEvery(ctx context.Context, st store.Store, every time.Duration, logger *slog.Logger) {
	p := store.Purger{Store: st, Holder: tokens.NewOpaque(), Every: every}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n, ran, err := p.Run(ctx, now)
			switch {
			case err != nil:
				logger.Warn("purge of expired state failed", "err", err)
			case ran && n > 0:
				logger.Info("purged expired state", "records", n)
			}
		}
	}
}
