package oauth

import (
	"container/list"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// Client ID metadata documents (MCP 2025-11-25 "Client ID Metadata
// Documents", draft-ietf-oauth-client-id-metadata-document): a client_id
// that is an https URL names a JSON document of RFC 7591 client metadata.
// Fetching a URL chosen by anyone on the internet is an SSRF risk, so:
//
//   - https only, port 443 unless configured, no userinfo or fragment;
//   - the host is resolved once, every address is vetted (no loopback,
//     private, link-local, CGNAT, unique-local, multicast, unspecified,
//     documentation, NAT64/6to4/Teredo or IPv4-mapped forms of those) and
//     the connection is dialled to a vetted address, with a socket Control
//     hook re-checking the peer, so DNS rebinding between check and connect
//     has nothing to exploit; TLS still verifies the original host name;
//   - no proxy from the environment, no redirects, 5 s overall, at most
//     5 KiB (the draft's suggested limit), JSON content type only.
//
// Documents must not carry client secrets, and token_endpoint_auth_method
// must be none: we do not support private_key_jwt, and quietly treating
// such a client as public would contradict what its document says.
const (
	defaultCIMDTimeout  = 5 * time.Second
	defaultCIMDMaxBytes = 5 << 10
	defaultCIMDCache    = 512
	cimdMinTTL          = 5 * time.Minute
	cimdMaxTTL          = 24 * time.Hour
	cimdNegativeTTL     = time.Minute
)

// Resolver is the part of *net.Resolver the fetcher uses.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CIMDOptions configures a CIMDFetcher. The zero value is the production
// policy.
type CIMDOptions struct {
	Timeout   time.Duration // whole fetch; default 5 s
	MaxBytes  int64         // document size limit; default 5 KiB
	CacheSize int           // documents kept (LRU); default 512
	// Ports lists ports allowed in client_id URLs besides the default 443.
	Ports    []int
	Resolver Resolver       // default net.DefaultResolver
	RootCAs  *x509.CertPool // nil: system roots
	// AllowLoopback permits loopback addresses, so tests can serve
	// documents from httptest.NewTLSServer. Never set it in production.
	AllowLoopback bool
	Now           func() time.Time
	Logger        *slog.Logger
}

// CIMDFetcher fetches, validates and caches client ID metadata documents.
// It is safe for concurrent use; concurrent fetches of one URL share a
// single request.
type CIMDFetcher struct {
	opts   CIMDOptions
	client *http.Client
	group  singleflight.Group

	mu    sync.Mutex
	lru   *list.List // of *cimdEntry, most recent first
	items map[string]*list.Element
}

type cimdEntry struct {
	url     string
	client  store.Client
	err     error
	expires time.Time
}

// NewCIMDFetcher builds a fetcher; zero options take the defaults above.
func NewCIMDFetcher(opts CIMDOptions) *CIMDFetcher {
	if opts.Timeout <= 0 {
		opts.Timeout = defaultCIMDTimeout
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = defaultCIMDMaxBytes
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = defaultCIMDCache
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	f := &CIMDFetcher{opts: opts, lru: list.New(), items: map[string]*list.Element{}}
	f.client = &http.Client{
		Timeout: opts.Timeout,
		Transport: &http.Transport{
			Proxy:                  nil, // the address checks must see the real peer
			DialContext:            f.dialContext,
			TLSClientConfig:        &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:    opts.Timeout,
			ResponseHeaderTimeout:  opts.Timeout,
			MaxResponseHeaderBytes: 16 << 10,
			MaxIdleConns:           16,
			IdleConnTimeout:        30 * time.Second,
			ForceAttemptHTTP2:      true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return f
}

// Fetch returns the client described by the metadata document at
// clientID. Failures are invalid_client errors whose description says what
// is wrong with the document; the network detail is only in Err. Results,
// good and bad, are cached.
func (f *CIMDFetcher) Fetch(ctx context.Context, clientID string) (store.Client, error) {
	if err := f.checkURL(clientID); err != nil {
		return store.Client{}, InvalidClient("client_id is not a valid client metadata document URL: %v", err)
	}
	if e, ok := f.cached(clientID); ok {
		return cloneClient(e.client), e.err
	}
	// Detached from the caller's cancellation: one impatient caller must
	// not fail the fetch for everyone waiting on it, or poison the cache.
	// Its values stay, so the log line carries the request id.
	logCtx := context.WithoutCancel(ctx)
	ch := f.group.DoChan(clientID, func() (any, error) {
		c, ttl, err := f.fetch(clientID)
		f.remember(logCtx, clientID, c, err, ttl)
		return c, err
	})
	select {
	case res := <-ch:
		c, _ := res.Val.(store.Client)
		return cloneClient(c), res.Err
	case <-ctx.Done():
		return store.Client{}, ctx.Err()
	}
}

// checkURL applies draft-ietf-oauth-client-id-metadata-document §3: https,
// a host, a path, no dot segments, no fragment, no userinfo.
func (f *CIMDFetcher) checkURL(raw string) error {
	if err := checkURIChars(raw); err != nil {
		return err
	}
	u, err := parseHTTPSURL(raw)
	if err != nil {
		return err
	}
	if u.Path == "" || u.Path == "/" {
		return errors.New("must have a path")
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return errors.New("must not contain . or .. path segments")
		}
	}
	if p := u.Port(); p != "" && p != "443" && !f.portAllowed(p) {
		return fmt.Errorf("port %s is not allowed", p)
	}
	return nil
}

// parseHTTPSURL parses an absolute https URL with a host and without
// userinfo or fragment.
func parseHTTPSURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, errors.New("not a URL")
	case !strings.HasPrefix(raw, "https://"):
		return nil, errors.New("must be an https URL")
	case u.Hostname() == "":
		return nil, errors.New("has no host")
	case u.User != nil:
		return nil, errors.New("must not contain userinfo")
	case u.Fragment != "":
		return nil, errors.New("must not contain a fragment")
	}
	return u, nil
}

func (f *CIMDFetcher) portAllowed(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && (n == 443 || slices.Contains(f.opts.Ports, n))
}

func (f *CIMDFetcher) fetch(clientID string) (store.Client, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clientID, nil)
	if err != nil {
		return store.Client{}, 0, cimdError("cannot request the document", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return store.Client{}, 0, cimdError("fetching the document failed", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return store.Client{}, 0, cimdError("the document URL redirects; redirects are not followed", nil)
	case resp.StatusCode != http.StatusOK:
		return store.Client{}, 0, cimdError(fmt.Sprintf("fetching the document answered HTTP %d", resp.StatusCode), nil)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return store.Client{}, 0, cimdError("the document is not served as application/json", nil)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.opts.MaxBytes+1))
	if err != nil {
		return store.Client{}, 0, cimdError("reading the document failed", err)
	}
	if int64(len(body)) > f.opts.MaxBytes {
		return store.Client{}, 0, cimdError(fmt.Sprintf("the document exceeds %d bytes", f.opts.MaxBytes), nil)
	}
	c, err := parseClientMetadataDocument(clientID, body)
	if err != nil {
		return store.Client{}, 0, err
	}
	c.CreatedAt = f.opts.Now().UTC()
	return c, cacheTTL(resp.Header.Get("Cache-Control")), nil
}

func cimdError(desc string, cause error) *Error {
	e := InvalidClient("client metadata document: %s", desc)
	e.Err = cause
	return e
}

// parseClientMetadataDocument validates a document fetched from url
// (draft-ietf-oauth-client-id-metadata-document §4.1).
func parseClientMetadataDocument(url string, body []byte) (store.Client, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return store.Client{}, cimdError("not a JSON object", nil)
	}
	for k := range members {
		if strings.HasPrefix(k, "client_secret") {
			return store.Client{}, cimdError(k+" must not appear in a metadata document", nil)
		}
	}
	var m ClientMetadata
	if err := json.Unmarshal(body, &m); err != nil {
		return store.Client{}, cimdError("a member has the wrong JSON type", nil)
	}
	if m.ClientID != url {
		return store.Client{}, cimdError("its client_id does not equal the document URL", nil)
	}
	if m.TokenEndpointAuthMethod != "" && m.TokenEndpointAuthMethod != "none" {
		return store.Client{}, cimdError(fmt.Sprintf("token_endpoint_auth_method %q is not supported; use none", m.TokenEndpointAuthMethod), nil)
	}
	c, err := m.client()
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return store.Client{}, cimdError(e.Description, nil)
		}
		return store.Client{}, err
	}
	c.ID = url
	return c, nil
}

// cacheTTL takes max-age from Cache-Control and clamps it to [5 min, 24 h]:
// documents change rarely, and even no-store must not make every
// authorization request refetch.
func cacheTTL(cc string) time.Duration {
	ttl := time.Duration(0)
	for _, d := range strings.Split(cc, ",") {
		if v, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(d)), "max-age="); ok {
			if n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64); err == nil && n > 0 {
				ttl = time.Duration(min(n, int64(cimdMaxTTL/time.Second))) * time.Second
			}
		}
	}
	return min(max(ttl, cimdMinTTL), cimdMaxTTL)
}
