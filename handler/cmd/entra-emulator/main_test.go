package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
)

// TestRunPrintsReadyLineAndServes starts the command on a free port, waits
// for the ready line, trusts the written certificate, reads discovery and
// stops it by cancelling the context (what SIGINT does).
func TestRunPrintsReadyLineAndServes(t *testing.T) {
	certFile := filepath.Join(t.TempDir(), "emulator.pem")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-cert-out", certFile, "-redirect-uri", "http://127.0.0.1:9999/cb"}, pw, io.Discard)
		pw.Close()
	}()

	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		if sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, pr)
	}()
	var line string
	select {
	case line = <-lines:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no ready line")
	}
	m := regexp.MustCompile(`^entra-emulator: ready on (https://127\.0\.0\.1:(\d+)) tenant (\S+)$`).FindStringSubmatch(line)
	if m == nil || m[2] == "0" || m[3] != entraemu.DevTenantID {
		t.Fatalf("ready line %q", line)
	}
	base := m[1]

	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("cert-out is not PEM")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
	for _, host := range []string{base, "https://localhost:" + m[2]} {
		resp, err := client.Get(host + "/" + entraemu.DevTenantID + "/v2.0/.well-known/openid-configuration")
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", host, resp.StatusCode)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	if err := run(context.Background(), []string{"-nope"}, io.Discard, io.Discard); err == nil {
		t.Fatal("unknown flag accepted")
	}
	if err := run(context.Background(), []string{"-redirect-uri", "not a uri"}, io.Discard, io.Discard); err == nil {
		t.Fatal("bad redirect URI accepted")
	}
}
