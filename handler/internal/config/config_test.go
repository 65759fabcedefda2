package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	tenant = "11111111-1111-4111-8111-111111111111"
	client = "22222222-2222-4222-8222-222222222222"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func localEnv(extra map[string]string) map[string]string {
	m := map[string]string{
		EnvTenantID:     tenant,
		EnvClientID:     client,
		EnvClientSecret: "s3cret",
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(localEnv(nil)))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		PublicBaseURL: "http://127.0.0.1:8080", Mode: ModeProxy, TenantID: tenant, ClientID: client,
		AppIDURI: "api://" + client, AuthorityHost: "https://login.microsoftonline.com", APIScope: "user_impersonation",
		ClientSecret: "s3cret", GraphBaseURL: "https://graph.microsoft.com",
		ToolScopes: []ToolScope{
			{Name: "mcp:tools", Permissions: []string{"https://graph.microsoft.com/User.Read"}},
			{Name: "mail.read", Permissions: []string{"https://graph.microsoft.com/Mail.Read"}},
		},
		TableName:      "oauthstate",
		AccessTokenTTL: time.Hour, RefreshTokenTTL: 30 * 24 * time.Hour, AuthCodeTTL: 5 * time.Minute,
		RegistrationIdleTTL: 30 * 24 * time.Hour, RegistrationQuota: 60,
		ResourceName: "MCP server on Azure Functions", MCPScope: "mcp:tools", MCPMaxBody: 4 << 20, LogLevel: "info", Port: 8080,
		GCPercent: DefaultGCPercent, ServiceName: "entra-mcp-functions", MetricInterval: time.Minute,
	}
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("Load() mismatch (-want +got):\n%s", d)
	}
	if got, want := c.ResourceURL(), "http://127.0.0.1:8080/mcp"; got != want {
		t.Errorf("ResourceURL = %q, want %q", got, want)
	}
	if got, want := c.ResourceMetadataURL(), "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"; got != want {
		t.Errorf("ResourceMetadataURL = %q, want %q", got, want)
	}
	if got, want := c.RequiredScopes(), []string{"mcp:tools"}; !cmp.Equal(got, want) {
		t.Errorf("RequiredScopes = %q, want %q", got, want)
	}
	c.Mode = ModeEntra
	if got, want := c.RequiredScopes(), []string{"api://" + client + "/user_impersonation"}; !cmp.Equal(got, want) {
		t.Errorf("entra RequiredScopes = %q, want %q", got, want)
	}
}

func TestLoadPortAndHost(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		port       int
		behindHost bool
		base       string
	}{
		{"host sets the port; clients use func start's", map[string]string{EnvPort: "40123"}, 40123, true, "http://127.0.0.1:7071"},
		{"PORT fallback", map[string]string{EnvPortFallback: "9000"}, 9000, false, "http://127.0.0.1:9000"},
		{"host port wins over PORT", map[string]string{EnvPort: "1234", EnvPortFallback: "9000"}, 1234, true, "http://127.0.0.1:7071"},
		{"explicit not behind host", map[string]string{EnvPort: "1234", EnvBehindHost: "false"}, 1234, false, "http://127.0.0.1:1234"},
		{"base url trailing slash trimmed", map[string]string{EnvPublicBaseURL: "https://apim.example.net/"}, 8080, false, "https://apim.example.net"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(localEnv(tt.env)))
			if err != nil {
				t.Fatal(err)
			}
			if c.Port != tt.port || c.BehindHost != tt.behindHost || c.PublicBaseURL != tt.base {
				t.Errorf("got port %d behind %v base %q, want %d %v %q", c.Port, c.BehindHost, c.PublicBaseURL, tt.port, tt.behindHost, tt.base)
			}
		})
	}
}

