package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
)

// TestMCPRemote runs mcp-remote (npm), the stdio proxy desktop hosts such as
// Claude Desktop start for a remote server, as a host does: a child process
// speaking MCP on stdin and stdout. It meets the 401, discovers the
// metadata, registers, opens the browser ($BROWSER: this test binary,
// walking the consent page and the emulator's sign-in as TestMain
// describes), receives the code on its loopback listener, redeems it, and
// then forwards initialize and tools/call whoami.
func TestMCPRemote(t *testing.T) {
	nodePackage(t, "mcp-remote")
	st := startStack(t, "proxy", storageEnv(t)...)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	_, port, _ := strings.Cut(testutil.FreeAddr(t), ":")
	cmd := exec.CommandContext(ctx, "node", "../node_modules/mcp-remote/dist/proxy.js", st.BaseURL+"/mcp", port, "--allow-http")
	cmd.Env = append(os.Environ(),
		"MCP_REMOTE_CONFIG_DIR="+t.TempDir(), // no tokens from another run
		"BROWSER="+self,
		"DOCTOR_TEST_BROWSER_UPN=MeganB@contoso.example",
		"DOCTOR_TEST_BROWSER_CA="+st.Emu.CAFile,
		"DISPLAY=", "WAYLAND_DISPLAY=", // xdg-open then runs $BROWSER
	)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("mcp-remote's log:\n%s", stderr.String())
		}
	})
	rpc := newStdioRPC(stdin, stdout)

	init, err := rpc.call(ctx, "initialize", `{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"host-under-test","version":"1"}}`)
	if err != nil {
		t.Fatalf("initialize through mcp-remote: %v", err)
	}
	if !strings.Contains(string(init), `"serverInfo"`) {
		t.Fatalf("initialize result %s", init)
	}
	rpc.notify("notifications/initialized")
	res, err := rpc.call(ctx, "tools/call", `{"name":"whoami","arguments":{}}`)
	if err != nil {
		t.Fatalf("tools/call whoami through mcp-remote: %v", err)
	}
	var who struct {
		IsError           bool
		StructuredContent struct{ DisplayName string }
	}
	if err := json.Unmarshal(res, &who); err != nil || who.IsError || who.StructuredContent.DisplayName != "Megan Bowen" {
		t.Fatalf("whoami = %s (%v)", res, err)
	}
	// It registered itself and redeemed a code: a sign-in of its own, not
	// a token from elsewhere.
	logs := st.Logs.String()
	if !regexp.MustCompile(`msg=audit event=client.registered .*client_name="MCP CLI Proxy"`).MatchString(logs) ||
		!strings.Contains(logs, `msg=audit event=tokens.issued`) {
		t.Errorf("no registration and token issue by mcp-remote in the handler's log")
	}
}

// nodePackage skips the test unless node and the npm package are installed
// (scripts/test.sh runs npm ci).
func nodePackage(t *testing.T, pkg string) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	if _, err := os.Stat("../node_modules/" + pkg); err != nil {
		t.Skipf("%s is not installed (scripts/test.sh runs npm ci)", pkg)
	}
}

// stdioRPC speaks newline-delimited JSON-RPC with a child process, as MCP's
// stdio transport does.
type stdioRPC struct {
	w     io.Writer
	lines chan []byte
	next  int
}

func newStdioRPC(w io.Writer, r io.Reader) *stdioRPC {
	s := &stdioRPC{w: w, lines: make(chan []byte, 16)}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			s.lines <- append([]byte(nil), sc.Bytes()...)
		}
		close(s.lines)
	}()
	return s
}

func (s *stdioRPC) notify(method string) {
	_, _ = fmt.Fprintf(s.w, `{"jsonrpc":"2.0","method":%q}`+"\n", method)
}

// call sends a request and returns its result, skipping whatever else the
// server sends meanwhile (notifications, requests).
func (s *stdioRPC) call(ctx context.Context, method, params string) (json.RawMessage, error) {
	s.next++
	id := s.next
	if _, err := fmt.Fprintf(s.w, `{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`+"\n", id, method, params); err != nil {
		return nil, err
	}
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case line, ok := <-s.lines:
			if !ok {
				return nil, io.ErrUnexpectedEOF
			}
			var m struct {
				ID     json.RawMessage
				Result json.RawMessage
				Error  *struct {
					Code    int
					Message string
				}
			}
			if json.Unmarshal(line, &m) != nil || string(m.ID) != strconv.Itoa(id) {
				continue
			}
			if m.Error != nil {
				return nil, fmt.Errorf("JSON-RPC error %d: %s", m.Error.Code, m.Error.Message)
			}
			return m.Result, nil
		}
	}
}
