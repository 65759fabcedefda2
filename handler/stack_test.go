package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/apimemu"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/funchost"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
)

// The end-to-end tests run the system as it runs for users: the Entra
// emulator and the handler are separate processes built from this repo,
// and requests reach the handler as they do in Azure: through the APIM
// stand-in, which executes the real operation list and policy files, then
// funchost, which routes by the real function.json files, checks function
// keys and proxies like the Functions host.

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// binaries builds the handler and the emulator once per test run.
func binaries(t testing.TB) (handler, emulator string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test builds binaries; skipped with -short")
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "mcp-e2e-bin-")
		if binErr != nil {
			return
		}
		for pkg, name := range map[string]string{".": "handler", "./cmd/entra-emulator": "entra-emulator"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, name), pkg)
			if out, err := cmd.CombinedOutput(); err != nil {
				binErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "handler"), filepath.Join(binDir, "entra-emulator")
}

type emulatorProc struct {
	BaseURL string
	CAFile  string
}

// startEmulator runs the emulator binary on a free port and waits for its
// ready line.
func startEmulator(t *testing.T, exe string, redirectURIs ...string) emulatorProc {
	t.Helper()
	dir := t.TempDir()
	ca := filepath.Join(dir, "emulator-ca.pem")
	args := []string{"-addr", "127.0.0.1:0", "-cert-out", ca}
	for _, u := range redirectURIs {
		args = append(args, "-redirect-uri", u)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "entra-emulator: ready on "); ok {
				ready <- strings.Fields(rest)[0]
			}
		}
	}()
	select {
	case base := <-ready:
		return emulatorProc{BaseURL: base, CAFile: ca}
	case <-time.After(30 * time.Second):
		t.Fatalf("emulator not ready after 30s; stderr:\n%s", stderr.String())
	}
	return emulatorProc{}
}

type stack struct {
	BaseURL string // what clients use: the APIM stand-in's URL (PUBLIC_BASE_URL)
	HostURL string // funchost, behind the stand-in; it requires FunctionKey
	Emu     emulatorProc
	host    *funchost.Host
	// FunctionKey is the key funchost enforces and the stand-in injects
	// through api.xml's {{function-host-key}}.
	FunctionKey string
	// Logs is what the handler (and the stand-ins) wrote.
	Logs *syncBuffer
}

// startStack runs emulator + handler (behind funchost, behind the APIM
// stand-in) with env on top of the local defaults for the given mode.
func startStack(t *testing.T, mode string, env ...string) *stack {
	t.Helper()
	return startStackWith(t, mode, func(emulatorProc) []string { return env })
}

// startStackWith is startStack with settings that depend on the running
// emulator. The request path is the one in Azure: client → APIM stand-in
// (the real infra/apim-operations.json and infra/policies/*.xml) →
// funchost (function keys enforced) → handler.
func startStackWith(t *testing.T, mode string, envFor func(emulatorProc) []string) *stack {
	t.Helper()
	return startStackAPIM(t, mode, envFor, apimOptions{})
}

// apimOptions change the APIM stand-in's deployment, to break it on purpose
// (the doctor's tests).
type apimOptions struct {
	// infraDir replaces ../infra: a copy with an operation or a policy
	// taken out.
	infraDir string
	// namedValues adjusts the named values after they are derived from the
	// app settings, e.g. a stale function-host-key.
	namedValues func(map[string]string)
}

// startStackAPIM is startStackWith with the APIM stand-in deployed as o says.
func startStackAPIM(t *testing.T, mode string, envFor func(emulatorProc) []string, o apimOptions) *stack {
	t.Helper()
	handlerExe, emuExe := binaries(t)
	addr := testutil.FreeAddr(t)
	base := "http://" + addr
	emu := startEmulator(t, emuExe, base+"/callback")
	env := envFor(emu)
	vars := append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"AUTH_MODE=" + mode,
		"PUBLIC_BASE_URL=" + base,
		"ENTRA_TENANT_ID=" + entraemu.DevTenantID,
		"ENTRA_CLIENT_ID=" + entraemu.DevAppClientID,
		"ENTRA_CLIENT_SECRET=" + entraemu.DevAppClientSecret,
		"ENTRA_AUTHORITY_HOST=" + emu.BaseURL,
		"GRAPH_BASE_URL=" + emu.BaseURL,
		"UPSTREAM_CA_FILE=" + emu.CAFile,
		"LOG_LEVEL=debug",
		// As in Azure: the APIM stand-in appends the client's address to
		// X-Forwarded-For, funchost (as the platform's front end) the
		// stand-in's.
		"TRUSTED_PROXY_HOPS=2",
		// As scripts/dev.sh: MCP Inspector's web UI may call /mcp.
		"ALLOWED_ORIGINS=http://localhost:6274",
	}, env...)
	key := randomKey(t)
	logs := &syncBuffer{}
	h, err := funchost.Start(context.Background(), funchost.Options{
		AppDir:     "..",
		Executable: handlerExe,
		Env:        vars,
		Keys:       []string{key},
		Stdout:     logs,
		Stderr:     logs,
	})
	if err != nil {
		t.Fatalf("funchost.Start: %v", err)
	}
	t.Cleanup(func() {
		h.Close()
		if t.Failed() {
			t.Logf("handler output:\n%s", logs.String())
		}
	})
	settings := map[string]string{}
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		settings[k] = v
	}
	nv := apimemu.NamedValues(settings, key)
	if o.namedValues != nil {
		o.namedValues(nv)
	}
	if o.infraDir == "" {
		o.infraDir = "../infra"
	}
	startAPIM(t, addr, mode, o.infraDir, nv, h.URL(), emu.CAFile, logs)
	return &stack{BaseURL: base, HostURL: h.URL(), Emu: emu, host: h, FunctionKey: key, Logs: logs}
}

// startAPIM serves the APIM stand-in on addr in front of backend. It
// fetches openid-config documents trusting the emulator's certificate.
func startAPIM(t *testing.T, addr, mode, infraDir string, namedValues map[string]string, backend, caFile string, logs io.Writer) {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	g, err := apimemu.New(apimemu.Config{
		InfraDir:    infraDir,
		AuthMode:    mode,
		NamedValues: namedValues,
		Backends:    map[string]string{"function-app": backend},
		FetchClient: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
		Logger:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ErrServerClosed on Close
	t.Cleanup(func() { srv.Close(); g.Close() })
}

func randomKey(t *testing.T) string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// storageEnv points mode proxy at Azurite when the test command started
// it (AZURE_TABLES_TEST_CONNECTION), each test on its own table.
func storageEnv(t *testing.T) []string {
	conn := os.Getenv("AZURE_TABLES_TEST_CONNECTION")
	if conn == "" {
		t.Log("AZURE_TABLES_TEST_CONNECTION not set: state in memory")
		return nil
	}
	return []string{"STORAGE_CONNECTION_STRING=" + conn, fmt.Sprintf("STORAGE_TABLE_NAME=flow%d", time.Now().UnixNano()%1e9)}
}

// jsonField returns a top-level string field of a JSON object.
func jsonField(b []byte, name string) string {
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	s, _ := m[name].(string)
	return s
}
