package oauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// The address policy of the metadata-document fetcher: what it may connect to.

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
