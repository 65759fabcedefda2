package doctor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// mcpSession speaks MCP streamable HTTP as plain JSON-RPC. A client library
// would hide the HTTP answers behind errors; the doctor needs each one's
// status and headers to name the layer that wrote it.
type mcpSession struct {
	d         *Doctor
	token     string
	protocol  string // negotiated in initialize; sent on every later request
	sessionID string // only when the server hands one out
}

// rpcResponse is a JSON-RPC 2.0 response.
type rpcResponse struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// post sends one JSON-RPC message; id < 0 sends a notification.
func (s *mcpSession) post(ctx context.Context, id int, method string, params any) (answer, *rpcResponse, error) {
	msg := map[string]any{"jsonrpc": "2.0", "method": method}
	if params != nil {
		msg["params"] = params
	}
	if id >= 0 {
		msg["id"] = id
	}
	body, _ := json.Marshal(msg)
	h := http.Header{
		"Content-Type":  {"application/json"},
		"Accept":        {"application/json, text/event-stream"},
		"Authorization": {"Bearer " + s.token},
	}
	if s.protocol != "" {
		h.Set("Mcp-Protocol-Version", s.protocol)
	}
	if s.sessionID != "" {
		h.Set("Mcp-Session-Id", s.sessionID)
	}
	a := s.d.send(ctx, http.MethodPost, s.d.opts.MCPURL, request{Header: h, Body: string(body)})
	if a.Err != nil || id < 0 || a.Status != http.StatusOK {
		return a, nil, a.Err
	}
	if sid := a.Header.Get("Mcp-Session-Id"); sid != "" {
		s.sessionID = sid
	}
	resp, err := decodeRPC(a, id)
	return a, resp, err
}

// decodeRPC finds the response to id in a JSON body or an SSE stream (the
// server may answer a POST either way).
func decodeRPC(a answer, id int) (*rpcResponse, error) {
	want := fmt.Sprint(id)
	try := func(b []byte) *rpcResponse {
		var r rpcResponse
		if json.Unmarshal(b, &r) == nil && string(r.ID) == want {
			return &r
		}
		return nil
	}
	ct, _, _ := mime.ParseMediaType(a.Header.Get("Content-Type"))
	if ct != "text/event-stream" {
		if r := try(a.Body); r != nil {
			return r, nil
		}
		return nil, fmt.Errorf("no JSON-RPC response with id %s: %s", want, a.snippet())
	}
	var data bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(a.Body))
	sc.Buffer(make([]byte, 64<<10), maxBody)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "data:"); ok {
			data.WriteString(strings.TrimPrefix(rest, " "))
			data.WriteByte('\n')
			continue
		}
		if line == "" && data.Len() > 0 {
			if r := try(data.Bytes()); r != nil {
				return r, nil
			}
			data.Reset()
		}
	}
	if r := try(data.Bytes()); r != nil {
		return r, nil
	}
	return nil, fmt.Errorf("no JSON-RPC response with id %s in the event stream", want)
}

// initialize runs the MCP handshake (initialize, then the initialized
// notification).
func (s *mcpSession) initialize(ctx context.Context) (answer, error) {
	a, resp, err := s.post(ctx, 1, "initialize", map[string]any{
		"protocolVersion": "2025-06-18",
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]string{"name": "entra-mcp-doctor", "version": "1"},
	})
	if err != nil || resp == nil {
		return a, err
	}
	if resp.Error != nil {
		return a, fmt.Errorf("initialize: JSON-RPC error %d %s", resp.Error.Code, resp.Error.Message)
	}
	var res struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	_ = json.Unmarshal(resp.Result, &res)
	s.protocol = res.ProtocolVersion
	n, _, err := s.post(ctx, -1, "notifications/initialized", nil)
	if err == nil && n.Status != http.StatusAccepted && n.Status != http.StatusOK {
		return n, fmt.Errorf("notifications/initialized answered %d", n.Status)
	}
	return a, err
}

// toolResult is an MCP CallToolResult.
type toolResult struct {
	IsError           bool            `json:"isError"`
	StructuredContent json.RawMessage `json:"structuredContent"`
	Content           []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
}

func (r toolResult) text() string {
	var parts []string
	for _, c := range r.Content {
		if c.Type == "text" {
			parts = append(parts, c.Text)
		}
	}
	return strings.Join(parts, " ")
}

// callTool calls a tool without arguments.
func (s *mcpSession) callTool(ctx context.Context, name string) (answer, *toolResult, error) {
	a, resp, err := s.post(ctx, 2, "tools/call", map[string]any{"name": name, "arguments": map[string]any{}})
	if err != nil || resp == nil {
		return a, nil, err
	}
	if resp.Error != nil {
		return a, nil, fmt.Errorf("tools/call %s: JSON-RPC error %d %s", name, resp.Error.Code, resp.Error.Message)
	}
	var tr toolResult
	if err := json.Unmarshal(resp.Result, &tr); err != nil {
		return a, nil, fmt.Errorf("tools/call %s: %v", name, err)
	}
	return a, &tr, nil
}
