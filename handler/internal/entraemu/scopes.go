package entraemu

import (
	"slices"
	"strings"
)

// resource is what a v2 scope list resolves to: Entra issues a token for
// exactly one resource per request.
type resource int

const (
	resourceNone  resource = iota // only OpenID Connect scopes
	resourceApp                   // the API app (aud = its client id)
	resourceGraph                 // Microsoft Graph
)

// oidcScopes are the scopes that never name a resource.
var oidcScopes = []string{"openid", "profile", "email", "offline_access"}

// scopeRequest is a parsed scope parameter.
type scopeRequest struct {
	resource  resource
	names     []string // short names for scp, e.g. user_impersonation
	isDefault bool     // the request used <resource>/.default
	oidc      []string
	// written are the resource scopes as the client wrote them and prefix
	// the resource part it used ("" for bare Graph scopes): Entra echoes
	// scopes in the client's spelling, and MSAL treats any requested scope
	// missing from the answer as declined and fails.
	written []string
	prefix  string
	// graph are the Graph permissions the request names, for whichever
	// resource the token is: what the consent prompt asks for.
	graph []string
}

func (s scopeRequest) has(oidc string) bool { return slices.Contains(s.oidc, oidc) }

// parseScopes resolves a space-separated v2 scope list the way Entra's
// token endpoint does: "<app id URI or app id>/<name>" names the API app,
// Graph scopes may be written bare ("User.Read") or qualified, "/.default"
// means every scope the app was granted, and two resources in one request
// are refused (AADSTS28000).
func (e *Emulator) parseScopes(raw string) (scopeRequest, *Error) {
	return e.parseScopeList(raw, false)
}

// parseAuthorizeScopes resolves the scope parameter of the authorization
// endpoint, which "can cover multiple resources, allowing your app to get
// consent for multiple web APIs you want to call"; the code then yields a
// token for the resource of the first scope
// (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow).
// Scopes of other resources are only asked for consent (sr.graph).
func (e *Emulator) parseAuthorizeScopes(raw string) (scopeRequest, *Error) {
	return e.parseScopeList(raw, true)
}

func (e *Emulator) parseScopeList(raw string, consentOthers bool) (scopeRequest, *Error) {
	var sr scopeRequest
	fields := strings.Fields(raw)
	if len(fields) == 0 {
		return sr, missingParam("scope")
	}
	for _, f := range fields {
		if slices.Contains(oidcScopes, strings.ToLower(f)) {
			if !sr.has(strings.ToLower(f)) {
				sr.oidc = append(sr.oidc, strings.ToLower(f))
			}
			continue
		}
		res, name, err := e.resolveScope(f)
		if err != nil {
			return sr, err
		}
		if res == resourceGraph && name != ".default" && !slices.ContainsFunc(sr.graph, func(g string) bool { return strings.EqualFold(g, name) }) {
			sr.graph = append(sr.graph, name)
		}
		if sr.resource != resourceNone && sr.resource != res {
			if consentOthers {
				continue
			}
			return sr, invalidRequest(28000, "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", raw)
		}
		sr.resource = res
		sr.written = append(sr.written, f)
		sr.prefix = strings.TrimSuffix(f, name)
		if name == ".default" {
			sr.isDefault = true
		} else if !slices.Contains(sr.names, name) {
			sr.names = append(sr.names, name)
		}
	}
	if sr.isDefault && len(sr.names) > 0 {
		return sr, errorf(400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope %s is not valid. static scope limit exceeded.", raw)
	}
	if sr.isDefault && sr.resource == resourceApp {
		sr.names = append([]string(nil), e.cfg.App.Scopes...)
	}
	return sr, nil
}

func (e *Emulator) resolveScope(s string) (resource, string, *Error) {
	i := strings.LastIndex(s, "/")
	if i < 0 {
		return resourceGraph, s, nil // Entra resolves unqualified scopes against Graph
	}
	prefix, name := s[:i], s[i+1:]
	app := e.cfg.App
	switch {
	case prefix == app.AppIDURI || prefix == app.ID || prefix == "api://"+app.ID:
		if name != ".default" && !slices.Contains(app.Scopes, name) {
			return 0, "", errorf(400, "invalid_client", 650053, "The application '%s' asked for scope '%s' that doesn't exist on the resource '%s'. Contact the app vendor.", app.Name, name, app.ID)
		}
		return resourceApp, name, nil
	case strings.EqualFold(prefix, GraphResource) || prefix == GraphAppID:
		if name == "" {
			return 0, "", errorf(400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", s)
		}
		return resourceGraph, name, nil
	default:
		return 0, "", errorf(400, "invalid_resource", 500011, "The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", prefix, e.cfg.TenantID)
	}
}

// resourceParamMatches says whether an RFC 8707 resource parameter names
// the same resource as the scopes. Entra v2 refuses any other value with
// AADSTS9010010, which is what MCP clients sending the MCP server URL get.
func (e *Emulator) resourceParamMatches(param string, sr scopeRequest) bool {
	param = strings.TrimSuffix(param, "/")
	switch sr.resource {
	case resourceApp:
		return param == e.cfg.App.AppIDURI || param == e.cfg.App.ID || param == "api://"+e.cfg.App.ID
	case resourceGraph:
		return strings.EqualFold(param, GraphResource) || param == GraphAppID
	}
	return false
}

// granted renders the scope member of a token response: the scopes as
// requested, what .default expanded to, and the OpenID Connect scopes.
func (e *Emulator) granted(sr scopeRequest) string {
	out := slices.Clone(sr.written)
	if sr.isDefault {
		for _, n := range sr.names {
			out = append(out, sr.prefix+n)
		}
	}
	return strings.Join(append(out, sr.oidc...), " ")
}
