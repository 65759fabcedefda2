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
	"syscall"
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
	ch := f.group.DoChan(clientID, func() (any, error) {
		// Detached from the caller: one impatient caller must not fail the
		// fetch for everyone waiting on it, or poison the cache.
		c, ttl, err := f.fetch(clientID)
		f.remember(clientID, c, err, ttl)
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

// dialContext resolves the host once, refuses the whole answer if any
// address is not public, and dials the vetted addresses themselves.
func (f *CIMDFetcher) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if !f.portAllowed(port) {
		return nil, fmt.Errorf("cimd: port %s not allowed", port)
	}
	addrs, err := f.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if f.blocked(a) {
			return nil, fmt.Errorf("cimd: %s resolves to the non-public address %s", host, a)
		}
	}
	d := net.Dialer{Timeout: f.opts.Timeout, Control: f.control}
	var errs []error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().WithZone("").String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func (f *CIMDFetcher) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	addrs, err := f.opts.Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("cimd: resolving %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("cimd: %s has no addresses", host)
	}
	return addrs, nil
}

// control re-checks the address the socket is about to connect to.
func (f *CIMDFetcher) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("cimd: unexpected dial address %q", address)
	}
	if f.blocked(ap.Addr()) {
		return fmt.Errorf("cimd: refusing to connect to %s", ap.Addr())
	}
	return nil
}

func (f *CIMDFetcher) blocked(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	if f.opts.AllowLoopback && a.IsLoopback() {
		return false
	}
	return !isPublicAddr(a)
}

// nonPublic lists special-purpose ranges (RFC 6890 and its IANA registries)
// that IsGlobalUnicast and IsPrivate do not cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // CGNAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("::/96"),          // IPv4-compatible (deprecated)
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64: could reach internal IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"), // local NAT64
	netip.MustParsePrefix("100::/64"),       // discard
	netip.MustParsePrefix("2001::/23"),      // IETF protocol assignments, Teredo
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("2002::/16"),      // 6to4: embeds an IPv4 address
	netip.MustParsePrefix("fec0::/10"),      // site-local (deprecated)
}

// isPublicAddr reports whether a (already unmapped) is a global unicast
// address outside every private and special-purpose range.
func isPublicAddr(a netip.Addr) bool {
	if !a.IsValid() || !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() ||
		a.IsLinkLocalUnicast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

func (f *CIMDFetcher) cached(url string) (*cimdEntry, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	el, ok := f.items[url]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cimdEntry)
	if !f.opts.Now().Before(e.expires) {
		f.lru.Remove(el)
		delete(f.items, url)
		return nil, false
	}
	f.lru.MoveToFront(el)
	return e, true
}

func (f *CIMDFetcher) remember(url string, c store.Client, err error, ttl time.Duration) {
	if err != nil {
		ttl = cimdNegativeTTL
		f.opts.Logger.Info("client metadata document rejected", slog.String("client_id", url), slog.Any("error", err))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e := &cimdEntry{url: url, client: c, err: err, expires: f.opts.Now().Add(ttl)}
	if el, ok := f.items[url]; ok {
		el.Value = e
		f.lru.MoveToFront(el)
		return
	}
	f.items[url] = f.lru.PushFront(e)
	for f.lru.Len() > f.opts.CacheSize {
		old := f.lru.Remove(f.lru.Back()).(*cimdEntry)
		delete(f.items, old.url)
	}
}

// cloneClient keeps callers from mutating the cached slices.
func cloneClient(c store.Client) store.Client {
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.GrantTypes = slices.Clone(c.GrantTypes)
	c.ResponseTypes = slices.Clone(c.ResponseTypes)
	return c
}
