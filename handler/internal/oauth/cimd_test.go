package oauth

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
)

// cimdDoc is a VS Code–like client ID metadata document for url.
func cimdDoc(url string, extra string) string {
	return `{"client_id":"` + url + `","client_name":"Visual Studio Code","client_uri":"https://code.visualstudio.com",
		"redirect_uris":["http://127.0.0.1:33418/","http://127.0.0.1/","https://vscode.dev/redirect"],
		"grant_types":["authorization_code","refresh_token"],"response_types":["code"],
		"token_endpoint_auth_method":"none","application_type":"native"` + extra + `}`
}

// cimdTestServer serves documents on 127.0.0.1 over TLS, counting hits.
type cimdTestServer struct {
	*httptest.Server
	hits  atomic.Int32
	clock *testutil.Clock
}

func newCIMDTestServer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, self string)) *cimdTestServer {
	t.Helper()
	s := &cimdTestServer{clock: testutil.NewClock(t0)}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		handler(w, r, "https://"+r.Host+r.URL.Path)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *cimdTestServer) port(t *testing.T) int {
	u, _ := url.Parse(s.URL)
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fetcher returns a fetcher trusting the test server; loopback allowed
// unless strict.
func (s *cimdTestServer) fetcher(t *testing.T, mutate func(*CIMDOptions)) *CIMDFetcher {
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	opts := CIMDOptions{
		Ports: []int{s.port(t)}, RootCAs: roots, AllowLoopback: true, Timeout: time.Second,
		Now: s.clock.Now, Logger: slog.New(slog.DiscardHandler),
	}
	if mutate != nil {
		mutate(&opts)
	}
	return NewCIMDFetcher(opts)
}

func serveJSON(w http.ResponseWriter, cacheControl, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if cacheControl != "" {
		w.Header().Set("Cache-Control", cacheControl)
	}
	_, _ = w.Write([]byte(body))
}

func TestCIMDFetchAndCache(t *testing.T) {
	s := newCIMDTestServer(t, func(w http.ResponseWriter, r *http.Request, self string) {
		serveJSON(w, "public, max-age=60", cimdDoc(self, ""))
	})
	f := s.fetcher(t, nil)
	id := s.URL + "/oauth/client-metadata.json"
	c, err := f.Fetch(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != id || c.Name != "Visual Studio Code" || c.TokenEndpointAuthMethod != "none" || c.ApplicationType != "native" ||
		!cmp.Equal(c.GrantTypes, []string{"authorization_code", "refresh_token"}) || !MatchRedirectURI(c.RedirectURIs, "http://127.0.0.1:5555/") {
		t.Errorf("client = %+v", c)
	}
	c.RedirectURIs[0] = "https://evil.example/" // must not corrupt the cache
	// max-age=60 is raised to the 5 minute floor.
	s.clock.Advance(4 * time.Minute)
	c2, err := f.Fetch(context.Background(), id)
	if err != nil || s.hits.Load() != 1 || c2.RedirectURIs[0] != "http://127.0.0.1:33418/" {
		t.Fatalf("cached fetch: hits %d, client %+v, err %v", s.hits.Load(), c2, err)
	}
	s.clock.Advance(2 * time.Minute)
	if _, err := f.Fetch(context.Background(), id); err != nil || s.hits.Load() != 2 {
		t.Errorf("after expiry: hits %d, err %v", s.hits.Load(), err)
	}
}

func TestCIMDRejects(t *testing.T) {
	s := newCIMDTestServer(t, func(w http.ResponseWriter, r *http.Request, self string) {
		switch r.URL.Path {
		case "/mismatch":
			serveJSON(w, "", cimdDoc("https://vscode.dev/oauth/client-metadata.json", ""))
		case "/secret":
			serveJSON(w, "", cimdDoc(self, `,"client_secret":"s3cr3t"`))
		case "/secret-expiry":
			serveJSON(w, "", cimdDoc(self, `,"client_secret_expires_at":0`))
		case "/private-key-jwt":
			serveJSON(w, "", strings.Replace(cimdDoc(self, ""), `"none"`, `"private_key_jwt"`, 1))
		case "/bad-redirect":
			serveJSON(w, "", strings.Replace(cimdDoc(self, ""), "https://vscode.dev/redirect", "http://evil.example/cb", 1))
		case "/wrong-type":
			serveJSON(w, "", `{"client_id":"`+self+`","redirect_uris":"https://a.example/"}`)
		case "/not-json":
			serveJSON(w, "", `<html>`)
		case "/html":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(cimdDoc(self, "")))
		case "/big":
			serveJSON(w, "", cimdDoc(self, `,"pad":"`+strings.Repeat("a", 6000)+`"`))
		case "/redirect":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
		default:
			http.NotFound(w, r)
		}
	})
	f := s.fetcher(t, func(o *CIMDOptions) { o.Timeout = 300 * time.Millisecond })
	for _, path := range []string{"/mismatch", "/secret", "/secret-expiry", "/private-key-jwt", "/bad-redirect", "/wrong-type", "/not-json", "/html", "/big", "/redirect", "/slow", "/missing"} {
		t.Run(path, func(t *testing.T) {
			_, err := f.Fetch(context.Background(), s.URL+path)
			if e := AsError(err); err == nil || e.Code != CodeInvalidClient {
				t.Fatalf("Fetch(%s) error = %v, want invalid_client", path, err)
			}
		})
	}
	// Failures are cached briefly, then retried.
	before := s.hits.Load()
	_, _ = f.Fetch(context.Background(), s.URL+"/missing")
	if s.hits.Load() != before {
		t.Error("a failed fetch was not cached")
	}
	s.clock.Advance(cimdNegativeTTL + time.Second)
	_, _ = f.Fetch(context.Background(), s.URL+"/missing")
	if s.hits.Load() != before+1 {
		t.Error("a failed fetch was cached too long")
	}
}

func TestCIMDSingleflight(t *testing.T) {
	release := make(chan struct{})
	s := newCIMDTestServer(t, func(w http.ResponseWriter, r *http.Request, self string) {
		<-release
		serveJSON(w, "", cimdDoc(self, ""))
	})
	f := s.fetcher(t, nil)
	id := s.URL + "/c.json"
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := f.Fetch(context.Background(), id)
			errs <- err
		})
	}
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := s.hits.Load(); n != 1 {
		t.Errorf("%d requests for 8 concurrent fetches, want 1", n)
	}
}

