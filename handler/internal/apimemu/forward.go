package apimemu

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// forwardStep is forward-request
// (learn.microsoft.com/azure/api-management/forward-request-policy):
//
//   - timeout: seconds to wait "for the HTTP response headers to be returned
//     by the backend service before a timeout error is raised" (default 300);
//   - buffer-response: "When set to "false", each chunk received from the
//     backend is immediately returned to the caller. When set to "true",
//     chunks are buffered (8 KB, unless end of stream is detected)" (default
//     true);
//   - fail-on-error-status-code: "triggers on-error section for response
//     codes in the range from 400 to 599 inclusive" (default false);
//   - follow-redirects is false, its default: redirects reach the caller.
type forwardStep struct {
	timeout     time.Duration
	buffer      bool
	failOnError bool
}

func compileForward(cp *compiler, n *node, sec section) step {
	cp.onlyOnce(n) // "Multiple statements per policy document: not supported"
	a := cp.attrs(n)
	s := &forwardStep{
		timeout:     time.Duration(a.integer("timeout", 300, 1, 3600)) * time.Second,
		buffer:      a.boolean("buffer-response", true),
		failOnError: a.boolean("fail-on-error-status-code", false),
	}
	a.done()
	cp.noKids(n)
	return s
}

// hopByHop are the connection-specific headers a proxy does not forward
// (RFC 9110 §7.6.1).
var hopByHop = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func withoutHopByHop(h http.Header) http.Header {
	out := h.Clone()
	for _, f := range splitList(h.Values("Connection")) {
		out.Del(f)
	}
	for _, k := range hopByHop {
		out.Del(k)
	}
	return out
}

func (s *forwardStep) run(c *call) error {
	if c.backend == nil {
		return &PolicyError{Source: "forward-request", Message: "no backend: set-backend-service did not run (the API's serviceUrl is not modelled)", status: http.StatusInternalServerError}
	}
	// The API sits at the root path, so the path and query go to the
	// backend unchanged, appended to the backend's base URL
	// (learn.microsoft.com/azure/api-management/set-backend-service-policy).
	target := *c.backend
	basePath, baseRaw := strings.TrimSuffix(target.Path, "/"), strings.TrimSuffix(target.EscapedPath(), "/")
	target.Path = basePath + c.in.URL.Path
	target.RawPath = baseRaw + c.in.URL.EscapedPath()
	if target.RawPath == target.Path {
		target.RawPath = ""
	}
	target.RawQuery = c.in.URL.RawQuery
	var body io.Reader
	if c.in.ContentLength != 0 {
		body = c.in.Body
	}
	req, err := http.NewRequestWithContext(c.in.Context(), c.in.Method, target.String(), body)
	if err != nil {
		return err
	}
	req.ContentLength = c.in.ContentLength
	req.Header = withoutHopByHop(c.header)
	// The gateway makes its own request to the backend URL, so Host is the
	// backend's. The reference does not spell this out, but it must be so:
	// the App Service front end in front of a Function App routes by Host,
	// and the samples reach <app>.azurewebsites.net without overriding it.
	// The caller's address is added to X-Forwarded-For.
	req.Host = c.backend.Host
	if prior := req.Header.Values("X-Forwarded-For"); len(prior) > 0 {
		req.Header.Set("X-Forwarded-For", strings.Join(prior, ", ")+", "+c.clientIP)
	} else {
		req.Header.Set("X-Forwarded-For", c.clientIP)
	}
	resp, err := c.g.transport(s.timeout).RoundTrip(req)
	if err != nil {
		return forwardError(c, err)
	}
	r := &response{status: resp.StatusCode, header: withoutHopByHop(resp.Header), body: resp.Body, stream: !s.buffer}
	c.setResponse(r)
	if s.failOnError && resp.StatusCode >= 400 && resp.StatusCode <= 599 {
		return &PolicyError{Source: "forward-request", Message: fmt.Sprintf("the backend answered %d", resp.StatusCode), keep: r}
	}
	return nil
}

// forwardError maps a failed backend call to the documented reasons:
// Timeout, BackendConnectionFailure, ClientConnectionFailure. Without an
// on-error answer "callers will receive 400 or 500 HTTP response messages".
func forwardError(c *call, err error) error {
	var ne net.Error
	switch {
	case c.in.Context().Err() != nil:
		return &PolicyError{Source: "forward-request", Reason: "ClientConnectionFailure", Message: err.Error(), status: http.StatusBadRequest}
	case errors.As(err, &ne) && ne.Timeout():
		return &PolicyError{Source: "forward-request", Reason: "Timeout", Message: "the backend did not answer in time", status: http.StatusInternalServerError}
	default:
		return &PolicyError{Source: "forward-request", Reason: "BackendConnectionFailure", Message: err.Error(), status: http.StatusInternalServerError}
	}
}

// transport returns the shared transport for a response-header timeout.
// It never uses a proxy from the environment, never follows redirects (a
// RoundTripper does not) and passes bodies as they are (no transparent
// decompression).
func (g *Gateway) transport(timeout time.Duration) *http.Transport {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t, ok := g.transports[timeout]; ok {
		return t
	}
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: timeout,
		DisableCompression:    true,
	}
	g.transports[timeout] = t
	return t
}

// copyBody writes the response body: every chunk at once when streaming,
// else in 8 KB blocks (and the rest at the end).
func copyBody(w http.ResponseWriter, r *response) {
	if r.body == nil {
		return
	}
	flusher, _ := w.(http.Flusher)
	size := 8 << 10
	if r.stream {
		size = 32 << 10
	}
	buf := make([]byte, size)
	filled := 0
	for {
		n, err := r.body.Read(buf[filled:])
		filled += n
		if filled > 0 && (r.stream || filled == len(buf) || err != nil) {
			if _, werr := w.Write(buf[:filled]); werr != nil {
				return
			}
			filled = 0
			if flusher != nil {
				flusher.Flush()
			}
		}
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			// The backend broke off mid-body: cut the client's connection
			// too, as a proxy must, instead of ending the body cleanly.
			panic(http.ErrAbortHandler)
		}
	}
}
