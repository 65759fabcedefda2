package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// Settings of the MCP endpoint (issue 8 "Hardening": resource server).
const (
	// EnvMCPMaxBody bounds the body of a request to /mcp, in bytes.
	EnvMCPMaxBody = "MCP_MAX_BODY_BYTES"
	// EnvAllowedOrigins lists the browser origins that may call /mcp.
	EnvAllowedOrigins = "ALLOWED_ORIGINS"
)

const (
	// defaultMCPMaxBody: mcp-go reads a body whole, and a Flex Consumption
	// instance has 512 MB to 4 GB; an MCP message is a few KB. 4 MiB leaves
	// room for large tool arguments.
	defaultMCPMaxBody = 4 << 20
	minMCPMaxBody     = 4 << 10
	maxMCPMaxBody     = 64 << 20
)

// loadMCP reads the settings above into c.
func loadMCP(c *Config, get func(string, string) string, bad func(string, string, ...any)) {
	c.MCPMaxBody = defaultMCPMaxBody
	if v := get(EnvMCPMaxBody, ""); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < minMCPMaxBody || n > maxMCPMaxBody {
			bad(EnvMCPMaxBody, "%q is not a number of bytes from %d to %d", v, minMCPMaxBody, maxMCPMaxBody)
		} else {
			c.MCPMaxBody = n
		}
	}
	var problems []string
	c.AllowedOrigins, problems = parseOrigins(get(EnvAllowedOrigins, ""))
	for _, p := range problems {
		bad(EnvAllowedOrigins, "%s", p)
	}
}

// parseOrigins reads ALLOWED_ORIGINS: origins separated by commas or
// spaces (empty entries are skipped, so Bicep's ",a,b," and ",," read as
// [a b] and none). Each must be written exactly as a browser sends it in
// the Origin header (RFC 6454 §6.1: lower-case scheme and host, no default
// port, no path), because API Management compares the same list verbatim.
func parseOrigins(v string) ([]string, []string) {
	var out, problems []string
	for _, o := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		canon, err := canonicalOrigin(o)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%q: %v", o, err))
		case canon != o:
			problems = append(problems, fmt.Sprintf("%q: write it as browsers send it, %s", o, canon))
		default:
			out = append(out, o)
		}
	}
	return out, problems
}

func canonicalOrigin(o string) (string, error) {
	if o == "*" || o == "null" {
		return "", fmt.Errorf("list the origins that may call /mcp; %s would let any page do it", o)
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("not an origin (scheme://host[:port])")
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("an origin has no path, query, fragment or user")
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}
