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
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store/aztable"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store/memory"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// newAuthServer builds what mode proxy adds: the authorization server, its
// keys and state, its leg to Entra, and the background purge of expired
// state. The closers it returns stop what it started, also on error.
func newAuthServer(cfg config.Config, opts options, assertion func(context.Context) (string, error)) (*oauth.Handler, []func(), error) {
	st := opts.Store
	if st == nil {
		var err error
		if st, err = openStore(cfg, opts); err != nil {
			return nil, nil, err
		}
	}
	keys, err := tokens.LoadKeys(keySettings(cfg), opts.Logger)
	if err != nil {
		return nil, nil, err
	}
	issuer, err := keys.Issuer(tokens.IssuerOptions{
		Issuer: cfg.PublicBaseURL, Audience: cfg.ResourceURL(), TTL: cfg.AccessTokenTTL, Now: opts.Clock,
	})
	if err != nil {
		return nil, nil, err
	}
	sealer, err := keys.Sealer()
	if err != nil {
		return nil, nil, err
	}
	idTokens := &entra.Verifier{
		AuthorityHost: cfg.AuthorityHost,
		TenantID:      cfg.TenantID,
		HTTPClient:    opts.HTTPClient,
		Now:           opts.Clock,
		Leeway:        time.Minute,
	}
	cimd := opts.ClientMetadata
	cimd.Now, cimd.Logger = opts.Clock, opts.Logger
	h := &oauth.Handler{
		Options:  oauthOptions(cfg),
		Store:    st,
		Issuer:   issuer,
		Sealer:   sealer,
		Metadata: oauth.NewCIMDFetcher(cimd),
		Upstream: entra.NewUpstream(entra.UpstreamConfig{
			AuthorityHost:   cfg.AuthorityHost,
			TenantID:        cfg.TenantID,
			ClientID:        cfg.ClientID,
			ClientSecret:    cfg.ClientSecret,
			ClientAssertion: assertion,
			RedirectURL:     cfg.PublicBaseURL + "/callback",
			APIScope:        cfg.EntraScope(),
			HTTPClient:      opts.HTTPClient,
		}),
		IDTokens: idTokens,
		ClientAddr: func(r *http.Request) string {
			return forwarded.ClientAddr(r, cfg.TrustedProxyHops).String()
		},
		Now:    opts.Clock,
		Logger: opts.Logger,
	}
	ctx, cancel := context.WithCancel(context.Background())
	go purgeEvery(ctx, st, 10*time.Minute, opts.Clock, opts.Logger)
	return h, []func(){idTokens.Close, cancel}, nil
}

// oauthOptions are the settings the authorization server uses.
func oauthOptions(cfg config.Config) oauth.Options {
	return oauth.Options{
		PublicBaseURL:       cfg.PublicBaseURL,
		ResourceURL:         cfg.ResourceURL(),
		ResourceName:        cfg.ResourceName,
		MCPScope:            cfg.MCPScope,
		AuthCodeTTL:         cfg.AuthCodeTTL,
		RefreshTokenTTL:     cfg.RefreshTokenTTL,
		RegistrationIdleTTL: cfg.RegistrationIdleTTL,
		RegistrationQuota:   cfg.RegistrationQuota,
		ClientID:            cfg.ClientID,
		AuthorityHost:       cfg.AuthorityHost,
	}
}

// keySettings names each key setting for the errors of tokens.LoadKeys. A
// missing key is an error in Azure, an ephemeral key elsewhere.
func keySettings(cfg config.Config) tokens.KeySettings {
	return tokens.KeySettings{
		Signing:     tokens.Setting{Name: config.EnvSigningKey, Value: cfg.SigningKey},
		SigningPrev: tokens.Setting{Name: config.EnvSigningKeyPrevious, Value: cfg.SigningKeyPrev},
		Sealing:     tokens.Setting{Name: config.EnvSealingKey, Value: cfg.SealingKey},
		SealingPrev: tokens.Setting{Name: config.EnvSealingKeyPrevious, Value: cfg.SealingKeyPrev},
		Required:    cfg.InAzure,
	}
}

// openStore picks the state backend: Table Storage when configured
// (Azurite locally), memory otherwise (with a warning: every restart and
// every other instance loses the flows in flight).
func openStore(cfg config.Config, opts options) (store.Store, error) {
	switch {
	case cfg.TableConnString != "":
		return aztable.NewFromConnectionString(cfg.TableConnString, cfg.TableName, aztable.WithClock(opts.Clock), tableTracing(opts))
	case cfg.TableEndpoint != "":
		var miOpts *azidentity.ManagedIdentityCredentialOptions
		if cfg.ManagedIdentityClientID != "" {
			miOpts = &azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(cfg.ManagedIdentityClientID)}
		}
		cred, err := azidentity.NewManagedIdentityCredential(miOpts)
		if err != nil {
			return nil, fmt.Errorf("storage credential: %w", err)
		}
		return aztable.NewFromEndpoint(cfg.TableEndpoint, cfg.TableName, cred, aztable.WithClock(opts.Clock), tableTracing(opts))
	default:
		opts.Logger.Warn("no storage configured: OAuth state is kept in memory and lost on restart; set " +
			config.EnvTableConnString + " or " + config.EnvTableEndpoint)
		return memory.New(memory.WithClock(opts.Clock)), nil
	}
}

// purgeEvery runs the store's expiry purge in the background (Table
// Storage has no TTL; docs/architecture.md §7.2). Every instance ticks; the
// purge lease lets one of them purge per interval, a bounded amount each
// time (see store.Purger).
func purgeEvery(ctx context.Context, st store.Store, every time.Duration, clock func() time.Time, logger *slog.Logger) {
	p := store.Purger{Store: st, Holder: tokens.NewOpaque(), Every: every}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, ran, err := p.Run(ctx, clock())
			switch {
			case err != nil:
				logger.Warn("purge of expired state failed", "err", err)
			case ran && n > 0:
				logger.Info("purged expired state", "records", n)
			}
		}
	}
}

// tableTracing gives Table Storage calls their spans when tracing is on.
func tableTracing(opts options) aztable.Option {
	if !opts.Telemetry.Enabled() {
		return func(*aztable.Store) {}
	}
	return aztable.WithTransport(opts.Telemetry.TableTransport(http.DefaultTransport))
}
