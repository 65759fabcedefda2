package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Mode selects who issues the tokens MCP clients present
// (docs/architecture.md §9).
type Mode string

const (
	// ModeProxy: this server is the OAuth 2.1 authorization server and signs
	// users in through Entra ID as one confidential client.
	ModeProxy Mode = "proxy"
	// ModeEntra: clients get Entra tokens directly; /mcp verifies them against
	// the tenant's JWKS. The OAuth endpoints answer 404.
	ModeEntra Mode = "entra"
)

// Environment variable names. Every one is listed in README.md's
// configuration table and in local.settings.json.example; Settings returns
// them all so tests can check Bicep and the docs against this list.
const (
	EnvPublicBaseURL      = "PUBLIC_BASE_URL"
	EnvAuthMode           = "AUTH_MODE"
	EnvTenantID           = "ENTRA_TENANT_ID"
	EnvClientID           = "ENTRA_CLIENT_ID"
	EnvAppIDURI           = "ENTRA_APP_ID_URI"
	EnvAuthorityHost      = "ENTRA_AUTHORITY_HOST"
	EnvAPIScope           = "ENTRA_API_SCOPE"
	EnvClientSecret       = "ENTRA_CLIENT_SECRET"
	EnvManagedIdentityID  = "MANAGED_IDENTITY_CLIENT_ID"
	EnvGraphBaseURL       = "GRAPH_BASE_URL"
	EnvToolScopes         = "TOOL_SCOPES"
	EnvUpstreamCAFile     = "UPSTREAM_CA_FILE"
	EnvTableEndpoint      = "STORAGE_TABLE_ENDPOINT"
	EnvTableConnString    = "STORAGE_CONNECTION_STRING"
	EnvTableName          = "STORAGE_TABLE_NAME"
	EnvSigningKey         = "SIGNING_KEY"
	EnvSigningKeyPrevious = "SIGNING_KEY_PREVIOUS"
	EnvSealingKey         = "SEALING_KEY"
	EnvSealingKeyPrevious = "SEALING_KEY_PREVIOUS"
	EnvAccessTokenTTL     = "ACCESS_TOKEN_TTL"
	EnvRefreshTokenTTL    = "REFRESH_TOKEN_TTL"
	EnvAuthCodeTTL        = "AUTH_CODE_TTL"
	EnvResourceName       = "MCP_RESOURCE_NAME"
	EnvMCPScope           = "MCP_SCOPE"
	EnvLogLevel           = "LOG_LEVEL"
	EnvLogFormat          = "LOG_FORMAT"
	EnvOTLPEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvOTLPHeaders        = "OTEL_EXPORTER_OTLP_HEADERS"
	EnvServiceName        = "OTEL_SERVICE_NAME"
	EnvMetricInterval     = "OTEL_METRIC_EXPORT_INTERVAL"
	EnvPort               = "FUNCTIONS_CUSTOMHANDLER_PORT"
	EnvPortFallback       = "PORT"
	EnvBehindHost         = "BEHIND_FUNCTIONS_HOST"
)

// Variables set by the Azure Functions platform; their presence means the
// process runs in Azure, where ephemeral keys and client secrets are refused.
const (
	envWebsiteInstanceID = "WEBSITE_INSTANCE_ID"
	envWebsiteSiteName   = "WEBSITE_SITE_NAME"
)

// DefaultPort is used when neither FUNCTIONS_CUSTOMHANDLER_PORT nor PORT is
// set, i.e. when the binary runs by itself outside the Functions host.
const DefaultPort = 8080

