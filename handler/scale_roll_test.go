package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/cluster"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/headless"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// TestRollingKeyRotation rotates the signing key the way README
// "Rotating keys" says, rolled over three instances one at a time (drain,
// SIGTERM, start with the new settings), under a steady load of tool calls
// and refreshes through the front. Phase 1 announces the new key (it
// becomes SIGNING_KEY_PREVIOUS, verified but not used); phase 2 swaps the
// two. At every moment some instances run the old settings and some the
// new, and a token minted by any of them must verify on all: no request
// may fail.
func TestRollingKeyRotation(t *testing.T) {
	t.Parallel()
	c := startCluster(t, cluster.Options{Instances: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	oldKey := c.SigningKey
	k, err := tokens.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := k.PEM()
	newKey := string(pem)

	load := startLoad(t, ctx, c, 4)
	for phase, env := range [][]string{
		{"SIGNING_KEY=" + oldKey, "SIGNING_KEY_PREVIOUS=" + newKey},
		{"SIGNING_KEY=" + newKey, "SIGNING_KEY_PREVIOUS=" + oldKey},
	} {
		for i := range c.Instances() {
			time.Sleep(300 * time.Millisecond) // let the load cross the mixed fleet
			if err := c.Drain(i, 30*time.Second); err != nil {
				t.Fatal(err)
			}
			if took, err := c.Instance(i).Stop(30 * time.Second); err != nil {
				t.Fatalf("phase %d: stopping %c: %v (after %v)", phase+1, 'A'+i, err, took)
			}
			if err := c.Start(ctx, i, env...); err != nil {
				t.Fatalf("phase %d: %v", phase+1, err)
			}
		}
	}
	time.Sleep(300 * time.Millisecond)
	calls, failures := load.stop()
	if calls < 50 {
		t.Errorf("only %d requests during the rotation; the load did not run", calls)
	}
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%d requests during two rolling restarts of three instances, %d failed", calls, len(failures))

	// The fleet now signs with the new key.
	cl, tok := signedInClient(t, ctx, c, "AdeleV@contoso.example")
	if kid := jwtKeyID(t, tok.AccessToken); kid != k.KeyID() {
		t.Errorf("a new access token is signed by %q, want the new key %q", kid, k.KeyID())
	}
	_ = cl
}

// jwtKeyID returns the kid of a JWS's protected header.
func jwtKeyID(t *testing.T, token string) string {
	t.Helper()
	h, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	var header struct{ Kid string }
	if err != nil || json.Unmarshal(b, &header) != nil {
		t.Fatalf("not a JWS: %.20q", token)
	}
	return header.Kid
}

// load is a steady stream of tool calls and refreshes from signed-in
// users through the front, recording every request that did not succeed.
type load struct {
	calls    atomic.Int64
	mu       sync.Mutex
	failures []string
	stopped  chan struct{}
	wg       sync.WaitGroup
}

func startLoad(t *testing.T, ctx context.Context, c *cluster.Cluster, users int) *load {
	t.Helper()
	l := &load{stopped: make(chan struct{})}
	for u := range users {
		cl, tok := signedInClient(t, ctx, c, []string{"AdeleV", "AlexW", "MeganB"}[u%3]+"@contoso.example")
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.user(ctx, cl, tok)
		}()
	}
	return l
}

// user calls a tool, and every fourth round refreshes and goes on with the
// new tokens, until stopped.
func (l *load) user(ctx context.Context, cl headless.Client, tok headless.Tokens) {
	for i := 0; ; i++ {
		select {
		case <-l.stopped:
			return
		default:
		}
		l.calls.Add(1)
		if i%4 == 3 {
			next, err := cl.Refresh(ctx, tok.RefreshToken)
			if err != nil || next.Status != 200 {
				l.fail("refresh: %d %s %v", next.Status, next.Error, err)
				continue
			}
			tok = next
			continue
		}
		status, text, isErr, err := cl.CallTool(ctx, tok.AccessToken, "auth_info")
		if err != nil || status != 200 || isErr {
			l.fail("tools/call: %d %.100q %v", status, text, err)
		}
	}
}

func (l *load) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures = append(l.failures, fmt.Sprintf(format, args...))
}

func (l *load) stop() (int64, []string) {
	close(l.stopped)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls.Load(), l.failures
}

// TestScaleInOnSIGTERM: an instance told to stop (SIGTERM, as the platform
// does on scale-in) while requests are in flight stops accepting, finishes
// them, and exits with status 0 within its bound. Requests go straight to
// the instance, harsher than the platform, which drains it first
// (cluster.Drain): a request the instance never read, refused or lost on a
// kept-alive connection it closed as idle (RFC 9112 §9.6), did not start;
// every request it did read (its X-Request-Id is in the instance's log)
// must have completed with 200.
func TestScaleInOnSIGTERM(t *testing.T) {
	t.Parallel()
	// whoami waits for Graph; the delay keeps calls in flight. At debug
	// the instance logs every request it served, with its id.
	c, logs := startClusterLogs(t, cluster.Options{Instances: 1, GraphDelay: 300 * time.Millisecond, Env: []string{"LOG_LEVEL=debug"}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, tok := signedInClient(t, ctx, c, "AdeleV@contoso.example")
	in := c.Instance(0)

	type call struct {
		id         string
		start, end time.Time
		status     int
		err        error
	}
	var mu sync.Mutex
	var calls []call
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				id := "sigterm-" + tokens.NewOpaque()[:16]
				at := cl.At(in.URL)
				at.Header = func() http.Header { return http.Header{"X-Request-Id": {id}} }
				start := time.Now()
				status, text, isErr, err := at.CallTool(ctx, tok.AccessToken, "whoami")
				if err == nil && (isErr || !strings.Contains(text, "Adele")) {
					err = fmt.Errorf("whoami answered %q", text)
				}
				mu.Lock()
				calls = append(calls, call{id, start, time.Now(), status, err})
				mu.Unlock()
				if errors.Is(err, syscall.ECONNREFUSED) {
					return // no longer accepting: what scale-in means
				}
			}
		}()
	}
	time.Sleep(time.Second)
	signalled := time.Now()
	took, err := in.Stop(30 * time.Second)
	if err != nil {
		t.Errorf("exit after SIGTERM: %v (after %v)", err, took)
	}
	wg.Wait()

	served := logs.String()
	inFlight, refused, unread := 0, 0, 0
	for _, c := range calls {
		switch {
		case errors.Is(c.err, syscall.ECONNREFUSED):
			refused++
		case c.err != nil && c.status == 0 && !strings.Contains(served, "request_id="+c.id):
			unread++ // lost on an idle connection the instance closed; never read
		case c.err != nil || c.status != 200:
			t.Errorf("request %s, sent %v before SIGTERM, failed: %d %v", c.id, signalled.Sub(c.start).Round(time.Millisecond), c.status, c.err)
		case c.start.Before(signalled) && c.end.After(signalled):
			inFlight++
		}
	}
	if inFlight == 0 {
		t.Error("no request was in flight when SIGTERM came; the test tested nothing")
	}
	if refused == 0 {
		t.Error("no request was refused after SIGTERM; did the instance stop accepting?")
	}
	t.Logf("SIGTERM with %d requests in flight: all completed with 200, the process exited after %v; %d later requests were refused, %d never read",
		inFlight, took.Round(time.Millisecond), refused, unread)
}
