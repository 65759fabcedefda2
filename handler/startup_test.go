package main

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
)

// startupRootsHelper makes this test binary, run as a child process, load
// the system certificate pool and exit: the control that shows the FIFO
// trap below catches a read of the certificate store.
const startupRootsHelper = "STARTUP_TEST_LOAD_SYSTEM_ROOTS"

// TestStartupReadsNoCertificatesAndCallsNoOne starts the real binary the
// way the Functions host does and requires it to serve its first requests
// without reading the system certificate store and without a single
// outbound connection: start-up does only what the first request needs
// (cold start; README "Performance"). The certificate store is a FIFO with
// no writer (SSL_CERT_FILE, SSL_CERT_DIR), so a process that opens it
// blocks and never answers; every upstream (Entra, Graph, Table Storage,
// the managed identity endpoint, any proxied host) points at a listener
// that counts connections.
func TestStartupReadsNoCertificatesAndCallsNoOne(t *testing.T) {
	if os.Getenv(startupRootsHelper) == "1" {
		_, _ = x509.SystemCertPool()
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("uses FIFOs and the Linux certificate-store variables")
	}
	exe, _ := binaries(t)
	trap := certificateTrap(t)
	up, conns := countingListener(t)

	t.Run("the trap catches a read of the certificate store", func(t *testing.T) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStartupReadsNoCertificatesAndCallsNoOne$")
		cmd.Env = append(os.Environ(), startupRootsHelper+"=1")
		cmd.Env = append(cmd.Env, trap...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			t.Fatalf("loading the system roots finished (%v) instead of blocking on the FIFO", err)
		case <-time.After(time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})

	key, err := testSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := key.PEM()
	if err != nil {
		t.Fatal(err)
	}
	seal := make([]byte, 32)
	_, _ = rand.Read(seal)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	tlsSrv := httptest.NewTLSServer(nil) // only for a certificate to trust
	tlsSrv.Close()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw})
	if err := os.WriteFile(ca, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	azure := []string{
		"WEBSITE_INSTANCE_ID=startup-test", "WEBSITE_SITE_NAME=startup-test",
		"PUBLIC_BASE_URL=https://mcp.example.com",
		"MANAGED_IDENTITY_CLIENT_ID=33333333-3333-4333-8333-333333333333",
		// The managed identity endpoint of App Service and Functions.
		"IDENTITY_ENDPOINT=http://" + up + "/msi/token", "IDENTITY_HEADER=startup-test",
		"STORAGE_TABLE_ENDPOINT=https://" + up,
		"SIGNING_KEY=" + string(keyPEM), "SEALING_KEY=" + base64.StdEncoding.EncodeToString(seal),
	}
	for _, tc := range []struct {
		name string
		env  []string
	}{
		{"proxy in Azure", append([]string{"AUTH_MODE=proxy"}, azure...)},
		{"entra in Azure", append([]string{"AUTH_MODE=entra"}, azure...)},
		{"local with an upstream CA file", []string{"AUTH_MODE=proxy", "ENTRA_CLIENT_SECRET=local", "UPSTREAM_CA_FILE=" + ca}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := testutil.FreeAddr(t)
			env := append([]string{
				"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
				"FUNCTIONS_CUSTOMHANDLER_PORT=" + addr[strings.LastIndex(addr, ":")+1:],
				"ENTRA_TENANT_ID=11111111-1111-4111-8111-111111111111", "ENTRA_CLIENT_ID=22222222-2222-4222-8222-222222222222",
				"ENTRA_AUTHORITY_HOST=https://" + up, "GRAPH_BASE_URL=https://" + up,
				// Any request to a host not configured above would go here.
				"HTTPS_PROXY=http://" + up, "HTTP_PROXY=http://" + up, "NO_PROXY=",
				"LOG_LEVEL=debug",
			}, trap...)
			env = append(env, tc.env...)
			before := conns.Load()
			logs := startHandler(t, exe, env)
			base := "http://" + addr
			waitFor200(t, base+"/.well-known/oauth-protected-resource/mcp", logs)
			for _, path := range []string{"/.well-known/oauth-protected-resource", "/healthz", "/"} {
				resp, err := http.Get(base + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			time.Sleep(200 * time.Millisecond) // room for anything started in the background
			if n := conns.Load() - before; n != 0 {
				t.Errorf("start-up and the first requests opened %d outbound connections, want 0\n%s", n, logs.String())
			}
		})
	}
}

// certificateTrap returns SSL_CERT_FILE and SSL_CERT_DIR settings naming
// FIFOs nobody writes to.
func certificateTrap(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	file, certDir := filepath.Join(dir, "roots.pem"), filepath.Join(dir, "certs")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, filepath.Join(certDir, "root.pem")} {
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return []string{"SSL_CERT_FILE=" + file, "SSL_CERT_DIR=" + certDir}
}

// countingListener accepts and drops connections, counting them.
func countingListener(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return ln.Addr().String(), &n
}

func startHandler(t *testing.T, exe string, env []string) *syncBuffer {
	t.Helper()
	var logs syncBuffer
	cmd := exec.Command(exe)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return &logs
}

func waitFor200(t *testing.T, url string, logs *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 200 from %s within 5 s (%v): start-up blocked, e.g. opening the certificate store (a FIFO here)\n%s",
				url, err, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
