// Package mcpserver builds the MCP server (mark3labs/mcp-go) and lists its
// tools. Each tool is a tools.Def in a file of its own (tool_*.go), built
// with the kit in package tools: it acts for the caller whose token the
// bearer middleware verified, and reaches Microsoft Graph or another API
// with a token obtained On-Behalf-Of the user, never with the client's own
// token (MCP authorization: no token passthrough). To add a tool, write its
// file and add it to Tools (see the README, "Add your own tool").
//
// stepup.go is the /mcp layer in front of mcp-go that answers a tools/call
// whose tool needs a scope the token lacks with the 403 insufficient_scope
// challenge (MCP 2025-11-25, "Scope Challenge Handling"; RFC 6750 §3.1).
// It and Handler read the body through one bound (body.go,
// MCP_MAX_BODY_BYTES), and only once.
package mcpserver
