package mcpserver

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools"
)

// countingReader yields n bytes of padding after prefix and counts what
// was read from it.
type countingReader struct {
	prefix string
	n, off int64
	read   int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.off >= c.n {
		return 0, io.EOF
	}
	m := min(int64(len(p)), c.n-c.off)
	for i := range m {
		if j := c.off + i; j < int64(len(c.prefix)) {
			p[i] = c.prefix[j]
		} else {
			p[i] = ' '
		}
	}
	c.off += m
	c.read += m
	return int(m), nil
}

// TestBodyLimit: a body over MaxBody is answered 413 with a JSON-RPC error
// before mcp-go sees it, and is never read whole: not at all when its
// Content-Length says so, at most MaxBody+1 bytes when it is chunked (a
// 300 MB body took the process from 23 MB to ~790 MB before). A body of
// exactly MaxBody passes, on the lean path, through the transport, and
// through StepUp in front of them.
func TestBodyLimit(t *testing.T) {
	const limit = 8 << 10
	core, reg, err := New(Options{Name: "t", Version: "1", Tools: tools.Options{BaseScope: "mcp:tools",
		Scopes: []config.ToolScope{{Name: "mcp:tools"}, {Name: "mail.read"}}}})
	if err != nil {
		t.Fatal(err)
	}
	ping := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	tests := []struct {
		name       string
		size       int64
		declared   bool // Content-Length set to size; else chunked (-1)
		wantStatus int
		maxRead    int64
	}{
		{"300 MB declared", 300 << 20, true, http.StatusRequestEntityTooLarge, 0},
		{"300 MB chunked", 300 << 20, false, http.StatusRequestEntityTooLarge, limit + 1},
		{"one byte over, declared", limit + 1, true, http.StatusRequestEntityTooLarge, 0},
		{"one byte over, chunked", limit + 1, false, http.StatusRequestEntityTooLarge, limit + 1},
		{"exactly the limit", limit, true, http.StatusOK, limit},
		{"exactly the limit, chunked", limit, false, http.StatusOK, limit},
	}
	// The lean path, the transport for everything, and StepUp in front
	// reading the body first for a token without every scope (server.go's
	// chain): each reads under the same limit and answers alike.
	lean := NewHandler(core, reg, HandlerOptions{BehindProxy: true, MaxBody: limit})
	chains := []struct {
		path string
		h    http.Handler
	}{
		{"lean path", lean},
		{"transport", NewHandler(core, reg, HandlerOptions{BehindProxy: false, MaxBody: limit})},
		{"step-up", StepUp(policy, resource.Challenge{ResourceMetadataURL: prm}, limit, slog.New(slog.DiscardHandler))(lean)},
	}
	for _, c := range chains {
		h, path := c.h, c.path
		for _, tt := range tests {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				body := &countingReader{prefix: ping, n: tt.size}
				r := httptest.NewRequest(http.MethodPost, "/mcp", body)
				r.ContentLength = -1
				if tt.declared {
					r.ContentLength = tt.size
				}
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("Accept", "application/json, text/event-stream")
				r = r.WithContext(resource.WithTokenInfo(r.Context(), &resource.TokenInfo{Scopes: []string{"mcp:tools"}}))
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				if rec.Code != tt.wantStatus {
					t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
				}
				if body.read > tt.maxRead {
					t.Errorf("read %d bytes of the body, want at most %d", body.read, tt.maxRead)
				}
				if tt.wantStatus == http.StatusOK {
					return
				}
				var resp struct {
					JSONRPC string          `json:"jsonrpc"`
					ID      json.RawMessage `json:"id"`
					Error   struct {
						Code    int    `json:"code"`
						Message string `json:"message"`
					} `json:"error"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.JSONRPC != "2.0" || string(resp.ID) != "null" ||
					resp.Error.Code != mcp.INVALID_REQUEST || !strings.Contains(resp.Error.Message, "larger than 8192 bytes") {
					t.Errorf("body %s (%v), want a JSON-RPC error without an id", rec.Body, err)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
			})
		}
	}
}
