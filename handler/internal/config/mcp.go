package config

import "strconv"

// Settings of the MCP endpoint (issue 8 "Hardening": resource server).
const (
	// EnvMCPMaxBody bounds the body of a request to /mcp, in bytes.
	EnvMCPMaxBody = "MCP_MAX_BODY_BYTES"
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
}
