package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/cluster"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entra"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/headless"
)

// soak is the load: users who sign in and then call tools and refresh,
// a client registering now and then, and a reader of the metadata.
type soak struct {
	c       *cluster.Cluster
	users   int
	think   time.Duration
	api     *http.Client
	browser http.RoundTripper
	st      *stats
}

var upns = []string{"AdeleV@contoso.example", "AlexW@contoso.example", "MeganB@contoso.example"}

func newSoak(c *cluster.Cluster, users int, think time.Duration) (*soak, error) {
	st := newStats(c.URL)
	front := &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
	pool, err := entra.RootsWithCAFile(c.CAFile)
	if err != nil {
		return nil, err
	}
	emu := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 16}
	counted := st.counting(front)
	browser := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Scheme == "https" { // the Entra emulator: not ours, not counted
			return emu.RoundTrip(r)
		}
		return counted.RoundTrip(r)
	})
	return &soak{c: c, users: users, think: think, api: &http.Client{Timeout: 30 * time.Second, Transport: counted}, browser: browser, st: st}, nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// run keeps the load up until ctx ends.
func (s *soak) run(ctx context.Context) {
	var wg sync.WaitGroup
	for u := range s.users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				s.user(ctx, upns[u%len(upns)])
			}
		}()
	}
	wg.Add(2)
	go func() { defer wg.Done(); s.metadata(ctx) }()
	go func() { defer wg.Done(); s.registrations(ctx) }()
	wg.Wait()
}

// user signs in and uses the sign-in: 40 rounds of mostly auth_info,
// whoami (On-Behalf-Of and Graph) every tenth, a refresh every eighth. A
// refused token or refresh means the grant was lost.
func (s *soak) user(ctx context.Context, upn string) {
	cl, err := headless.Register(ctx, s.api, s.c.URL, "Soak")
	if err != nil {
		s.st.failedSignIn(ctx, err)
		return
	}
	tok, err := cl.SignIn(ctx, headless.NewBrowser(s.browser), s.c.URL, upn)
	if err != nil {
		s.st.failedSignIn(ctx, err)
		return
	}
	s.st.signedIn()
	for i := 0; i < 40 && ctx.Err() == nil; i++ {
		pause(ctx, s.think)
		switch {
		case i%8 == 7:
			next, err := cl.Refresh(ctx, tok.RefreshToken)
			if ctx.Err() != nil {
				return
			}
			if err == nil && next.Status == http.StatusOK {
				tok = next
				continue
			}
			if next.Status == http.StatusBadRequest && next.Error == "invalid_grant" {
				s.st.lostGrant(fmt.Sprintf("%s: refresh refused (%s) %d rounds after sign-in", upn, next.Error, i))
				return
			}
		default:
			tool := "auth_info"
			if i%10 == 3 {
				tool = "whoami"
			}
			status, text, isErr, err := cl.CallTool(ctx, tok.AccessToken, tool)
			if ctx.Err() != nil {
				return
			}
			if status == http.StatusUnauthorized {
				s.st.lostGrant(fmt.Sprintf("%s: %s answered 401 %d rounds after sign-in", upn, tool, i))
				return
			}
			if err == nil && status == http.StatusOK && isErr {
				s.st.toolError(tool + ": " + text)
			}
		}
	}
}

// metadata reads the documents every client reads first, at a steady pace.
func (s *soak) metadata(ctx context.Context) {
	paths := []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server", "/.well-known/jwks.json", "/healthz"}
	for i := 0; ctx.Err() == nil; i++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.c.URL+paths[i%len(paths)], nil)
		if resp, err := s.api.Do(req); err == nil {
			resp.Body.Close()
		}
		pause(ctx, 20*time.Millisecond)
	}
}

// registrations registers a client every half second, as new clients
// arrive.
func (s *soak) registrations(ctx context.Context) {
	for ctx.Err() == nil {
		_, _ = headless.Register(ctx, s.api, s.c.URL, "Soak registration") // counted by status
		pause(ctx, 500*time.Millisecond)
	}
}

func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