// Config is the validated configuration. Durations and URLs are parsed;
// secrets are kept as given and are never logged: LogValue redacts them.
type Config struct {
	PublicBaseURL string // no trailing slash
	Mode          Mode

	TenantID      string
	ClientID      string
	AppIDURI      string // default "api://" + ClientID
	AuthorityHost string // no trailing slash, https
	APIScope      string // short scope name, e.g. "user_impersonation"

	ClientSecret            string // local only
	ManagedIdentityClientID string // Azure: FIC client assertion source

	GraphBaseURL   string // no trailing slash
	UpstreamCAFile string // extra PEM roots for Entra/Graph clients (the emulator's cert)
	// ToolScopes are the scopes tools need and the Entra delegated
	// permissions each stands for (TOOL_SCOPES), the base scope first.
	ToolScopes []ToolScope

	TableEndpoint   string
	TableConnString string
	TableName       string
	SigningKey      string
	SigningKeyPrev  string
	SealingKey      string
	SealingKeyPrev  string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	AuthCodeTTL     time.Duration
	// RegistrationIdleTTL: a dynamic registration unused for this long
	// expires and is purged.
	RegistrationIdleTTL time.Duration
	// RegistrationQuota is how many registrations one client address may
	// make per hour; 0 means no quota.
	RegistrationQuota int
	// TrustedProxyHops is how many proxies in front of the handler append
	// the caller's address to X-Forwarded-For (see package forwarded).
	TrustedProxyHops int
	ResourceName     string
	MCPScope         string // the scope our AS issues for /mcp in mode proxy
	// MCPMaxBody is the largest request body /mcp reads, in bytes.
	MCPMaxBody int64
	// AllowedOrigins are the browser origins that may call /mcp, as
	// browsers write them; a request with another Origin gets 403.
	AllowedOrigins []string
	LogLevel       string
	LogJSON        bool
	GCPercent      int // GOGC, or DefaultGCPercent; -1 is off
	// OTLPEndpoint is the OTLP/HTTP collector traces go to; empty: tracing
	// is off (package telemetry).
	OTLPEndpoint string
	// OTLPHeaders are sent with every export (a collector's API key): a
	// secret.
	OTLPHeaders string
	ServiceName string // OTEL_SERVICE_NAME; service.name of the spans
	// MetricInterval is how often metrics are exported (the OpenTelemetry
	// setting is in milliseconds); default 60 s.
	MetricInterval time.Duration
	Port           int
	BehindHost     bool // requests arrive through the Functions host's forwarder
	InAzure        bool
}

// ResourceURL is the canonical MCP resource identifier (RFC 8707, RFC 9728 §2):
// PUBLIC_BASE_URL + "/mcp", without a trailing slash.
func (c Config) ResourceURL() string { return c.PublicBaseURL + "/mcp" }

// ResourceMetadataURL is the path-inserted PRM URL (RFC 9728 §3.1) sent in
// every WWW-Authenticate challenge.
func (c Config) ResourceMetadataURL() string {
	return c.PublicBaseURL + "/.well-known/oauth-protected-resource/mcp"
}

// EntraIssuer is the tenant's v2 issuer, the value of `iss` in v2 tokens.
func (c Config) EntraIssuer() string { return c.AuthorityHost + "/" + c.TenantID + "/v2.0" }

// RequiredScopes are the scopes a token must carry to use /mcp, in the form
// clients request them: our own scope in mode proxy, the Entra API scope
// (api://…/user_impersonation) in mode entra. The 401 challenge names
// exactly these; a tool that needs more gets the 403 step-up challenge
// (mcpserver.StepUp), and PRM scopes_supported lists every scope
// (ScopesSupported).
func (c Config) RequiredScopes() []string {
	if c.Mode == ModeProxy {
		return []string{c.MCPScope}
	}
	return []string{c.EntraScope()}
}

// EntraScope is the fully qualified API scope, e.g. api://<client>/user_impersonation.
func (c Config) EntraScope() string { return c.AppIDURI + "/" + c.APIScope }

// ChallengeScope is a TOOL_SCOPES scope in the form clients request it and
// challenges name it. Mode proxy: the scope itself (our authorization
// server issues it). Mode entra: a scope of the app registration, which
// Entra issues: the base scope is the API scope (ENTRA_API_SCOPE), every
// other scope the app's scope of the same name, <ENTRA_APP_ID_URI>/<name>
// (e.g. api://<client>/mail.read), which the app registration must expose.
func (c Config) ChallengeScope(name string) string {
	switch {
	case c.Mode == ModeProxy:
		return name
	case name == c.MCPScope:
		return c.EntraScope()
	}
	return c.AppIDURI + "/" + name
}

