// Package tools is the kit for MCP tools that act for the signed-in user.
//
// A tool is a Tool[In, Out] value: its name, description, annotations
// (Hints: every hint of MCP 2025-11-25's ToolAnnotations set on purpose),
// the scopes it needs (our scope names, mapped to Microsoft Entra delegated
// permissions by TOOL_SCOPES), and Run, which gets the caller and a Call
// whose OnBehalfOf returns a token for a downstream API on the user's
// behalf (the OAuth 2.0 On-Behalf-Of flow, RFC 7523 jwt-bearer with
// Entra's requested_token_use=on_behalf_of). New derives the input and
// output JSON Schemas from In and Out; Register checks every tool and adds
// it to the mcp-go server.
//
// Results follow MCP 2025-11-25 (server/tools): a successful Run becomes
// structuredContent conforming to the output schema, plus the same JSON as
// text; any error becomes a tool execution error (isError: true) with text
// content only and no structuredContent, so it never contradicts the output
// schema (clients such as the TypeScript SDK validate structuredContent
// whenever it is present). When Entra has no consent for a permission, the
// text tells the user and carries the admin-consent URL. The client's own
// token never reaches a tool (no token passthrough); tools see the Caller.
//
// A tool talks to its client only through its result: the kit offers no
// server-to-client requests (elicitation, sampling, roots) and no HTTP
// headers. Package mcpserver relies on that to answer a kit tool's calls
// without mcp-go's transport (mcpserver.Handler); a tool that needs either
// is added to the mcp-go server directly and goes through the transport.
//
// The README's "Add your own tool" section walks through a complete tool;
// example_test.go holds it and a test keeps the README's copy identical.
package tools
