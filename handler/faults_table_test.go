package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/headless"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
)

// Table Storage's faults as the handler's clients meet them (issue 11):
// each fault injected by a proxy in front of Azurite (testutil.TableFaults)
// under a whole session: register, sign in, call a tool, refresh, revoke.

// faultyServer is an in-process handler on its own table behind a fault
// proxy, with a client and browser transport for it.
type faultyServer struct {
	*testServer
	proxy   *testutil.TableFaults
	api     *http.Client
	browser http.RoundTripper
}

func newFaultyServer(t *testing.T) *faultyServer {
	t.Helper()
	conn := os.Getenv("AZURE_TABLES_TEST_CONNECTION")
	if conn == "" {
		t.Skip("injects Table Storage faults in front of Azurite: set AZURE_TABLES_TEST_CONNECTION (scripts/azurite.sh prints it)")
	}
	proxy := testutil.StartTableFaults(t, conn)
	ts := newTestServer(t, func(env map[string]string) {
		env["STORAGE_CONNECTION_STRING"] = proxy.ConnectionString(conn)
		env["STORAGE_TABLE_NAME"] = "faults" + rand.Text()[:12]
	})
	api, browser := ts.clients(t, http.DefaultTransport)
	return &faultyServer{testServer: ts, proxy: proxy, api: api, browser: browser}
}

// session is what a client does in a day, stopping at the first answer
// that is not a success. It returns that answer's error, nil if all went
// well; a success is checked for being the right answer.
func (s *faultyServer) session(t *testing.T, upn string) error {
	ctx := t.Context()
	cl, err := headless.Register(ctx, s.api, s.BaseURL, "Fault test")
	if err != nil {
		return err
	}
	tok, err := cl.SignIn(ctx, headless.NewBrowser(s.browser), s.BaseURL, upn)
	if err != nil {
		return err
	}
	name := strings.Split(upn, "@")[0][:4] // "Adel" of Adele Vance
	status, text, isErr, err := cl.CallTool(ctx, tok.AccessToken, "whoami")
	if err != nil || status != 200 {
		return &headless.StatusError{Step: "tools/call", Status: status, Body: text}
	}
	if isErr || !strings.Contains(text, name) {
		t.Errorf("whoami as %s answered %q (tool error %v)", upn, text, isErr)
	}
	next, err := cl.Refresh(ctx, tok.RefreshToken)
	if err != nil || next.Status != 200 {
		return &headless.StatusError{Step: "refresh", Status: next.Status, Body: next.Error}
	}
	if err := cl.Revoke(ctx, next.RefreshToken); err != nil {
		return err
	}
	r, err := cl.Refresh(ctx, next.RefreshToken)
	switch {
	case err != nil:
		return err
	case r.Status == http.StatusServiceUnavailable:
		return &headless.StatusError{Step: "refresh after revoke", Status: r.Status, Body: r.Error}
	case r.Status != 400 || r.Error != "invalid_grant":
		t.Errorf("refresh after revoke = %d %q, want invalid_grant", r.Status, r.Error)
	}
	return nil
}

// TestSessionUnderTableFaults: the first try of every few operations
// fails the way Table Storage fails under load. The store's retries must
// hide it all: every answer is the one a healthy service gives.
func TestSessionUnderTableFaults(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		fault testutil.Fault
		every int
	}{
		{testutil.ServerBusy, 2}, {testutil.OperationTimedOut, 2}, {testutil.Dropped, 2},
		{testutil.Throttled, 12}, // each waits out a Retry-After of 1 s
	} {
		t.Run(tt.fault.String(), func(t *testing.T) {
			t.Parallel()
			s := newFaultyServer(t)
			if err := s.session(t, "AdeleV@contoso.example"); err != nil { // creates the table
				t.Fatal(err)
			}
			s.proxy.Set(testutil.FirstTryOfEvery(tt.every, tt.fault))
			for _, upn := range []string{"AlexW@contoso.example", "MeganB@contoso.example"} {
				if err := s.session(t, upn); err != nil {
					t.Errorf("session as %s with %v on the first try of every %d operations: %v", upn, tt.fault, tt.every, err)
				}
			}
			if faults := countFaults(s.proxy.Log(), tt.fault); faults < 5 {
				t.Errorf("only %d %v injected", faults, tt.fault)
			}
		})
	}
}

