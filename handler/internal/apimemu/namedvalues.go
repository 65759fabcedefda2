package apimemu

import "github.com/azure-mcp/entra-mcp-functions/handler/internal/config"

// NamedValues gives each {{named value}} the policies use the value it has
// in Azure. main.bicep passes one parameter both to the named value
// (apim.bicep) and to an app setting of the Function App
// (functionapp.bicep), so a named value equals that app setting, with the
// handler's default where the setting is unset; settings are the Function
// App's app settings. function-host-key is the host key Bicep reads with
// listKeys, here functionKey. A test in handler/infra holds this table to
// the three Bicep files.
func NamedValues(settings map[string]string, functionKey string) map[string]string {
	or := func(k, def string) string {
		if v := settings[k]; v != "" {
			return v
		}
		return def
	}
	return map[string]string{
		"public-base-url":      settings[config.EnvPublicBaseURL],
		"mcp-scope":            or(config.EnvMCPScope, "mcp:tools"),
		"entra-tenant-id":      settings[config.EnvTenantID],
		"entra-client-id":      settings[config.EnvClientID],
		"entra-app-id-uri":     or(config.EnvAppIDURI, "api://"+settings[config.EnvClientID]),
		"entra-api-scope":      or(config.EnvAPIScope, "user_impersonation"),
		"entra-authority-host": settings[config.EnvAuthorityHost],
		"function-host-key":    functionKey,
		// Bicep writes the list between commas, ",," for none (a named
		// value may not be empty); unset here means none.
		"mcp-allowed-origins": or(config.EnvAllowedOrigins, ",,"),
	}
}
