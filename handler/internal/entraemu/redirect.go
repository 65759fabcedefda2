package entraemu

import (
	"net/url"
	"strings"
)

// redirectAllowed matches a requested redirect URI against the client's
// registrations: exact string match, except that a public client's loopback
// http registration accepts any loopback host and any port with the same
// path, as RFC 8252 §7.3 asks of native apps and Entra allows.
func redirectAllowed(c *Client, requested string) bool {
	for _, reg := range c.RedirectURIs {
		if reg == requested {
			return true
		}
	}
	if !c.Public {
		return false
	}
	req, err := url.Parse(requested)
	if err != nil || req.Scheme != "http" || !isLoopback(req.Hostname()) || req.User != nil || req.Fragment != "" {
		return false
	}
	for _, reg := range c.RedirectURIs {
		r, err := url.Parse(reg)
		if err != nil || r.Scheme != "http" || !isLoopback(r.Hostname()) {
			continue
		}
		if normPath(r.Path) == normPath(req.Path) {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	return host == "127.0.0.1" || host == "::1" || strings.EqualFold(host, "localhost")
}

func normPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}