// GOGC overrides the handler's default, spelled as the runtime reads it.
func TestLoadGCPercent(t *testing.T) {
	for v, want := range map[string]int{"": DefaultGCPercent, "150": 150, "300": 300, "off": -1, " 50 ": 50} {
		c, err := Load(env(localEnv(map[string]string{EnvGOGC: v})))
		if err != nil || c.GCPercent != want {
			t.Errorf("GOGC=%q: GCPercent %d, %v; want %d", v, c.GCPercent, err, want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	azure := map[string]string{"WEBSITE_INSTANCE_ID": "abc"}
	tests := []struct {
		name string
		env  map[string]string
		want []string // every one must be named in the single error
	}{
		{"nothing set", map[string]string{}, []string{EnvTenantID + ": required", EnvClientID + ": required", EnvClientSecret + ": required outside Azure"}},
		{"bad guids", map[string]string{EnvTenantID: "common", EnvClientID: "x", EnvClientSecret: "s"}, []string{EnvTenantID, EnvClientID}},
		{"bad mode", localEnv(map[string]string{EnvAuthMode: "both"}), []string{EnvAuthMode}},
		{"http authority", localEnv(map[string]string{EnvAuthorityHost: "http://login.example"}), []string{EnvAuthorityHost}},
		{"http public base not loopback", localEnv(map[string]string{EnvPublicBaseURL: "http://example.com"}), []string{EnvPublicBaseURL}},
		{"base with query", localEnv(map[string]string{EnvPublicBaseURL: "https://example.com/?a=b"}), []string{EnvPublicBaseURL}},
		{"bad port", localEnv(map[string]string{EnvPort: "http"}), []string{EnvPort}},
		{"bad durations", localEnv(map[string]string{EnvAccessTokenTTL: "forever", EnvAuthCodeTTL: "1h"}), []string{EnvAccessTokenTTL, EnvAuthCodeTTL}},
		{"bad log", localEnv(map[string]string{EnvLogLevel: "loud", EnvLogFormat: "xml"}), []string{EnvLogLevel, EnvLogFormat}},
		{"bad table name", localEnv(map[string]string{EnvTableName: "oauth-state"}), []string{EnvTableName}},
		{"both storage settings", localEnv(map[string]string{EnvTableEndpoint: "https://a.table.core.windows.net", EnvTableConnString: "x"}), []string{EnvTableEndpoint}},
		{"previous key without current", localEnv(map[string]string{EnvSigningKeyPrevious: "x", EnvSealingKeyPrevious: "y"}), []string{EnvSigningKeyPrevious, EnvSealingKeyPrevious}},
		{"missing CA file", localEnv(map[string]string{EnvUpstreamCAFile: "/nonexistent/ca.pem"}), []string{EnvUpstreamCAFile}},
		{"scope with space", localEnv(map[string]string{EnvMCPScope: "a b"}), []string{EnvMCPScope}},
		{"registrations idle shorter than grants", localEnv(map[string]string{EnvRefreshTokenTTL: "2160h", EnvRegistrationIdleTTL: "720h"}), []string{EnvRegistrationIdleTTL + ": 720h0m0s is shorter than " + EnvRefreshTokenTTL}},
		{"bad quota and hops", localEnv(map[string]string{EnvRegistrationQuota: "-1", EnvTrustedProxyHops: "many"}), []string{EnvRegistrationQuota, EnvTrustedProxyHops}},
		{"MCP body limit too small, not a number", localEnv(map[string]string{EnvMCPMaxBody: "100"}), []string{EnvMCPMaxBody + `: "100" is not a number of bytes`}},
		{"MCP body limit with a unit", localEnv(map[string]string{EnvMCPMaxBody: "4MiB"}), []string{EnvMCPMaxBody}},
		{"bad GOGC", localEnv(map[string]string{EnvGOGC: "200%"}), []string{EnvGOGC}},
		{"GOGC zero", localEnv(map[string]string{EnvGOGC: "0"}), []string{EnvGOGC}},
		{"GOGC Off", localEnv(map[string]string{EnvGOGC: "Off"}), []string{EnvGOGC}},
		{"secret in Azure", merge(localEnv(nil), azure, map[string]string{EnvPublicBaseURL: "https://x.azure-api.net"}), []string{EnvClientSecret + ": must not be set in Azure", EnvManagedIdentityID + ": required in Azure"}},
		{"azure proxy needs storage and keys", merge(azure, map[string]string{EnvTenantID: tenant, EnvClientID: client, EnvManagedIdentityID: client, EnvAuthMode: "proxy"}),
			[]string{EnvPublicBaseURL + ": required in Azure", EnvTableEndpoint, EnvSigningKey, EnvSealingKey}},
		{"azure http base", merge(azure, map[string]string{EnvTenantID: tenant, EnvClientID: client, EnvManagedIdentityID: client, EnvPublicBaseURL: "http://127.0.0.1"}), []string{EnvPublicBaseURL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(env(tt.env))
			if err == nil {
				t.Fatal("Load() = nil error, want one")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not name %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestAzureValid(t *testing.T) {
	c, err := Load(env(map[string]string{
		"WEBSITE_SITE_NAME": "func-x", EnvTenantID: tenant, EnvClientID: client, EnvManagedIdentityID: client,
		EnvPublicBaseURL: "https://apim-x.azure-api.net", EnvAuthMode: "proxy", EnvTableEndpoint: "https://st.table.core.windows.net",
		EnvSigningKey: "k", EnvSealingKey: "s", EnvPort: "31000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.InAzure || !c.LogJSON || !c.BehindHost {
		t.Errorf("InAzure %v LogJSON %v BehindHost %v, want all true", c.InAzure, c.LogJSON, c.BehindHost)
	}
	for _, name := range RequiredInAzure(ModeProxy) {
		if !contains(Settings(), name) {
			t.Errorf("RequiredInAzure names %s, which Settings does not list", name)
		}
	}
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestAbuseLimits: the registration idle time follows REFRESH_TOKEN_TTL
// when that is longer, and the trusted proxy count follows where the
// handler runs.
func TestAbuseLimits(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		idle  time.Duration
		quota int
		hops  int
	}{
		{"defaults, run directly", nil, 30 * 24 * time.Hour, 60, 0},
		{"idle follows a longer refresh lifetime", map[string]string{EnvRefreshTokenTTL: "2160h"}, 90 * 24 * time.Hour, 60, 0},
		{"behind the host locally", map[string]string{EnvPort: "4000"}, 30 * 24 * time.Hour, 60, 1},
		{"behind the host in Azure: APIM and the front end", map[string]string{EnvPort: "4000", "WEBSITE_INSTANCE_ID": "i"}, 30 * 24 * time.Hour, 60, 2},
		{"set explicitly", map[string]string{EnvRegistrationIdleTTL: "1000h", EnvRegistrationQuota: "0", EnvTrustedProxyHops: "3"}, 1000 * time.Hour, 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := localEnv(tt.env)
			if e["WEBSITE_INSTANCE_ID"] != "" {
				e = merge(e, map[string]string{EnvClientSecret: "", EnvManagedIdentityID: client, EnvPublicBaseURL: "https://x.azure-api.net",
					EnvTableEndpoint: "https://a.table.core.windows.net", EnvSigningKey: "k", EnvSealingKey: "k"})
			}
			c, err := Load(env(e))
			if err != nil {
				t.Fatal(err)
			}
			if c.RegistrationIdleTTL != tt.idle || c.RegistrationQuota != tt.quota || c.TrustedProxyHops != tt.hops {
				t.Errorf("idle %s quota %d hops %d, want %s %d %d", c.RegistrationIdleTTL, c.RegistrationQuota, c.TrustedProxyHops, tt.idle, tt.quota, tt.hops)
			}
		})
	}
}
