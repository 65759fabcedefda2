package apimemu

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// corsStep is the cors policy (learn.microsoft.com/azure/api-management/cors-policy):
//
//   - a preflight (OPTIONS with Origin and Access-Control-Request-Method) is
//     answered by the policy alone: "Only the cors policy is evaluated on
//     the OPTIONS request during preflight" (Gateway.preflight);
//   - an actual request with a matching Origin gets the CORS headers on its
//     response; one that does not match proceeds without them
//     (terminate-unmatched-request defaults to false).
type corsStep struct {
	credentials bool
	anyOrigin   bool
	origins     []string // normalised scheme://host:port
	anyMethod   bool
	methods     []string
	maxAge      int
	anyHeader   bool
	headers     []string // allowed request headers
	expose      []string
}

func compileCORS(cp *compiler, n *node, sec section) step {
	cp.onlyOnce(n) // "This policy can only be used once in a policy section."
	a := cp.attrs(n)
	s := &corsStep{credentials: a.boolean("allow-credentials", false)}
	a.done()
	k := cp.kids(n, "allowed-origins", "allowed-methods", "allowed-headers", "expose-headers")
	for name, list := range k {
		if len(list) > 1 {
			cp.fail(list[1], "only one <%s> is allowed", name)
		}
	}
	if len(k["allowed-origins"]) == 0 {
		cp.fail(n, "<allowed-origins> is required")
	} else {
		s.compileOrigins(cp, n, k["allowed-origins"][0])
	}
	// "If this section isn't present, GET and POST are supported."
	s.methods = []string{"GET", "POST"}
	if am := k["allowed-methods"]; len(am) > 0 {
		a := cp.attrs(am[0])
		s.maxAge = a.integer("preflight-result-max-age", 0, 0, 86400*365)
		a.done()
		s.methods = cp.textList(cp.kids(am[0], "method")["method"])
		if len(s.methods) == 0 {
			cp.fail(am[0], "needs at least one <method>")
		}
		s.anyMethod = slices.Contains(s.methods, "*")
	}
	if ah := k["allowed-headers"]; len(ah) == 0 {
		cp.fail(n, "<allowed-headers> is required")
	} else {
		cp.attrs(ah[0]).done()
		s.headers = cp.textList(cp.kids(ah[0], "header")["header"])
		if len(s.headers) == 0 {
			cp.fail(ah[0], "needs at least one <header>")
		}
		s.anyHeader = slices.Contains(s.headers, "*")
	}
	if eh := k["expose-headers"]; len(eh) > 0 {
		cp.attrs(eh[0]).done()
		s.expose = cp.textList(cp.kids(eh[0], "header")["header"])
		if len(s.expose) == 0 {
			cp.fail(eh[0], "needs at least one <header>")
		}
	}
	return s
}

// compileOrigins reads <allowed-origins>: "either a single origin element
// that specifies * to allow any origin, or one or more origin elements that
// contain a URI".
func (s *corsStep) compileOrigins(cp *compiler, n, ao *node) {
	cp.attrs(ao).done()
	for _, o := range cp.textList(cp.kids(ao, "origin")["origin"]) {
		if o == "*" {
			s.anyOrigin = true
			continue
		}
		norm, ok := normalizeOrigin(o)
		if !ok {
			cp.fail(ao, "origin %q: want * or a URI with scheme and host", o)
		}
		s.origins = append(s.origins, norm)
	}
	switch {
	case s.anyOrigin && len(s.origins) > 0:
		cp.fail(ao, "a single <origin>*</origin> or URIs, not both")
	case !s.anyOrigin && len(s.origins) == 0:
		cp.fail(ao, "needs at least one <origin>")
	case s.anyOrigin && s.credentials:
		cp.fail(n, "allow-credentials=\"true\" with origin * is not modelled (browsers refuse it)")
	}
}

// normalizeOrigin returns scheme://host:port in lower case; "If the port is
// omitted in a URI, port 80 is used for HTTP and port 443 is used for HTTPS."
func normalizeOrigin(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", false
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		default:
			return "", false
		}
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host + ":" + port, true
}

func (s *corsStep) originAllowed(origin string) bool {
	if origin == "" {
		return false
	}
	if s.anyOrigin {
		return true
	}
	norm, ok := normalizeOrigin(origin)
	return ok && slices.Contains(s.origins, norm)
}

func (s *corsStep) methodAllowed(m string) bool {
	return s.anyMethod || slices.Contains(s.methods, m)
}

// allowOrigin sets Access-Control-Allow-Origin (and Vary when the value
// depends on the request).
func (s *corsStep) allowOrigin(h http.Header, origin string) {
	if s.anyOrigin {
		h.Set("Access-Control-Allow-Origin", "*")
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
}

// run handles an actual (non-preflight) request.
func (s *corsStep) run(c *call) error {
	origin := c.in.Header.Get("Origin")
	if !s.originAllowed(origin) || !s.methodAllowed(c.in.Method) {
		return nil
	}
	h := http.Header{}
	s.allowOrigin(h, origin)
	if s.credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(s.expose) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(s.expose, ", "))
	}
	c.cors = h
	return nil
}

// preflight answers a preflight request. A request the policy does not
// allow gets "an empty 200 OK response" without CORS headers
// (terminate-unmatched-request="false", no other cors policy in scope).
func (s *corsStep) preflight(r *http.Request) *response {
	resp := &response{status: http.StatusOK, header: http.Header{"Content-Length": {"0"}}}
	origin := r.Header.Get("Origin")
	method := r.Header.Get("Access-Control-Request-Method")
	requested := splitList(r.Header.Values("Access-Control-Request-Headers"))
	if !s.originAllowed(origin) || !s.methodAllowed(method) {
		return resp
	}
	for _, h := range requested {
		if !s.anyHeader && !slices.ContainsFunc(s.headers, func(a string) bool { return strings.EqualFold(a, h) }) {
			return resp
		}
	}
	h := resp.header
	s.allowOrigin(h, origin)
	// "The Access-Control-Allow-Credentials header in the preflight
	// response will be set to the value of this attribute."
	h.Set("Access-Control-Allow-Credentials", strconv.FormatBool(s.credentials))
	if s.anyMethod {
		h.Set("Access-Control-Allow-Methods", method)
	} else {
		h.Set("Access-Control-Allow-Methods", strings.Join(s.methods, ", "))
	}
	if s.anyHeader {
		if len(requested) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(requested, ", "))
		}
	} else {
		h.Set("Access-Control-Allow-Headers", strings.Join(s.headers, ", "))
	}
	if s.maxAge > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(s.maxAge))
	}
	return resp
}

// splitList splits comma-separated header values into trimmed, non-empty
// items.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// firstCORS finds the cors policy a preflight uses: the first one among
// the direct children of the effective inbound section ("Generally, only
// the first cors policy is applied").
func firstCORS(steps []step) *corsStep {
	for _, s := range steps {
		if l, ok := s.(located); ok {
			s = l.step
		}
		switch s := s.(type) {
		case *corsStep:
			return s
		case baseStep:
			if c := firstCORS(s.steps); c != nil {
				return c
			}
		}
	}
	return nil
}
