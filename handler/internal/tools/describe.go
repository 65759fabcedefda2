package tools

import (
	"slices"
	"strings"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
)

// Describe says in words what a client may do with scope, for the consent
// page's "It will be able to:": the tools the scope lets it call (for the
// base scope, those that need nothing more) and what they may read or do
// downstream with the Entra permissions the scope maps to.
//
//	use the tools of Contoso MCP as you (Who am I, Authentication info); they may read your profile through Microsoft Graph (User.Read)
//	use Recent mail as you; it may read your mail through Microsoft Graph (Mail.Read)
func (reg *Registry) Describe(scope, resourceName string) string {
	sc, ok := findScope(reg.scopes, scope)
	if !ok {
		return scope
	}
	var titles []string
	for _, r := range reg.tools {
		own := r.def.scopes
		if (scope == reg.base && len(own) == 0) || (scope != reg.base && slices.Contains(own, scope)) {
			titles = append(titles, r.def.tool.Title)
		}
	}
	var b strings.Builder
	b.WriteString("use ")
	switch {
	case scope == reg.base:
		b.WriteString("the tools of " + resourceName + " as you")
		if len(titles) > 0 {
			b.WriteString(" (" + strings.Join(titles, ", ") + ")")
		}
	case len(titles) == 0:
		b.WriteString("tools of " + resourceName + " that need " + scope + ", as you")
	default:
		b.WriteString(strings.Join(titles, ", ") + " as you")
	}
	if len(sc.Permissions) > 0 {
		subject := "it"
		if scope == reg.base || len(titles) != 1 {
			subject = "they"
		}
		b.WriteString("; " + subject + " may " + permissionWords(sc))
	}
	return b.String()
}

// graphPermissionWords are what Microsoft Graph's delegated permissions let
// an app do, in the words of their user consent descriptions
// (https://learn.microsoft.com/graph/permissions-reference).
var graphPermissionWords = map[string]string{
	"user.read":          "read your profile",
	"user.readbasic.all": "read the basic profiles of people in your organization",
	"mail.read":          "read your mail",
	"mail.readbasic":     "read your mail's subjects, senders and dates (not its contents)",
	"mail.send":          "send mail as you",
	"calendars.read":     "read your calendars",
	"contacts.read":      "read your contacts",
	"files.read":         "read your files",
	"files.read.all":     "read all files you can access",
	"tasks.read":         "read your tasks",
	"people.read":        "read the people relevant to you",
	"sites.read.all":     "read items in all SharePoint sites you can access",
}

// permissionWords names what sc's permissions allow: "read your mail
// through Microsoft Graph (Mail.Read)", or, for another API, "call
// api://contoso-orders as you (Orders.Read)".
func permissionWords(sc config.ToolScope) string {
	var names, words []string
	graph := strings.EqualFold(strings.TrimSuffix(sc.Resource(), "/"), "https://graph.microsoft.com")
	for _, p := range sc.Permissions {
		name := p[strings.LastIndex(p, "/")+1:]
		names = append(names, name)
		if w, ok := graphPermissionWords[strings.ToLower(name)]; ok && graph {
			words = append(words, w)
		}
	}
	list := strings.Join(names, ", ")
	switch {
	case graph && len(words) == len(names):
		return strings.Join(words, " and ") + " through Microsoft Graph (" + list + ")"
	case graph:
		return "use Microsoft Graph as you (" + list + ")"
	}
	return "call " + sc.Resource() + " as you (" + list + ")"
}
