package main

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/headless"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/oauth"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
)

// TestStoreOperationCounts counts the Table Storage transactions of each
// request of a sign-in, a refresh, a tool call and a revocation, as they
// reach Azurite (through testutil.TableFaults, which sees every request),
// and holds docs/scale.md's table to them: the capacity arithmetic there
// rests on these numbers, so they must stay true. After a change that
// moves them, `go test -run TestStoreOperationCounts -update .` rewrites
// the table (and the arithmetic needs a look).
func TestStoreOperationCounts(t *testing.T) {
	conn := os.Getenv("AZURE_TABLES_TEST_CONNECTION")
	if conn == "" {
		t.Skip("counts Table Storage requests: set AZURE_TABLES_TEST_CONNECTION (scripts/azurite.sh prints it)")
	}
	proxy := testutil.StartTableFaults(t, conn)
	ts := newTestServer(t, func(env map[string]string) {
		env["STORAGE_CONNECTION_STRING"] = proxy.ConnectionString(conn)
		env["STORAGE_TABLE_NAME"] = "ops" + rand.Text()[:12]
	})
	ctx := t.Context()
	m := &opMeter{proxy: proxy, counts: map[string]*opCount{"pending": {}}}
	api, browser := ts.clients(t, m)

	signIn := func(upn string) (headless.Client, headless.Tokens) {
		cl, err := headless.Register(ctx, api, ts.BaseURL, "Operation count")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := cl.SignIn(ctx, headless.NewBrowser(browser), ts.BaseURL, upn)
		if err != nil {
			t.Fatal(err)
		}
		return cl, tok
	}
	// The first sign-in creates the table, which costs requests no
	// later one does.
	signIn("AlexW@contoso.example")
	m.reset()

	cl, tok := signIn("AdeleV@contoso.example")
	m.label("sign-in")
	call := func(label, tool string) {
		if status, text, isErr, err := cl.CallTool(ctx, tok.AccessToken, tool); err != nil || status != 200 || isErr {
			t.Fatalf("%s: %d %q %v", tool, status, text, err)
		}
		m.label(label)
	}
	ts.clock.Advance(oauth.GrantCheckInterval)
	call("tools/call, grant read (once per instance and grant-check interval)", "auth_info")
	call("tools/call, grant trusted (within the interval)", "whoami")
	// Entra's access token lasts an hour; a tool that needs it after
	// that refreshes it and writes the grant back.
	ts.clock.Advance(59 * time.Minute)
	call("tools/call, Entra token refreshed (once per user and hour)", "whoami")
	next, err := cl.Refresh(ctx, tok.RefreshToken)
	if err != nil || next.Status != 200 {
		t.Fatalf("refresh: %+v %v", next, err)
	}
	m.label("refresh")
	if err := cl.Revoke(ctx, next.RefreshToken); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	m.label("revoke")

	// What sign-ins leave behind is purged once it has expired. Measured
	// after one and after three sign-ins, each on a fresh table, so the
	// difference is what a sign-in adds (docs/scale.md).
	for _, n := range []int{1, 3} {
		records, c := purgeCost(t, n)
		c.steps = []string{fmt.Sprintf("DeleteExpired until done: %d records", records)}
		label := fmt.Sprintf("purge, once expired, of what %d sign-in(s) with one refresh each left", n)
		m.counts[label] = c
		m.order = append(m.order, label)
	}

	testutil.GoldenSection(t, "../docs/scale.md", "<!-- store-ops:begin", "<!-- store-ops:end", m.table())
}

// opMeter attributes the Table Storage requests the proxy saw to the
// request of ours that caused them: requests are made one at a time, and
// the handler makes its store calls before it answers.
type opMeter struct {
	proxy  *testutil.TableFaults
	mu     sync.Mutex
	order  []string
	counts map[string]*opCount // by label; "pending": since the last label
}

// opCount is what one operation costs, by kind of Table transaction.
type opCount struct {
	steps                           []string
	reads, queries, writes, deletes int
}

