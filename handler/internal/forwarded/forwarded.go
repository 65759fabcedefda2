package forwarded

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// maxEntries bounds the work on a header padded by the caller.
const maxEntries = 64

// ClientAddr returns the address of r's client: the X-Forwarded-For entry
// hops places from the right (1 is the rightmost). When the header holds
// fewer entries than that, every entry was written by a trusted proxy and
// the leftmost is the client; when it holds none, or the entry at that
// place is not an address, or hops is 0, it is r.RemoteAddr's host. The
// zero Addr means no address could be found at all.
func ClientAddr(r *http.Request, hops int) netip.Addr {
	if hops > 0 {
		entries := lastEntries(r.Header.Values("X-Forwarded-For"), hops)
		if len(entries) > 0 {
			i := max(len(entries)-hops, 0)
			if a, ok := parseEntry(entries[i]); ok {
				return a
			}
		}
	}
	a, _ := parseEntry(r.RemoteAddr)
	return a
}

// lastEntries returns up to the last n entries of the comma-separated
// values (several header lines count as one list, RFC 9110 §5.3), at most
// maxEntries of them read.
func lastEntries(values []string, n int) []string {
	var all []string
	for _, v := range values {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				all = append(all, e)
			}
		}
		if len(all) > maxEntries {
			all = all[len(all)-maxEntries:]
		}
	}
	if len(all) > n {
		all = all[len(all)-n:]
	}
	return all
}

// parseEntry reads an address as proxies write it: a bare IPv4 or IPv6
// address, or one with a port ("203.0.113.7:54321", "[2001:db8::1]:443"),
// which some front ends add. IPv4-mapped IPv6 addresses are unmapped, so
// one client has one key.
func parseEntry(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}