// ScopesSupported lists every TOOL_SCOPES scope, base first, as
// ChallengeScope writes it: the scopes_supported of the protected resource
// metadata (RFC 9728 §2).
func (c Config) ScopesSupported() []string {
	out := make([]string, 0, len(c.ToolScopes))
	for _, s := range c.ToolScopes {
		out = append(out, c.ChallengeScope(s.Name))
	}
	return out
}

var (
	guidRE      = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	scopeNameRE = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)
	// RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E.
	scopeTokenRE = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)
	tableNameRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{2,62}$`)
)

// Load reads and validates the configuration. It returns every problem
// found, joined, rather than stopping at the first.
func Load(getenv func(string) string) (Config, error) {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}

	c := Config{
		InAzure: getenv(envWebsiteInstanceID) != "" || getenv(envWebsiteSiteName) != "",
	}

	c.Port = DefaultPort
	if p := get(EnvPort, get(EnvPortFallback, "")); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			bad(EnvPort, "%q is not a TCP port", p)
		} else {
			c.Port = n
		}
	}
	// The host sets FUNCTIONS_CUSTOMHANDLER_PORT; that is how we know it sits
	// in front of us unless told otherwise.
	c.BehindHost = getenv(EnvPort) != ""
	if v := get(EnvBehindHost, ""); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(EnvBehindHost, "%q is not a boolean", v)
		}
		c.BehindHost = b
	}

	c.PublicBaseURL = strings.TrimRight(get(EnvPublicBaseURL, ""), "/")
	switch {
	case c.PublicBaseURL == "" && c.InAzure:
		bad(EnvPublicBaseURL, "required in Azure (the APIM gateway URL)")
	case c.PublicBaseURL == "" && c.BehindHost:
		// Under `func start` clients talk to the host, whose default port
		// is 7071; our own port is a private one the host picked.
		c.PublicBaseURL = "http://127.0.0.1:7071"
	case c.PublicBaseURL == "":
		c.PublicBaseURL = fmt.Sprintf("http://127.0.0.1:%d", c.Port)
	default:
		if err := checkBaseURL(c.PublicBaseURL, c.InAzure); err != nil {
			bad(EnvPublicBaseURL, "%v", err)
		}
	}

	c.Mode = Mode(strings.ToLower(get(EnvAuthMode, string(ModeProxy))))
	if c.Mode != ModeProxy && c.Mode != ModeEntra {
		bad(EnvAuthMode, "%q is not one of proxy, entra", c.Mode)
	}

	c.TenantID = get(EnvTenantID, "")
	if c.TenantID == "" {
		bad(EnvTenantID, "required")
	} else if !guidRE.MatchString(c.TenantID) {
		// "common"/"organizations" cannot be used: the issuer must be one tenant.
		bad(EnvTenantID, "%q is not a tenant GUID", c.TenantID)
	}
	c.ClientID = get(EnvClientID, "")
	if c.ClientID == "" {
		bad(EnvClientID, "required")
	} else if !guidRE.MatchString(c.ClientID) {
		bad(EnvClientID, "%q is not an application (client) id GUID", c.ClientID)
	}
	c.AppIDURI = strings.TrimRight(get(EnvAppIDURI, "api://"+c.ClientID), "/")
	c.AuthorityHost = strings.TrimRight(get(EnvAuthorityHost, "https://login.microsoftonline.com"), "/")
	if u, err := url.Parse(c.AuthorityHost); err != nil || u.Scheme != "https" || u.Host == "" {
		bad(EnvAuthorityHost, "%q must be an https URL", c.AuthorityHost)
	}
	c.APIScope = get(EnvAPIScope, "user_impersonation")
	if !scopeNameRE.MatchString(c.APIScope) {
		bad(EnvAPIScope, "%q is not a scope name", c.APIScope)
	}

	c.ClientSecret = getenv(EnvClientSecret)
	c.ManagedIdentityClientID = get(EnvManagedIdentityID, "")
	if c.InAzure && c.ClientSecret != "" {
		bad(EnvClientSecret, "must not be set in Azure; use %s (federated credential)", EnvManagedIdentityID)
	}
	if c.InAzure && c.ManagedIdentityClientID == "" {
		bad(EnvManagedIdentityID, "required in Azure")
	}
	if !c.InAzure && c.ClientSecret == "" && c.ManagedIdentityClientID == "" {
		bad(EnvClientSecret, "required outside Azure (or set %s)", EnvManagedIdentityID)
	}

	c.GraphBaseURL = strings.TrimRight(get(EnvGraphBaseURL, "https://graph.microsoft.com"), "/")
	if u, err := url.Parse(c.GraphBaseURL); err != nil || u.Scheme != "https" || u.Host == "" {
		bad(EnvGraphBaseURL, "%q must be an https URL", c.GraphBaseURL)
	}
	c.UpstreamCAFile = get(EnvUpstreamCAFile, "")
	if c.UpstreamCAFile != "" {
		if _, err := os.Stat(c.UpstreamCAFile); err != nil {
			bad(EnvUpstreamCAFile, "%v", err)
		}
	}

	c.TableEndpoint = get(EnvTableEndpoint, "")
	c.TableConnString = getenv(EnvTableConnString)
	if c.TableEndpoint != "" && c.TableConnString != "" {
		bad(EnvTableEndpoint, "set either %s or %s, not both", EnvTableEndpoint, EnvTableConnString)
	}
	if c.TableEndpoint != "" {
		if u, err := url.Parse(c.TableEndpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad(EnvTableEndpoint, "%q is not a URL", c.TableEndpoint)
		}
	}
	if c.InAzure && c.Mode == ModeProxy && c.TableEndpoint == "" && c.TableConnString == "" {
		bad(EnvTableEndpoint, "required in Azure in proxy mode (in-memory state is lost on scale-out)")
	}
	c.TableName = get(EnvTableName, "oauthstate")
	if !tableNameRE.MatchString(c.TableName) {
		bad(EnvTableName, "%q: letters and digits, 3-63, starting with a letter", c.TableName)
	}

	c.SigningKey = getenv(EnvSigningKey)
	c.SigningKeyPrev = getenv(EnvSigningKeyPrevious)
	c.SealingKey = getenv(EnvSealingKey)
	c.SealingKeyPrev = getenv(EnvSealingKeyPrevious)
	if c.InAzure && c.Mode == ModeProxy {
		if c.SigningKey == "" {
			bad(EnvSigningKey, "required in Azure in proxy mode (ephemeral keys are for local runs only)")
		}
		if c.SealingKey == "" {
			bad(EnvSealingKey, "required in Azure in proxy mode (ephemeral keys are for local runs only)")
		}
	}
	if c.SigningKeyPrev != "" && c.SigningKey == "" {
		bad(EnvSigningKeyPrevious, "set without %s", EnvSigningKey)
	}
	if c.SealingKeyPrev != "" && c.SealingKey == "" {
		bad(EnvSealingKeyPrevious, "set without %s", EnvSealingKey)
	}

	c.AccessTokenTTL = duration(get, bad, EnvAccessTokenTTL, time.Hour, 5*time.Minute, 24*time.Hour)
	c.RefreshTokenTTL = duration(get, bad, EnvRefreshTokenTTL, 30*24*time.Hour, time.Hour, 365*24*time.Hour)
	c.AuthCodeTTL = duration(get, bad, EnvAuthCodeTTL, 5*time.Minute, time.Minute, 10*time.Minute)
	loadAbuseLimits(&c, get, bad)

	c.ResourceName = get(EnvResourceName, "MCP server on Azure Functions")
	c.MCPScope = get(EnvMCPScope, "mcp:tools")
	if !scopeTokenRE.MatchString(c.MCPScope) {
		bad(EnvMCPScope, "%q is not a single RFC 6749 scope token", c.MCPScope)
	}
	var problems []string
	c.ToolScopes, problems = parseToolScopes(get(EnvToolScopes, DefaultToolScopes(c.MCPScope)), c.MCPScope)
	for _, p := range problems {
		bad(EnvToolScopes, "%s", p)
	}
	if c.Mode == ModeEntra {
		// Each scope but the base one is a scope the app registration
		// exposes (ChallengeScope), so it must be a valid Entra scope value.
		for _, s := range c.ToolScopes {
			if s.Name != c.MCPScope && !scopeNameRE.MatchString(s.Name) {
				bad(EnvToolScopes, "scope %q: in mode entra every scope but %s is a scope of the app registration (%s/%s), so it may only have letters, digits, '_', '-' and '.'", s.Name, EnvMCPScope, EnvAppIDURI, s.Name)
			}
		}
	}
	loadMCP(&c, get, bad)

	c.LogLevel = strings.ToLower(get(EnvLogLevel, "info"))
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad(EnvLogLevel, "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	switch f := strings.ToLower(get(EnvLogFormat, "")); f {
	case "":
		c.LogJSON = c.InAzure
	case "json":
		c.LogJSON = true
	case "text":
	default:
		bad(EnvLogFormat, "%q is not one of json, text", f)
	}

	c.GCPercent = gcPercent(get, bad)

	c.OTLPEndpoint = strings.TrimRight(get(EnvOTLPEndpoint, ""), "/")
	if c.OTLPEndpoint != "" {
		if u, err := url.Parse(c.OTLPEndpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			bad(EnvOTLPEndpoint, "%q is not an http(s) base URL", c.OTLPEndpoint)
		}
	}
	c.OTLPHeaders = getenv(EnvOTLPHeaders)
	c.ServiceName = get(EnvServiceName, "entra-mcp-functions")
	if ms, err := strconv.Atoi(get(EnvMetricInterval, "60000")); err != nil || ms < 1000 || ms > 3600000 {
		bad(EnvMetricInterval, "%q is not a number of milliseconds from 1000 to 3600000", get(EnvMetricInterval, ""))
	} else {
		c.MetricInterval = time.Duration(ms) * time.Millisecond
	}

	if len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration:\n%w", errors.Join(errs...))
	}
	return c, nil
}

func checkBaseURL(s string, inAzure bool) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return err
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("%q must be an http(s) URL", s)
	case u.Scheme == "http" && (inAzure || !isLoopback(u.Hostname())):
		return fmt.Errorf("%q must use https (http is allowed only for loopback)", s)
	case u.Host == "":
		return fmt.Errorf("%q has no host", s)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "#"):
		return fmt.Errorf("%q must not carry userinfo, a query or a fragment", s)
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}

func duration(get func(string, string) string, bad func(string, string, ...any), name string, def, min, max time.Duration) time.Duration {
	v := get(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		bad(name, "%q is not a duration like 1h or 90s", v)
		return def
	}
	if d < min || d > max {
		bad(name, "%s is outside %s..%s", d, min, max)
		return def
	}
	return d
}

// Settings lists every environment variable Load reads, for documentation
// and cross-checks (README table, local.settings.json.example, Bicep).
func Settings() []string {
	return []string{
		EnvPublicBaseURL, EnvAuthMode, EnvTenantID, EnvClientID, EnvAppIDURI, EnvAuthorityHost,
		EnvAPIScope, EnvClientSecret, EnvManagedIdentityID, EnvGraphBaseURL, EnvToolScopes,
		EnvUpstreamCAFile, EnvTableEndpoint, EnvTableConnString, EnvTableName, EnvSigningKey,
		EnvSigningKeyPrevious, EnvSealingKey, EnvSealingKeyPrevious, EnvAccessTokenTTL,
		EnvRefreshTokenTTL, EnvAuthCodeTTL, EnvRegistrationIdleTTL, EnvRegistrationQuota, EnvTrustedProxyHops,
		EnvResourceName, EnvMCPScope, EnvMCPMaxBody, EnvAllowedOrigins, EnvLogLevel, EnvLogFormat, EnvPort, EnvPortFallback, EnvBehindHost,
		EnvGOGC, EnvGOMEMLIMIT, EnvOTLPEndpoint, EnvOTLPHeaders, EnvServiceName, EnvMetricInterval,
	}
}

// RequiredInAzure lists the settings a deployment must set for the given
// mode; the Bicep cross-check test holds infra/ to it.
func RequiredInAzure(m Mode) []string {
	req := []string{EnvPublicBaseURL, EnvAuthMode, EnvTenantID, EnvClientID, EnvManagedIdentityID}
	if m == ModeProxy {
		req = append(req, EnvTableEndpoint, EnvSigningKey, EnvSealingKey)
	}
	return req
}