func (c *opCount) total() int { return c.reads + c.queries + c.writes + c.deletes }

func (m *opMeter) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.proxy.Log()
	m.order, m.counts = nil, map[string]*opCount{"pending": {}}
}

// RoundTrip sends r and charges the Table requests made meanwhile to it.
func (m *opMeter) RoundTrip(r *http.Request) (*http.Response, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.proxy.Log()
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	m.charge(r.Method+" "+r.URL.Path, m.proxy.Log())
	return resp, err
}

// charge counts the Table requests in log as part of step.
func (m *opMeter) charge(step string, log []testutil.TableExchange) {
	pending := m.counts["pending"]
	for _, e := range log {
		switch {
		case e.Method == http.MethodGet && strings.Contains(e.Path, "PartitionKey="):
			pending.reads++
		case e.Method == http.MethodGet:
			pending.queries++
		case e.Method == http.MethodDelete:
			pending.deletes++
		default:
			pending.writes++
		}
	}
	pending.steps = append(pending.steps, fmt.Sprintf("%s (%d)", step, len(log)))
}

// label names what was counted since the last label.
func (m *opMeter) label(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts[name] = m.counts["pending"]
	m.counts["pending"] = &opCount{}
	m.order = append(m.order, name)
}

// table renders the counts as docs/scale.md shows them.
func (m *opMeter) table() string {
	var b strings.Builder
	b.WriteString("| operation | point reads | queries | writes | deletes | Table transactions | our requests (transactions each) |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, name := range m.order {
		c := m.counts[name]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | **%d** | %s |\n", name, c.reads, c.queries, c.writes, c.deletes, c.total(), strings.Join(c.steps, ", "))
	}
	return b.String()
}

// clients returns an API client and a browser transport for ts that send
// what is for ts through ours; the browser trusts the emulator.
func (ts *testServer) clients(t *testing.T, ours http.RoundTripper) (*http.Client, http.RoundTripper) {
	t.Helper()
	pem, err := os.ReadFile(ts.Emu.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	emu := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	t.Cleanup(emu.CloseIdleConnections)
	browser := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Scheme == "https" { // the emulator: not ours, not counted
			return emu.RoundTrip(r)
		}
		return ours.RoundTrip(r)
	})
	return &http.Client{Timeout: 30 * time.Second, Transport: ours}, browser
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// purgeCost signs signIns users in on a fresh table (each refreshing
// once), lets everything expire and counts the Table transactions of
// DeleteExpired called until it reports the end. The purge lease costs
// three more per pass (store.Purger; one pass every 10 minutes per
// deployment), not counted here.
func purgeCost(t *testing.T, signIns int) (int, *opCount) {
	t.Helper()
	s := newFaultyServer(t)
	ctx := t.Context()
	for i := range signIns {
		cl, err := headless.Register(ctx, s.api, s.BaseURL, "Purge cost")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := cl.SignIn(ctx, headless.NewBrowser(s.browser), s.BaseURL, upnsForOps[i%len(upnsForOps)])
		if err != nil {
			t.Fatal(err)
		}
		if r, err := cl.Refresh(ctx, tok.RefreshToken); err != nil || r.Status != 200 {
			t.Fatalf("refresh: %+v %v", r, err)
		}
	}
	s.clock.Advance(31 * 24 * time.Hour) // past every expiry: 30 days is the longest
	s.proxy.Log()
	total, cursor := 0, ""
	for {
		n, next, err := s.store.DeleteExpired(ctx, s.clock.Now(), cursor, 500)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if cursor = next; cursor == "" {
			break
		}
	}
	m := &opMeter{counts: map[string]*opCount{"pending": {}}}
	m.charge("purge", s.proxy.Log())
	return total, m.counts["pending"]
}

var upnsForOps = []string{"AdeleV@contoso.example", "AlexW@contoso.example", "MeganB@contoso.example"}
