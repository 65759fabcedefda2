package config

import (
	"strconv"
	"time"
)

// Settings that bound what unauthenticated callers can make the
// authorization server store (issue 8 "Hardening", storage growth).
const (
	EnvRegistrationIdleTTL = "REGISTRATION_IDLE_TTL"
	EnvRegistrationQuota   = "REGISTRATION_QUOTA"
	EnvTrustedProxyHops    = "TRUSTED_PROXY_HOPS"
)

const (
	defaultRegistrationIdleTTL = 30 * 24 * time.Hour
	defaultRegistrationQuota   = 60
)

// loadAbuseLimits reads the settings above into c. It runs after the token
// lifetimes and the host detection, which it depends on.
func loadAbuseLimits(c *Config, get func(string, string) string, bad func(string, string, ...any)) {
	// A registration unused (no sign-in, no refresh) this long is deleted.
	// It must outlive the grants it holds, so it defaults to the longer of
	// 30 days and REFRESH_TOKEN_TTL, and may not be set shorter than that.
	def := max(defaultRegistrationIdleTTL, c.RefreshTokenTTL)
	c.RegistrationIdleTTL = duration(get, bad, EnvRegistrationIdleTTL, def, time.Hour, 5*365*24*time.Hour)
	if c.RegistrationIdleTTL < c.RefreshTokenTTL {
		bad(EnvRegistrationIdleTTL, "%s is shorter than %s (%s): an idle registration must outlive its grants", c.RegistrationIdleTTL, EnvRefreshTokenTTL, c.RefreshTokenTTL)
	}

	c.RegistrationQuota = defaultRegistrationQuota
	if v := get(EnvRegistrationQuota, ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1_000_000 {
			bad(EnvRegistrationQuota, "%q is not a number of registrations per hour (0 turns the quota off)", v)
		} else {
			c.RegistrationQuota = n
		}
	}

	// Behind the Functions host in Azure two proxies append to
	// X-Forwarded-For: API Management (the client) and the platform's
	// front end (API Management). Behind the host elsewhere (func start,
	// funchost) only the host's own front end is assumed; run by itself
	// the handler's TCP peer is the client.
	c.TrustedProxyHops = 0
	switch {
	case c.BehindHost && c.InAzure:
		c.TrustedProxyHops = 2
	case c.BehindHost:
		c.TrustedProxyHops = 1
	}
	if v := get(EnvTrustedProxyHops, ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 10 {
			bad(EnvTrustedProxyHops, "%q is not a number of proxies (0-10)", v)
		} else {
			c.TrustedProxyHops = n
		}
	}
}
