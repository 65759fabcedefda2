package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// ToolScope is one scope of ours that tools declare they need, with the
// Microsoft Entra delegated permissions it stands for downstream. A tool
// that needs "mail.read" gets, through On-Behalf-Of, a token for the
// permissions "mail.read" maps to (https://graph.microsoft.com/Mail.Read).
type ToolScope struct {
	Name string // our scope value, e.g. "mail.read"
	// Permissions are Entra delegated permissions written in full,
	// <resource>/<permission>: https://graph.microsoft.com/Mail.Read or
	// api://<app>/Orders.Read. All name one resource, since Entra issues a
	// token for one resource at a time (AADSTS28000). May be empty: the
	// scope then gives access to tools that call nothing downstream.
	Permissions []string
}

// Resource is the downstream resource of the scope's permissions, "" when
// it has none.
func (s ToolScope) Resource() string {
	if len(s.Permissions) == 0 {
		return ""
	}
	res, _ := splitPermission(s.Permissions[0])
	return res
}

// DefaultToolScopes is TOOL_SCOPES when unset: the base scope (MCP_SCOPE)
// reads the user's profile for whoami, mail.read their mail for recent_mail.
func DefaultToolScopes(mcpScope string) string {
	return mcpScope + "=https://graph.microsoft.com/User.Read mail.read=https://graph.microsoft.com/Mail.Read"
}

// ToolScope returns the configured scope called name.
func (c Config) ToolScope(name string) (ToolScope, bool) {
	i := slices.IndexFunc(c.ToolScopes, func(s ToolScope) bool { return s.Name == name })
	if i < 0 {
		return ToolScope{}, false
	}
	return c.ToolScopes[i], true
}

// reservedScopes are OpenID Connect's and OAuth's own scope values; they
// never stand for tool permissions.
var reservedScopes = []string{"openid", "profile", "email", "offline_access"}

// parseToolScopes reads TOOL_SCOPES: whitespace-separated entries
// name=permission[,permission...], e.g.
//
//	mcp:tools=https://graph.microsoft.com/User.Read mail.read=https://graph.microsoft.com/Mail.Read
//
// Every problem is reported; the base scope must be among the entries.
func parseToolScopes(raw, base string) ([]ToolScope, []string) {
	var scopes []ToolScope
	var problems []string
	for _, entry := range strings.Fields(raw) {
		name, perms, ok := strings.Cut(entry, "=")
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%q is not name=permission[,permission...]", entry))
			continue
		case !scopeTokenRE.MatchString(name) || strings.ContainsAny(name, "=,"):
			problems = append(problems, fmt.Sprintf("%q is not a scope name (an RFC 6749 scope token without '=' or ',')", name))
			continue
		case slices.Contains(reservedScopes, strings.ToLower(name)):
			problems = append(problems, fmt.Sprintf("%q is an OpenID Connect scope, not one for tools", name))
			continue
		case slices.ContainsFunc(scopes, func(s ToolScope) bool { return s.Name == name }):
			problems = append(problems, fmt.Sprintf("scope %q is defined twice", name))
			continue
		}
		s := ToolScope{Name: name}
		if perms != "" {
			s.Permissions = strings.Split(perms, ",")
		}
		problems = append(problems, checkPermissions(s)...)
		scopes = append(scopes, s)
	}
	i := slices.IndexFunc(scopes, func(s ToolScope) bool { return s.Name == base })
	if i < 0 {
		problems = append(problems, fmt.Sprintf("the base scope %q (%s) is not defined; add %s=<permissions> (or %s= for none)", base, EnvMCPScope, base, base))
		return scopes, problems
	}
	// The base scope first: every token for /mcp carries it.
	b := scopes[i]
	return append([]ToolScope{b}, slices.Delete(scopes, i, i+1)...), problems
}

func checkPermissions(s ToolScope) []string {
	var problems []string
	first := ""
	for _, p := range s.Permissions {
		res, name := splitPermission(p)
		if res == "" || name == "" || !scopeTokenRE.MatchString(name) {
			problems = append(problems, fmt.Sprintf("scope %q: permission %q must be written in full, <resource>/<permission>, e.g. https://graph.microsoft.com/Mail.Read", s.Name, p))
			continue
		}
		if first == "" {
			first = res
		} else if !strings.EqualFold(first, res) {
			problems = append(problems, fmt.Sprintf("scope %q names permissions of two resources (%s, %s); Entra issues a token for one resource at a time: use one scope per resource", s.Name, first, res))
		}
	}
	return problems
}

// splitPermission splits https://graph.microsoft.com/Mail.Read into the
// resource (an absolute URI or an application id GUID) and the permission.
func splitPermission(p string) (resource, name string) {
	i := strings.LastIndex(p, "/")
	if i <= 0 {
		return "", ""
	}
	resource, name = p[:i], p[i+1:]
	if guidRE.MatchString(resource) {
		return resource, name
	}
	u, err := url.Parse(resource)
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
		return "", ""
	}
	return resource, name
}
