package forwarded

import (
	"net/http"
	"testing"
)

func TestClientAddr(t *testing.T) {
	const peer = "127.0.0.1:40000" // the Functions host, on loopback
	tests := []struct {
		name   string
		xff    []string
		remote string
		hops   int
		want   string
	}{
		{"direct: the header is ignored", []string{"203.0.113.9"}, "198.51.100.4:5000", 0, "198.51.100.4"},
		{"behind APIM and the front end", []string{"198.51.100.4, 10.0.0.5"}, peer, 2, "198.51.100.4"},
		{"forged entries to the left are not trusted", []string{"203.0.113.9, 198.51.100.4, 10.0.0.5"}, peer, 2, "198.51.100.4"},
		{"forged entries across header lines", []string{"203.0.113.9", "198.51.100.4, 10.0.0.5"}, peer, 2, "198.51.100.4"},
		{"one proxy", []string{"203.0.113.9, 198.51.100.4"}, peer, 1, "198.51.100.4"},
		{"fewer entries than proxies: the first was written by one of them", []string{"198.51.100.4"}, peer, 2, "198.51.100.4"},
		{"no header", nil, peer, 2, "127.0.0.1"},
		{"port on the entry", []string{"198.51.100.4:61234, 10.0.0.5:443"}, peer, 2, "198.51.100.4"},
		{"IPv6 with port", []string{"[2001:db8::7]:61234, 10.0.0.5"}, peer, 2, "2001:db8::7"},
		{"bare IPv6", []string{"2001:db8::7, 10.0.0.5"}, peer, 2, "2001:db8::7"},
		{"IPv4-mapped IPv6 is IPv4", []string{"::ffff:198.51.100.4, 10.0.0.5"}, peer, 2, "198.51.100.4"},
		{"garbage at the trusted place: the peer", []string{"unknown, 10.0.0.5"}, peer, 2, "127.0.0.1"},
		{"empty entries skipped", []string{"198.51.100.4,, 10.0.0.5 ,"}, peer, 2, "198.51.100.4"},
		{"no address at all", nil, "not-an-address", 2, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{Header: http.Header{}, RemoteAddr: tt.remote}
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientAddr(r, tt.hops).String(); got != tt.want {
				t.Errorf("ClientAddr(hops %d) = %s, want %s", tt.hops, got, tt.want)
			}
		})
	}
}

// FuzzClientAddr: any header yields either a valid address or the peer's,
// and what lies left of the trusted entries never changes the answer.
func FuzzClientAddr(f *testing.F) {
	f.Add("198.51.100.4, 10.0.0.5", "203.0.113.9", 2)
	f.Add("[::1]:80,,", "", 1)
	f.Add("", "x", 3)
	f.Fuzz(func(t *testing.T, trusted, forged string, hops int) {
		hops = hops%4 + 1
		if hops < 1 {
			hops += 4
		}
		r := &http.Request{Header: http.Header{"X-Forwarded-For": {trusted}}, RemoteAddr: "127.0.0.1:1"}
		got := ClientAddr(r, hops)
		if !got.IsValid() {
			t.Fatalf("ClientAddr(%q) is not an address", trusted)
		}
		entries := lastEntries([]string{trusted}, hops)
		if len(entries) < hops {
			return // the forged part would be read as trusted; nothing to compare
		}
		r2 := &http.Request{Header: http.Header{"X-Forwarded-For": {forged + "," + trusted}}, RemoteAddr: "127.0.0.1:1"}
		if got2 := ClientAddr(r2, hops); got2 != got {
			t.Fatalf("prefix %q changed the client from %s to %s", forged, got, got2)
		}
	})
}
