package config

import (
	"log/slog"
	"strings"
)

// redacted stands for a secret setting that is set; an unset one logs as "".
const redacted = "[redacted]"

// LogValue implements slog.LogValuer: every setting under its environment
// variable's name, except that the secrets (the client secret, the storage
// connection string, which holds an account key, and the four keys) show
// only whether they are set. Fields are listed one by one rather than found
// by reflection, so a setting added later is not logged until someone
// decides whether it is a secret (TestLogValueRedactsSecrets holds every
// field to one of the two lists).
func (c Config) LogValue() slog.Value {
	secret := func(v string) string {
		if v == "" {
			return ""
		}
		return redacted
	}
	scopes := make([]string, len(c.ToolScopes))
	for i, s := range c.ToolScopes {
		scopes[i] = s.Name + "=" + strings.Join(s.Permissions, ",")
	}
	return slog.GroupValue(
		slog.String(EnvPublicBaseURL, c.PublicBaseURL),
		slog.String(EnvAuthMode, string(c.Mode)),
		slog.String(EnvTenantID, c.TenantID),
		slog.String(EnvClientID, c.ClientID),
		slog.String(EnvAppIDURI, c.AppIDURI),
		slog.String(EnvAuthorityHost, c.AuthorityHost),
		slog.String(EnvAPIScope, c.APIScope),
		slog.String(EnvClientSecret, secret(c.ClientSecret)),
		slog.String(EnvManagedIdentityID, c.ManagedIdentityClientID),
		slog.String(EnvGraphBaseURL, c.GraphBaseURL),
		slog.String(EnvUpstreamCAFile, c.UpstreamCAFile),
		slog.String(EnvToolScopes, strings.Join(scopes, " ")),
		slog.String(EnvTableEndpoint, c.TableEndpoint),
		slog.String(EnvTableConnString, secret(c.TableConnString)),
		slog.String(EnvTableName, c.TableName),
		slog.String(EnvSigningKey, secret(c.SigningKey)),
		slog.String(EnvSigningKeyPrevious, secret(c.SigningKeyPrev)),
		slog.String(EnvSealingKey, secret(c.SealingKey)),
		slog.String(EnvSealingKeyPrevious, secret(c.SealingKeyPrev)),
		slog.String(EnvAccessTokenTTL, c.AccessTokenTTL.String()),
		slog.String(EnvRefreshTokenTTL, c.RefreshTokenTTL.String()),
		slog.String(EnvAuthCodeTTL, c.AuthCodeTTL.String()),
		slog.String(EnvRegistrationIdleTTL, c.RegistrationIdleTTL.String()),
		slog.Int(EnvRegistrationQuota, c.RegistrationQuota),
		slog.Int(EnvTrustedProxyHops, c.TrustedProxyHops),
		slog.String(EnvResourceName, c.ResourceName),
		slog.String(EnvMCPScope, c.MCPScope),
		slog.Int64(EnvMCPMaxBody, c.MCPMaxBody),
		slog.String(EnvAllowedOrigins, strings.Join(c.AllowedOrigins, ",")),
		slog.String(EnvLogLevel, c.LogLevel),
		slog.Bool("log_json", c.LogJSON),
		slog.Int(EnvGOGC, c.GCPercent),
		slog.String(EnvOTLPEndpoint, c.OTLPEndpoint),
		slog.String(EnvOTLPHeaders, secret(c.OTLPHeaders)),
		slog.String(EnvServiceName, c.ServiceName),
		slog.String(EnvMetricInterval, c.MetricInterval.String()),
		slog.Int(EnvPort, c.Port),
		slog.Bool(EnvBehindHost, c.BehindHost),
		slog.Bool("in_azure", c.InAzure),
	)
}
