package mcpserver

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools"
)

// TestStreamEndsWithItsAuthorization: an answer that has become a stream
// (a tool sending notifications) ends within the recheck interval once
// the caller's authorization ends, on the lean path and through mcp-go's
// transport (a progress token takes the call there); a stream whose
// authorization holds runs to the tool's result.
func TestStreamEndsWithItsAuthorization(t *testing.T) {
	const every = 50 * time.Millisecond
	type done struct {
		Ticks int `json:"ticks"`
	}
	ticker := tools.New(tools.Tool[struct{}, done]{
		Name: "ticker", Description: "Sends a notification every 20 ms for 1 s.", Hints: tools.Hints{ReadOnly: true, Idempotent: true},
		Run: func(ctx context.Context, _ *tools.Call, _ struct{}) (done, error) {
			srv := server.ServerFromContext(ctx)
			for i := range 50 {
				if err := srv.SendNotificationToClient(ctx, "notifications/message", map[string]any{"level": "info", "data": i}); err != nil {
					return done{}, err
				}
				select {
				case <-ctx.Done():
					return done{}, ctx.Err()
				case <-time.After(20 * time.Millisecond):
				}
			}
			return done{50}, nil
		},
	})
	core := server.NewMCPServer("t", "1", server.WithToolCapabilities(false))
	reg, err := tools.Register(core, tools.Options{BaseScope: "mcp:tools", Scopes: []config.ToolScope{{Name: "mcp:tools"}}}, ticker)
	if err != nil {
		t.Fatal(err)
	}
	var revoked atomic.Bool
	h := NewHandler(core, reg, HandlerOptions{BehindProxy: true, RecheckEvery: every,
		Ended: func(ctx context.Context) bool { _, ok := resource.TokenInfoFrom(ctx); return !ok || revoked.Load() }})
	caller := &resource.TokenInfo{Subject: "u1", Scopes: []string{"mcp:tools"}, Expiry: time.Now().Add(time.Hour)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(resource.WithTokenInfo(r.Context(), caller)))
	}))
	t.Cleanup(srv.Close)

	for _, tt := range []struct {
		name, params string
		revoke       bool
	}{
		{"lean path, revoked", `{"name":"ticker"}`, true},
		{"transport, revoked", `{"name":"ticker","_meta":{"progressToken":"p"}}`, true},
		{"lean path, authorized", `{"name":"ticker"}`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			revoked.Store(false)
			body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":` + tt.params + `}`
			req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
				t.Fatalf("Content-Type %q: not a stream", ct)
			}
			sc := bufio.NewScanner(resp.Body)
			events, result := 0, false
			var cut time.Time
			for sc.Scan() {
				line := sc.Text()
				if strings.HasPrefix(line, "data: ") {
					events++
					result = result || strings.Contains(line, `"result"`)
				}
				if events == 3 && tt.revoke && cut.IsZero() {
					revoked.Store(true) // the grant is revoked while the stream runs
					cut = time.Now()
				}
			}
			switch {
			case tt.revoke && result:
				t.Errorf("the stream ran to its result (%d events) after the revocation", events)
			case tt.revoke && time.Since(cut) > 10*every:
				t.Errorf("the stream ended %s after the revocation, want within the recheck interval (%s)", time.Since(cut), every)
			case !tt.revoke && (!result || events != 51):
				t.Errorf("authorized stream: %d events, result %v; want 50 notifications and the result", events, result)
			}
		})
	}
}
