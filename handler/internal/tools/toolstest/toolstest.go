// Package toolstest helps test MCP tools built with package tools: it calls
// a tool the way a client does (a JSON-RPC tools/call through the mcp-go
// server) and checks a result the way clients check it.
package toolstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
)

// CallTool sends tools/call for name with args through s and decodes the
// result from the JSON-RPC answer, as a client receives it. ctx must carry
// the caller (resource.WithTokenInfo).
func CallTool(ctx context.Context, s *server.MCPServer, name string, args any) (*mcp.CallToolResult, error) {
	req, err := json.Marshal(map[string]any{
		"jsonrpc": "2.0", "id": 1, "method": "tools/call",
		"params": map[string]any{"name": name, "arguments": args},
	})
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(s.HandleMessage(ctx, req))
	if err != nil {
		return nil, err
	}
	var resp struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("JSON-RPC error %d: %s", resp.Error.Code, resp.Error.Message)
	}
	return mcp.ParseCallToolResult(&resp.Result)
}

// CheckResult checks res against tool as MCP 2025-11-25 and the clients
// that validate (the TypeScript SDK) do: a successful result of a tool
// with an output schema carries structuredContent that validates against
// it, and text content; an error result carries text content and no
// structuredContent (the SDK validates structuredContent whenever it is
// present, error or not, and throws -32602 on a mismatch).
func CheckResult(tool mcp.Tool, res *mcp.CallToolResult) error {
	if testutil.ToolText(res) == "" {
		return errors.New("no text content: clients without structured output would show nothing")
	}
	if res.IsError {
		if res.StructuredContent != nil {
			return fmt.Errorf("error result with structuredContent %v", res.StructuredContent)
		}
		return nil
	}
	schema, err := outputSchema(tool)
	if err != nil || schema == nil {
		return err
	}
	if res.StructuredContent == nil {
		return errors.New("the tool has an output schema but the result has no structuredContent")
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return err
	}
	return Validate(schema, b)
}

// outputSchema is the tool's output schema as tools/list sends it, whether
// the tool was built here (RawOutputSchema) or read from a server.
func outputSchema(tool mcp.Tool) ([]byte, error) {
	b, err := json.Marshal(tool)
	if err != nil {
		return nil, err
	}
	var t struct {
		OutputSchema json.RawMessage `json:"outputSchema"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, err
	}
	return t.OutputSchema, nil
}

// Validate validates the JSON document doc against schema (JSON Schema
// 2020-12, MCP's default dialect).
func Validate(schema, doc []byte) error {
	s, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("tool.json", s); err != nil {
		return err
	}
	compiled, err := c.Compile("tool.json")
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return compiled.Validate(v)
}
