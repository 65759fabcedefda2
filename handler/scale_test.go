package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/cluster"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/headless"
)

// The multi-instance tests (issue 11): several handler processes on one
// Table Storage account, as Flex Consumption runs them when it scales out,
// behind one public URL (package cluster). State is shared only through the
// store, so every step of a flow must work on whichever instance gets it,
// and every single-use rule must hold across instances.

// startCluster starts a cluster of handler processes on the Azurite table
// storage the test command started. Memory cannot be shared between
// processes, so without Azurite the tests are skipped.
func startCluster(t *testing.T, opts cluster.Options) *cluster.Cluster {
	t.Helper()
	c, _ := startClusterLogs(t, opts)
	return c
}

// startClusterLogs is startCluster that also returns what the instances
// log, each line prefixed with the instance's name.
func startClusterLogs(t *testing.T, opts cluster.Options) (*cluster.Cluster, *syncBuffer) {
	t.Helper()
	conn := os.Getenv("AZURE_TABLES_TEST_CONNECTION")
	if conn == "" {
		t.Skip("several instances share state only through Table Storage: set AZURE_TABLES_TEST_CONNECTION (scripts/azurite.sh prints it)")
	}
	handlerExe, _ := binaries(t)
	logs := &syncBuffer{}
	opts.Handler, opts.Storage, opts.Logs, opts.Dir = handlerExe, conn, logs, t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, opts)
	if err != nil {
		t.Fatalf("cluster.Start: %v\n%s", err, logs.String())
	}
	t.Cleanup(func() {
		c.Close()
		if t.Failed() {
			t.Logf("instance output:\n%s", logs.String())
		}
	})
	return c, logs
}

// clusterClients returns a client for API requests and a browser
// transport that trusts the cluster's Entra emulator.
func clusterClients(t *testing.T, c *cluster.Cluster) (*http.Client, http.RoundTripper) {
	t.Helper()
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	browser := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	t.Cleanup(browser.CloseIdleConnections)
	api := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	return api, browser
}

// signedInClient registers a client and signs upn in through the front.
func signedInClient(t *testing.T, ctx context.Context, c *cluster.Cluster, upn string) (headless.Client, headless.Tokens) {
	t.Helper()
	api, browser := clusterClients(t, c)
	cl, err := headless.Register(ctx, api, c.URL, "Multi-instance test")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cl.SignIn(ctx, headless.NewBrowser(browser), c.URL, upn)
	if err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	return cl, tok
}

// TestScaleOutOneSignIn spreads one sign-in over three instances: register
// on A, authorize on B, consent on C, callback on A, token on B, /mcp on C.
// Nothing of the flow may live in one instance's memory.
func TestScaleOutOneSignIn(t *testing.T) {
	t.Parallel()
	c := startCluster(t, cluster.Options{Instances: 3})
	steps := map[string]int{"/register": 0, "/authorize": 1, "/consent": 2, "/callback": 0, "/token": 1, "/mcp": 2}
	c.Route(func(r *http.Request) int {
		if i, ok := steps[r.URL.Path]; ok {
			return i
		}
		return -1
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, tok := signedInClient(t, ctx, c, "MeganB@contoso.example")
	status, text, isErr, err := cl.CallTool(ctx, tok.AccessToken, "whoami")
	if err != nil || status != 200 || isErr || !strings.Contains(text, "Megan Bowen") {
		t.Fatalf("whoami on C = %d %q (tool error %v), %v", status, text, isErr, err)
	}
	for _, s := range []struct {
		inst, path string
		want       int
	}{
		{"A", "/register", 1}, {"B", "/authorize", 1}, {"C", "/consent", 2}, // GET the page, POST the decision
		{"A", "/callback", 1}, {"B", "/token", 1}, {"C", "/mcp", 1},
	} {
		if got := c.Served(s.inst, s.path); got != s.want {
			t.Errorf("%s served %s %d times, want %d", s.inst, s.path, got, s.want)
		}
	}
}

// race sends f to every instance at once and returns what each answered.
func raceInstances[T any](c *cluster.Cluster, f func(url string) T) []T {
	insts := c.Instances()
	out := make([]T, len(insts))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, in := range insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = f(in.URL)
		}()
	}
	close(start)
	wg.Wait()
	return out
}
