package oauth

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// maxRedirectURILen bounds one redirect URI; real ones are < 100 bytes.
const maxRedirectURILen = 2000

// loopbackHosts are the only hosts http redirect URIs may use (RFC 8252
// §7.3, §8.3). Each is matched literally: 127.0.0.1, localhost and [::1]
// never stand in for one another, and no other spelling (127.1,
// [0:0::1], LOCALHOST) is a loopback host here.
var loopbackHosts = []string{"127.0.0.1", "localhost", "[::1]"}

// deniedSchemes are never redirect targets: they run code or read local
// data in the browser, or are network or messaging schemes, not apps.
var deniedSchemes = map[string]bool{
	"javascript": true, "vbscript": true, "data": true, "file": true, "blob": true,
	"about": true, "filesystem": true, "view-source": true, "jar": true, "intent": true,
	"ftp": true, "ws": true, "wss": true, "mailto": true, "tel": true, "sms": true, "urn": true,
}

// ValidateRedirectURI checks one redirect URI at registration (DCR or a
// client ID metadata document). applicationType is "web" or "native"
// (OpenID Connect Dynamic Client Registration §2). The rules:
//
//   - https with a host, for any client.
//   - http only on a loopback host, literally 127.0.0.1, localhost or
//     [::1], any port (RFC 8252 §7.3), for any client: the OIDC rule that
//     web clients avoid localhost is about the implicit grant, which we do
//     not offer, and MCP Inspector registers http://localhost as a web app.
//   - A private-use scheme (RFC 8252 §7.1) only for native clients, as
//     scheme://… or scheme:/path. Reverse-domain schemes
//     (com.example.app) are preferred by RFC 8252, but the app schemes
//     clients really use (vscode, cursor, claude) are accepted too; the
//     schemes in deniedSchemes and one-letter schemes (Windows drive
//     letters) are refused.
//   - Never: a fragment (RFC 6749 §3.1.2), userinfo, wildcards ('*'),
//     whitespace, control, non-ASCII or backslash characters, an
//     upper-case scheme, a relative URI.
func ValidateRedirectURI(raw, applicationType string) error {
	if err := checkURIChars(raw); err != nil {
		return err
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a URI")
	case u.Scheme == "":
		return errors.New("not an absolute URI")
	case !strings.HasPrefix(raw, u.Scheme+":"):
		return errors.New("the scheme must be lower case")
	case u.User != nil:
		return errors.New("must not contain userinfo")
	}
	switch u.Scheme {
	case "https":
		if !strings.HasPrefix(raw, "https://") || u.Hostname() == "" {
			return errors.New("https redirect URI without a host")
		}
		return nil
	case "http":
		if !IsLoopbackRedirectURI(raw) {
			return errors.New("http is allowed only for loopback: http://127.0.0.1, http://[::1] or http://localhost with any port")
		}
		return nil
	}
	switch {
	case deniedSchemes[u.Scheme] || len(u.Scheme) < 2:
		return fmt.Errorf("scheme %q is not allowed", u.Scheme)
	case applicationType != "native":
		return fmt.Errorf("private-use scheme %q requires application_type native", u.Scheme)
	case u.Opaque != "":
		return fmt.Errorf("use %s:/path or %s://host/path", u.Scheme, u.Scheme)
	}
	return nil
}

func checkURIChars(raw string) error {
	switch {
	case raw == "":
		return errors.New("empty")
	case len(raw) > maxRedirectURILen:
		return fmt.Errorf("longer than %d bytes", maxRedirectURILen)
	case strings.Contains(raw, "#"):
		return errors.New("must not contain a fragment")
	case strings.Contains(raw, "*"):
		return errors.New("wildcards are not allowed")
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return errors.New("contains whitespace, control, non-ASCII or backslash characters; percent-encode them")
		}
	}
	return nil
}

// IsLoopbackRedirectURI reports whether raw is an http URI on a literal
// loopback host (127.0.0.1, localhost, [::1]) with an optional port.
func IsLoopbackRedirectURI(raw string) bool {
	_, _, ok := loopbackParts(raw)
	return ok
}

// loopbackParts splits a loopback redirect URI around its port:
// "http://127.0.0.1:8080/cb?x" gives host "127.0.0.1" and rest "/cb?x".
// It works on the string, not a parsed URL, so nothing is normalised away:
// "http://127.0.0.1.evil.example", "http://127.0.0.1@evil.example" and
// "http://evil@127.0.0.1" all fail because the authority is not exactly a
// loopback host with a numeric port.
func loopbackParts(raw string) (host, rest string, ok bool) {
	after, found := strings.CutPrefix(raw, "http://")
	if !found {
		return "", "", false
	}
	end := strings.IndexAny(after, "/?#")
	if end < 0 {
		end = len(after)
	}
	authority, rest := after[:end], after[end:]
	if strings.Contains(rest, "#") {
		return "", "", false
	}
	for _, h := range loopbackHosts {
		if authority == h {
			return h, rest, true
		}
		if port, ok := strings.CutPrefix(authority, h+":"); ok && validPort(port) {
			return h, rest, true
		}
	}
	return "", "", false
}

func validPort(p string) bool {
	if len(p) == 0 || len(p) > 5 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	n, _ := strconv.Atoi(p)
	return n <= 65535
}

// MatchRedirectURI reports whether requested may be used as the
// redirect_uri of a client that registered registered. The match is exact
// string equality (OAuth 2.1 §2.3.1, RFC 9700 §4.1.3), with one exception:
// for loopback URIs the port may differ, because native apps listen on
// whatever port is free (RFC 8252 §7.3). Scheme, host spelling, path and
// query must still be identical, so a trailing-slash or case difference
// fails.
func MatchRedirectURI(registered []string, requested string) bool {
	if requested == "" || strings.Contains(requested, "#") {
		return false
	}
	for _, r := range registered {
		if r == requested {
			return true
		}
	}
	host, rest, ok := loopbackParts(requested)
	if !ok {
		return false
	}
	for _, r := range registered {
		if h, rr, ok := loopbackParts(r); ok && h == host && rr == rest {
			return true
		}
	}
	return false
}
