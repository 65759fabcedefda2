package main

import (
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/mcpserver"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/oauth"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools"
)

// The scopes of the configuration in the forms their users need: the
// bearer check and StepUp (the challenge's form for the mode), and the
// authorization server's consent page.

// scopePolicy is what StepUp needs of the registry, in the scopes' form for
// the mode (config.ChallengeScope).
func scopePolicy(cfg config.Config, reg *tools.Registry) mcpserver.ScopePolicy {
	return mcpserver.ScopePolicy{
		Known: cfg.ScopesSupported(),
		Required: func(tool string) ([]string, bool) {
			names, ok := reg.RequiredScopes(tool)
			for i, n := range names {
				names[i] = cfg.ChallengeScope(n)
			}
			return names, ok
		},
	}
}

// issuedScopes are the scopes our authorization server issues (mode
// proxy), each with its words for the consent page and the Entra
// permissions the sign-in asks for with it.
func issuedScopes(cfg config.Config, reg *tools.Registry) []oauth.Scope {
	var out []oauth.Scope
	for _, s := range cfg.ToolScopes {
		out = append(out, oauth.Scope{
			Name:        s.Name,
			Description: reg.Describe(s.Name, cfg.ResourceName),
			Permissions: s.Permissions,
		})
	}
	return out
}

// scopeMatcher: Entra puts short scope names in scp ("user_impersonation")
// while clients request and the challenge names the full form
// ("api://<app>/user_impersonation").
func scopeMatcher(cfg config.Config) func(granted, required string) bool {
	return func(granted, required string) bool {
		if granted == required {
			return true
		}
		return cfg.Mode == config.ModeEntra && cfg.AppIDURI+"/"+granted == required
	}
}
