package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/server"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/mcpserver"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/reqlog"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools"
)

// In-process benchmarks: allocations per request, refresh latency, and
// CPU profiles. scripts/bench.sh runs some of them; the throughput figures
// come from the real processes there (BENCHMARKS.md). Reproduce with
//
//	go test -run '^$' -bench . -benchmem ./handler/

const toolsCall = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"auth_info","arguments":{}}}`

// benchServer is the real handler in mode proxy (memory store) with one
// grant and a valid access token for it.
func benchServer(b *testing.B) (*server, string) {
	b.Helper()
	// As deployed: behind the Functions host.
	srv := plainServer(b, benchLogger(), map[string]string{"BEHIND_FUNCTIONS_HOST": "true"})
	g := store.Grant{ID: tokens.NewOpaque(), ClientID: "bench-client", Subject: "a0a0a0a0-0000-4000-8000-000000000001",
		Name: "Adele Vance", Scope: "mcp:tools", ExpiresAt: time.Now().Add(time.Hour)}
	if err := srv.store.CreateGrant(context.Background(), g); err != nil {
		b.Fatal(err)
	}
	tok, _, err := srv.issuer.Mint(tokens.AccessClaims{Subject: g.Subject, ClientID: g.ClientID, Scope: g.Scope, GrantID: g.ID})
	if err != nil {
		b.Fatal(err)
	}
	return srv.server, tok
}

func mcpRequest(token string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(toolsCall))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

func serveParallel(b *testing.B, h http.Handler, token string) {
	b.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, mcpRequest(token))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Adele Vance") {
		b.Fatalf("warm-up: %d %s", rec.Code, rec.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, mcpRequest(token))
			if rec.Code != 200 {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
}

// BenchmarkToolsCall compares the three handlers on the same request.
func BenchmarkToolsCall(b *testing.B) {
	srv, token := benchServer(b)

	// The bytes an authenticated tools/call auth_info returns.
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, mcpRequest(token))
	body, ctype := rec.Body.Bytes(), rec.Header().Get("Content-Type")

	b.Run("bare-net-http", func(b *testing.B) {
		bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", ctype)
			_, _ = w.Write(body)
		})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				bare.ServeHTTP(httptest.NewRecorder(), mcpRequest(token))
			}
		})
	})

	b.Run("mcp-go-unauthenticated", func(b *testing.B) {
		// The same stack (request log, mux, mcp-go, tools) with the caller
		// injected instead of authenticated: the difference to
		// "authenticated" is what authentication costs.
		ti := &resource.TokenInfo{Subject: "a0a0a0a0-0000-4000-8000-000000000001", Name: "Adele Vance", Scopes: []string{"mcp:tools"}}
		mcpSrv, _, err := mcpserver.New(mcpserver.Options{Name: "bench", Version: "1", Tools: tools.Options{
			BaseScope: "mcp:tools", Scopes: []config.ToolScope{{Name: "mcp:tools"}, {Name: "mail.read"}}, Logger: slog.New(slog.DiscardHandler),
		}})
		if err != nil {
			b.Fatal(err)
		}
		s := mcpgo.NewStreamableHTTPServer(mcpSrv, mcpgo.WithStateLess(true))
		mux := http.NewServeMux()
		mux.Handle("POST /mcp", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.ServeHTTP(w, r.WithContext(resource.WithTokenInfo(r.Context(), ti)))
		}))
		serveParallel(b, reqlog.Middleware(benchLogger(), mux), "")
	})

	b.Run("authenticated", func(b *testing.B) {
		serveParallel(b, srv, token)
	})
}

// BenchmarkRefresh measures /token refresh_token rotations end to end in
// the handler (memory store; Azurite when AZURE_TABLES_TEST_CONNECTION is
// set) and reports the p99 latency.
func BenchmarkRefresh(b *testing.B) {
	for _, backend := range []string{"memory", "azurite"} {
		b.Run(backend, func(b *testing.B) {
			env := map[string]string{}
			if backend == "azurite" {
				conn := os.Getenv("AZURE_TABLES_TEST_CONNECTION")
				if conn == "" {
					b.Skip("set AZURE_TABLES_TEST_CONNECTION (bash scripts/azurite.sh prints it)")
				}
				env["STORAGE_CONNECTION_STRING"] = conn
				env["STORAGE_TABLE_NAME"] = fmt.Sprintf("bench%d", time.Now().UnixNano()%1e9)
			}
			srv := plainServer(b, benchLogger(), env)
			ctx := context.Background()
			if err := srv.store.CreateClient(ctx, store.Client{ID: "bench-client", RedirectURIs: []string{"http://127.0.0.1/cb"}, TokenEndpointAuthMethod: "none",
				GrantTypes: []string{"authorization_code", "refresh_token"}}); err != nil {
				b.Fatal(err)
			}
			g := store.Grant{ID: tokens.NewOpaque(), ClientID: "bench-client", Subject: "s", Scope: "mcp:tools", ExpiresAt: time.Now().Add(time.Hour)}
			if err := srv.store.CreateGrant(ctx, g); err != nil {
				b.Fatal(err)
			}
			rt := tokens.NewRefresh(g.ID)
			if err := srv.store.PutRefresh(ctx, store.RefreshToken{Hash: tokens.Hash(rt), GrantID: g.ID, ClientID: g.ClientID, Scope: g.Scope, ExpiresAt: g.ExpiresAt}); err != nil {
				b.Fatal(err)
			}
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				form := "grant_type=refresh_token&client_id=bench-client&refresh_token=" + rt
				r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				rec := httptest.NewRecorder()
				start := time.Now()
				srv.ServeHTTP(rec, r)
				lat = append(lat, time.Since(start))
				if rec.Code != 200 {
					b.Fatalf("refresh %d: %d %s", i, rec.Code, rec.Body)
				}
				rt = jsonField(rec.Body.Bytes(), "refresh_token")
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		})
	}
}

// BenchmarkColdStart measures process start to the first answer of the
// protected resource metadata, the way the Functions host starts us.
func BenchmarkColdStart(b *testing.B) {
	exe, _ := binaries(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		addr := testutil.FreeAddr(b)
		port := addr[strings.LastIndex(addr, ":")+1:]
		cmd := exec.Command(exe)
		cmd.Env = []string{"FUNCTIONS_CUSTOMHANDLER_PORT=" + port, "AUTH_MODE=proxy",
			"ENTRA_TENANT_ID=11111111-1111-4111-8111-111111111111", "ENTRA_CLIENT_ID=22222222-2222-4222-8222-222222222222",
			"ENTRA_CLIENT_SECRET=x", "LOG_LEVEL=warn"}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		b.StartTimer()
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		url := "http://" + addr + "/.well-known/oauth-protected-resource/mcp"
		for {
			resp, err := http.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Since(start) > 10*time.Second {
				b.Fatalf("no answer after 10s: %v\n%s", err, stderr.String())
			}
			time.Sleep(200 * time.Microsecond)
		}
		b.StopTimer()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		b.StartTimer()
	}
}

// benchLogger is a JSON logger writing nowhere: logging costs what it
// costs in Azure.
func benchLogger() *slog.Logger {
	return slog.New(reqlog.ContextHandler{Handler: slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})})
}

// BenchmarkToolsCallHTTP is the same comparison over real loopback HTTP
// (keep-alive connections, the client on the same two cores as the server, as
// a load tool would be): what "throughput on this machine" means in the
// README's Performance section.
func BenchmarkToolsCallHTTP(b *testing.B) {
	srv, token := benchServer(b)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, mcpRequest(token))
	body, ctype := rec.Body.Bytes(), rec.Header().Get("Content-Type")
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", ctype)
		_, _ = w.Write(body)
	})
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"bare-net-http", bare}, {"authenticated", srv}} {
		b.Run(tc.name, func(b *testing.B) {
			ts := httptest.NewServer(tc.h)
			defer ts.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodPost, ts.URL+"/mcp", strings.NewReader(toolsCall))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Accept", "application/json, text/event-stream")
					req.Header.Set("Authorization", "Bearer "+token)
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.StopTimer()
			// Server and client share this process, so this is an upper bound
			// on the server's resident memory under the load just applied.
			b.ReportMetric(procStatusMB(b, "VmRSS"), "rss-MB")
			b.ReportMetric(procStatusMB(b, "VmHWM"), "peak-rss-MB")
		})
	}
}

// procStatusMB reads a memory figure (kB) from /proc/self/status, in MB.
func procStatusMB(b *testing.B, field string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(rest), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}
