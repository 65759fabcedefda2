package funchost

import (
	"fmt"
	"slices"
	"strings"
)

// Route is one HTTP trigger as the host registers it.
type Route struct {
	// Function is the function name: the folder that holds function.json.
	Function string
	// Template is the httpTrigger "route" as written (the function name when
	// function.json has none), without the routePrefix.
	Template string
	// Pattern is the template the host matches: routePrefix + "/" + Template.
	Pattern string
	// Methods are upper-case; a trigger without "methods" accepts all of them.
	Methods []string
	// AuthLevel is "anonymous", "function" or "admin" (httpTrigger "authLevel").
	AuthLevel string

	segments []segment
}

// Allows reports whether the trigger accepts method. The host registers each
// trigger with an HTTP-method constraint, so a method outside the list does
// not match the route at all (the client gets 404, not 405).
func (r Route) Allows(method string) bool {
	return slices.Contains(r.Methods, strings.ToUpper(method))
}

// MatchPath reports whether the URL path (decoded, with leading slash)
// matches the route template, ignoring the method.
func (r Route) MatchPath(path string) bool {
	return matchSegments(r.segments, splitPath(path))
}

type segmentKind int

// The order is ASP.NET Core's inbound precedence: a literal beats a
// parameter, which beats a catch-all, when several routes match one path.
const (
	literal segmentKind = iota
	param
	optional
	catchAll
)

type segment struct {
	kind segmentKind
	text string // literal text, or the parameter name
}

// parseTemplate parses a route template (prefix already applied) following
// the ASP.NET Core route template syntax the host uses. It supports literal
// segments, {name}, {name?} and a final {*name} / {**name}; it rejects
// complex segments ("{a}.{b}"), constraints and defaults, which this project
// does not need and which the stand-in would otherwise match wrongly.
func parseTemplate(tmpl string) ([]segment, error) {
	if strings.HasPrefix(tmpl, "/") || strings.HasPrefix(tmpl, "~") {
		return nil, fmt.Errorf("route %q must not start with '/' or '~' (the host adds the routePrefix)", tmpl)
	}
	if tmpl == "" {
		return nil, nil
	}
	var segs []segment
	parts := strings.Split(tmpl, "/")
	for i, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("route %q: the separator '/' cannot appear consecutively or at the end", tmpl)
		}
		if !strings.ContainsAny(p, "{}") {
			if strings.ContainsAny(p, "?#") {
				return nil, fmt.Errorf("route %q: literal sections cannot contain '?' or '#'", tmpl)
			}
			segs = append(segs, segment{kind: literal, text: p})
			continue
		}
		if !strings.HasPrefix(p, "{") || !strings.HasSuffix(p, "}") || strings.Count(p, "{") != 1 || strings.Count(p, "}") != 1 {
			return nil, fmt.Errorf("route %q: segment %q mixes literals and parameters (complex segments are not supported by funchost)", tmpl, p)
		}
		name := p[1 : len(p)-1]
		s := segment{kind: param}
		switch {
		case strings.HasPrefix(name, "**"):
			s.kind, name = catchAll, name[2:]
		case strings.HasPrefix(name, "*"):
			s.kind, name = catchAll, name[1:]
		case strings.HasSuffix(name, "?"):
			s.kind, name = optional, strings.TrimSuffix(name, "?")
		}
		if strings.ContainsAny(name, ":=?*") {
			return nil, fmt.Errorf("route %q: parameter %q uses a constraint or default (not supported by funchost)", tmpl, p)
		}
		if name == "" {
			return nil, fmt.Errorf("route %q: empty parameter name", tmpl)
		}
		if s.kind == catchAll && i != len(parts)-1 {
			return nil, fmt.Errorf("route %q: a catch-all parameter can only appear as the last segment", tmpl)
		}
		if s.kind == optional && i != len(parts)-1 {
			return nil, fmt.Errorf("route %q: an optional parameter must be the last segment (funchost)", tmpl)
		}
		s.text = name
		segs = append(segs, s)
	}
	return segs, nil
}

// splitPath turns "/a/b/" into ["a", "b"]. ASP.NET Core routing ignores a
// single trailing slash, so "/mcp/" matches the template "mcp".
func splitPath(path string) []string {
	path = strings.TrimPrefix(path, "/")
	path = strings.TrimSuffix(path, "/")
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

func matchSegments(segs []segment, parts []string) bool {
	for i, s := range segs {
		switch s.kind {
		case catchAll:
			return true // zero or more remaining segments
		case optional:
			return len(parts) <= i+1
		}
		if i >= len(parts) {
			return false
		}
		if s.kind == literal && !strings.EqualFold(s.text, parts[i]) {
			return false
		}
	}
	return len(parts) == len(segs)
}

// morePrecise orders two routes that both match a request: the first
// segment where they differ decides (literal < parameter < catch-all), then
// the longer template, then the template text, so the choice is stable.
func morePrecise(a, b Route) bool {
	for i := 0; i < len(a.segments) && i < len(b.segments); i++ {
		if a.segments[i].kind != b.segments[i].kind {
			return a.segments[i].kind < b.segments[i].kind
		}
	}
	if len(a.segments) != len(b.segments) {
		return len(a.segments) > len(b.segments)
	}
	return a.Pattern < b.Pattern
}
