// Package mcpserver builds the MCP server (mark3labs/mcp-go) and its tools.
// Every tool acts for the caller whose token the bearer middleware verified
// (resource.TokenInfoFrom); tools that reach Microsoft Graph do so with a
// token obtained through On-Behalf-Of, never with the client's own token
// (MCP authorization: no token passthrough).
package mcpserver
