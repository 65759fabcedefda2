package funchost

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"time"
)

// invocationHeader carries a fresh id per invocation. The host sets it on
// the proxied request and overrides any value the client sent
// (DefaultHttpProxyService.StartForwarding, ScriptConstants.HttpProxyCorrelationHeader).
const invocationHeader = "x-ms-invocation-id"

// handler routes, checks keys and forwards, like the host's HTTP pipeline
// for a custom handler with enableProxyingHttpRequest.
func (h *Host) handler() http.Handler {
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// SetURL keeps the original path and query and only swaps
			// scheme and authority. It also sets Host to the backend; the
			// host's YARP forwarder runs with HttpTransformer.Default, which
			// copies the client's Host header, so restore it.
			pr.SetURL(h.backend)
			pr.Out.Host = pr.In.Host
			// In Azure the platform's front end adds these before the host
			// sees the request, and the host's YARP forwarder passes them
			// on (HttpTransformer.Default adds none of its own); emulate the
			// front end here. It appends the caller's address to the
			// X-Forwarded-For it received, keeping the entries of proxies
			// before it (API Management's), as every proxy in a chain does;
			// Rewrite starts from a request without X-Forwarded-*, so copy
			// the incoming header first.
			pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			pr.SetXForwarded()
			pr.Out.Header.Set(invocationHeader, newInvocationID())
		},
		// The host's SocketsHttpHandler has AllowAutoRedirect=false; a
		// ReverseProxy never follows redirects either. No proxy from the
		// environment: the handler is on loopback.
		Transport: h.opts.Telemetry.ClientTransport(&http.Transport{
			Proxy:                 nil,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       30 * time.Second,
			ResponseHeaderTimeout: 240 * time.Second, // ForwarderRequestConfig.ActivityTimeout
		}, func(r *http.Request) string { return "forward " + r.Method + " " + r.URL.Path },
			func(*http.Request) string { return "handler" }),
		// -1 flushes after every write so SSE and chunked answers stream
		// through, as YARP does.
		FlushInterval: -1,
		ErrorLog:      log.New(io.Discard, "", 0),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			// The host fails the invocation with an HttpForwardingException,
			// which the client sees as a 500.
			http.Error(w, "funchost: forwarding to the handler failed: "+err.Error(), http.StatusInternalServerError)
		},
	}
	return h.opts.Telemetry.ServerHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, ok := h.app.Match(r.Method, r.URL.Path)
		if !ok {
			// No trigger, or a trigger without this method: the host's
			// router finds nothing and answers a bare 404 (NotFoundResult,
			// no body), which is how the doctor tells it from API
			// Management's JSON 404 and the handler's.
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if route.AuthLevel != "anonymous" && len(h.opts.Keys) > 0 && !h.keyOK(r) {
			// FunctionInvocationMiddleware: UnauthorizedResult, a bare 401
			// without WWW-Authenticate.
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	}), h.spanName, nil)
}

// spanName names an invocation's span as the host does: the function.
func (h *Host) spanName(r *http.Request) string {
	if route, ok := h.app.Match(r.Method, r.URL.Path); ok {
		return "Function." + route.Function
	}
	return r.Method + " (no function)"
}

// keyOK accepts a function key from the x-functions-key header or the code
// query parameter, the two places the host reads it. The stand-in leaves
// both on the forwarded request; the handler must not rely on either.
func (h *Host) keyOK(r *http.Request) bool {
	got := r.Header.Get("x-functions-key")
	if got == "" {
		got = r.URL.Query().Get("code")
	}
	if got == "" {
		return false
	}
	for _, k := range h.opts.Keys {
		if subtle.ConstantTimeCompare([]byte(got), []byte(k)) == 1 {
			return true
		}
	}
	return false
}

// newInvocationID returns a random UUID (version 4), the shape of the
// host's invocation ids.
func newInvocationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