func TestCIMDCallerCancellation(t *testing.T) {
	release := make(chan struct{})
	s := newCIMDTestServer(t, func(w http.ResponseWriter, r *http.Request, self string) {
		<-release
		serveJSON(w, "", cimdDoc(self, ""))
	})
	f := s.fetcher(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Fetch(ctx, s.URL+"/c.json"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	close(release)
	// The abandoned fetch still completes and fills the cache.
	if _, err := f.Fetch(context.Background(), s.URL+"/c.json"); err != nil {
		t.Fatal(err)
	}
	if n := s.hits.Load(); n != 1 {
		t.Errorf("hits = %d, want 1", n)
	}
}

func TestCIMDLRUEviction(t *testing.T) {
	s := newCIMDTestServer(t, func(w http.ResponseWriter, r *http.Request, self string) {
		serveJSON(w, "", cimdDoc(self, ""))
	})
	f := s.fetcher(t, func(o *CIMDOptions) { o.CacheSize = 2 })
	for _, p := range []string{"/a", "/b", "/a", "/c", "/a", "/b"} {
		if _, err := f.Fetch(context.Background(), s.URL+p); err != nil {
			t.Fatal(err)
		}
	}
	// a, b, (a hit), c evicts b, (a hit), b refetched: 4 requests.
	if n := s.hits.Load(); n != 4 {
		t.Errorf("hits = %d, want 4", n)
	}
}

// The production policy refuses loopback even when the port is allowed
// and the certificate trusted: the request never reaches the server.
func TestCIMDDefaultPolicyRefusesLoopback(t *testing.T) {
	s := newCIMDTestServer(t, func(w http.ResponseWriter, r *http.Request, self string) {
		serveJSON(w, "", cimdDoc(self, ""))
	})
	f := s.fetcher(t, func(o *CIMDOptions) { o.AllowLoopback = false })
	for _, host := range []string{"127.0.0.1", "[::1]", "localhost"} {
		_, err := f.Fetch(context.Background(), fmt.Sprintf("https://%s:%d/c.json", host, s.port(t)))
		if AsError(err).Code != CodeInvalidClient {
			t.Errorf("%s: err = %v", host, err)
		}
	}
	if n := s.hits.Load(); n != 0 {
		t.Errorf("the server saw %d requests", n)
	}
}

type fakeResolver map[string][]netip.Addr

func (r fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

func TestCIMDRefusesNonPublicAddresses(t *testing.T) {
	bad := []string{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
		"::1", "fc00::1", "fd12:3456::1", "fe80::1", "::", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
		"64:ff9b::a00:1", "2002:a00:1::1", "224.0.0.1", "ff02::1", "255.255.255.255", "198.18.0.1", "::127.0.0.1"}
	for _, a := range bad {
		t.Run(a, func(t *testing.T) {
			addr := netip.MustParseAddr(a)
			f := NewCIMDFetcher(CIMDOptions{Resolver: fakeResolver{"client.example": {addr}}, Logger: slog.New(slog.DiscardHandler)})
			_, err := f.Fetch(context.Background(), "https://client.example/c.json")
			if err == nil || !strings.Contains(fmt.Sprint(errors.Unwrap(err)), "non-public") {
				t.Errorf("Fetch via %s: err = %v, want a non-public refusal", a, err)
			}
			if !f.blocked(addr) {
				t.Errorf("blocked(%s) = false", a)
			}
			if err := f.control("tcp", netip.AddrPortFrom(addr, 443).String(), nil); err == nil {
				t.Errorf("control(%s) allowed the connection", a)
			}
		})
	}
	// One bad address in the answer refuses the whole host, so the dialer
	// cannot be steered to it by ordering.
	mixed := NewCIMDFetcher(CIMDOptions{Resolver: fakeResolver{"client.example": {netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("127.0.0.1")}}})
	if _, err := mixed.Fetch(context.Background(), "https://client.example/c.json"); !strings.Contains(fmt.Sprint(errors.Unwrap(err)), "non-public") {
		t.Errorf("mixed answer: err = %v", err)
	}
	for _, a := range []string{"8.8.8.8", "20.50.2.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"} {
		if !isPublicAddr(netip.MustParseAddr(a).Unmap()) {
			t.Errorf("isPublicAddr(%s) = false", a)
		}
	}
}

// The host name is resolved by the injected resolver, the connection goes
// to the vetted address, and TLS still verifies the original name.
func TestCIMDDialsResolvedAddress(t *testing.T) {
	s := newCIMDTestServer(t, func(w http.ResponseWriter, r *http.Request, self string) {
		serveJSON(w, "", cimdDoc(self, ""))
	})
	f := s.fetcher(t, func(o *CIMDOptions) {
		o.Resolver = fakeResolver{"example.com": {netip.MustParseAddr("127.0.0.1")}} // in the test cert's SANs
	})
	id := fmt.Sprintf("https://example.com:%d/c.json", s.port(t))
	if c, err := f.Fetch(context.Background(), id); err != nil || c.ID != id {
		t.Fatalf("Fetch = %+v, %v", c, err)
	}
	g := s.fetcher(t, func(o *CIMDOptions) {
		o.Resolver = fakeResolver{"other.example": {netip.MustParseAddr("127.0.0.1")}} // not in the cert
	})
	if _, err := g.Fetch(context.Background(), fmt.Sprintf("https://other.example:%d/c.json", s.port(t))); err == nil {
		t.Error("TLS accepted a certificate for another name")
	}
}

func TestCIMDCheckURL(t *testing.T) {
	f := NewCIMDFetcher(CIMDOptions{Ports: []int{8443}})
	for _, u := range []string{"https://a.example/c", "https://a.example:443/c.json", "https://a.example:8443/c", "https://a.example/c?v=1"} {
		if err := f.checkURL(u); err != nil {
			t.Errorf("checkURL(%q) = %v", u, err)
		}
	}
	for _, u := range []string{"http://a.example/c", "https://a.example", "https://a.example/", "https://a.example/x/../c",
		"https://a.example/./c", "https://u:p@a.example/c", "https://a.example/c#f", "https://a.example:8080/c", "HTTPS://a.example/c", "https:///c"} {
		if err := f.checkURL(u); err == nil {
			t.Errorf("checkURL(%q) accepted", u)
		}
	}
}

func TestCacheTTL(t *testing.T) {
	tests := map[string]time.Duration{
		"":                         cimdMinTTL,
		"no-store":                 cimdMinTTL,
		"max-age=60":               cimdMinTTL,
		"public, max-age=3600":     time.Hour,
		"max-age=\"7200\", public": 2 * time.Hour,
		"MAX-AGE=600":              10 * time.Minute,
		"max-age=999999999999999":  cimdMaxTTL,
		"max-age=-5":               cimdMinTTL,
		"max-age=abc":              cimdMinTTL,
	}
	for in, want := range tests {
		if got := cacheTTL(in); got != want {
			t.Errorf("cacheTTL(%q) = %s, want %s", in, got, want)
		}
	}
}

// A rejected document is logged with the context of the request that
// fetched it, so the line carries that request's id.
func TestCIMDLogsWithTheRequestContext(t *testing.T) {
	s := newCIMDTestServer(t, func(w http.ResponseWriter, r *http.Request, self string) {
		serveJSON(w, "", `{"client_id":"https://elsewhere.example/doc.json","redirect_uris":["https://a.example/cb"]}`)
	})
	rec := &ctxRecorder{}
	f := s.fetcher(t, func(o *CIMDOptions) { o.Logger = slog.New(rec) })
	ctx := context.WithValue(context.Background(), requestKey{}, "req-7")
	if _, err := f.Fetch(ctx, s.URL+"/doc.json"); err == nil {
		t.Fatal("a document naming another client_id was accepted")
	}
	if got := rec.values(); !slices.Equal(got, []string{"req-7"}) {
		t.Errorf("log records carried request ids %q, want [req-7]", got)
	}
}

type requestKey struct{}

// ctxRecorder is a slog.Handler that keeps the request id of each record's
// context.
type ctxRecorder struct {
	mu  sync.Mutex
	ids []string
}

func (h *ctxRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *ctxRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *ctxRecorder) WithGroup(string) slog.Handler            { return h }
func (h *ctxRecorder) Handle(ctx context.Context, _ slog.Record) error {
	id, _ := ctx.Value(requestKey{}).(string)
	h.mu.Lock()
	h.ids = append(h.ids, id)
	h.mu.Unlock()
	return nil
}

func (h *ctxRecorder) values() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.ids)
}