func countFaults(log []testutil.TableExchange, f testutil.Fault) int {
	n := 0
	for _, e := range log {
		if e.Fault == f {
			n++
		}
	}
	return n
}

// TestSessionCutByTableFaults fails one operation of a session for good
// (every retry too), at every operation in turn: either not done
// (ServerBusy) or done with its answer lost (OperationTimedOut, which
// leaves whatever it wrote behind). Whatever the cut, the client gets a
// correct answer or 503 temporarily_unavailable (JSON, the browser's HTML
// page, or the error redirected to the client), never a 500; and the same
// user's next sign-in, in the same browser, works: no half-written sign-in
// blocks it.
func TestSessionCutByTableFaults(t *testing.T) {
	t.Parallel()
	probe := newFaultyServer(t)
	if err := probe.session(t, "AdeleV@contoso.example"); err != nil { // creates the table
		t.Fatal(err)
	}
	before := probe.proxy.Ops()
	if err := probe.session(t, "AdeleV@contoso.example"); err != nil {
		t.Fatal(err)
	}
	ops := probe.proxy.Ops() - before
	t.Logf("a session is %d Table Storage operations; cutting each", ops)

	// Each cut costs the retries' back-off (about a second), so the cuts
	// run on a few servers at once, each taking every groups-th cut.
	const groups = 12
	var wg sync.WaitGroup
	for g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(fmt.Sprintf("group %d", g), func(t *testing.T) {
				s := newFaultyServer(t)
				if err := s.session(t, "AdeleV@contoso.example"); err != nil {
					t.Fatal(err)
				}
				outcomes := map[string]int{}
				for k := 1 + g; k <= ops; k += groups {
					for _, fault := range []testutil.Fault{testutil.ServerBusy, testutil.OperationTimedOut} {
						outcomes[s.cut(t, k, fault)]++
					}
				}
				t.Logf("outcomes: %v", outcomes)
			})
		}()
	}
	wg.Wait()
}

// cut runs a session with its k-th operation failing with fault on every
// try, then a clean one. It returns what the client saw of the cut.
func (s *faultyServer) cut(t *testing.T, k int, fault testutil.Fault) string {
	target := s.proxy.Ops() + k
	s.proxy.Set(func(r testutil.TableRequest) testutil.Fault {
		if r.Op == target {
			return fault
		}
		return testutil.Pass
	})
	err := s.session(t, "MeganB@contoso.example")
	s.proxy.Set(nil)
	if countFaults(s.proxy.Log(), fault) == 0 {
		t.Errorf("cut at operation %d (%v): the session never reached it", k, fault)
	}
	if err != nil && !unavailable(err) {
		t.Errorf("cut at operation %d (%v): %v; want a correct answer or 503 temporarily_unavailable", k, fault, err)
	}
	if err := s.session(t, "MeganB@contoso.example"); err != nil {
		t.Errorf("after the cut at operation %d (%v), the next session failed: %v", k, fault, err)
	}
	var se *headless.StatusError
	if errors.As(err, &se) {
		return fmt.Sprintf("%d at %s", se.Status, se.Step)
	}
	return "absorbed"
}

// unavailable: the answer was 503 temporarily_unavailable, as JSON, as the
// browser's error page, or redirected to the client (RFC 6749 §4.1.2.1).
func unavailable(err error) bool {
	var se *headless.StatusError
	if !errors.As(err, &se) {
		return false
	}
	switch {
	case se.Status == http.StatusServiceUnavailable:
		return strings.Contains(se.Body, "temporarily_unavailable")
	case se.Status == 0 && se.Step == "sign-in": // the redirect's query
		return strings.Contains(se.Body, "error=temporarily_unavailable")
	}
	return false
}
