package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxBody bounds what is read of any answer: metadata documents and error
// bodies are small, and a doctor must not hang on a stream.
const maxBody = 1 << 20

// answer is one HTTP exchange as the doctor saw it.
type answer struct {
	Method, URL string
	Status      int
	Header      http.Header
	Body        []byte
	Err         error // transport error: nothing answered
}

// request is what send needs beyond method and URL.
type request struct {
	Header http.Header
	Body   string
}

// send performs one request with the client's timeout and never follows
// redirects (a 302 is an answer to look at, not to chase).
func (d *Doctor) send(ctx context.Context, method, url string, r request) answer {
	a := answer{Method: method, URL: url}
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		a.Err = err
		return a
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "entra-mcp-doctor")
	resp, err := d.client().Do(req)
	if err != nil {
		a.Err = err
		return a
	}
	defer resp.Body.Close()
	a.Status, a.Header = resp.StatusCode, resp.Header
	a.Body, a.Err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return a
}

func (d *Doctor) get(ctx context.Context, url string) answer {
	return d.send(ctx, http.MethodGet, url, request{Header: http.Header{"Accept": {"application/json"}}})
}

// decode parses a JSON object body into v.
func (a answer) decode(v any) error {
	if err := json.Unmarshal(a.Body, v); err != nil {
		return fmt.Errorf("%s %s: the body is not the JSON expected (%v): %s", a.Method, a.URL, err, a.snippet())
	}
	return nil
}

// snippet is the start of the body, on one line, for messages.
func (a answer) snippet() string {
	s := strings.Join(strings.Fields(string(a.Body)), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

// source is who produced an answer.
type source string

const (
	fromHandler   source = "the handler"
	fromEdge      source = "API Management's policy" // our 401 challenge, written by the on-error branch
	fromAPIM      source = "API Management"          // the gateway's own errors
	fromHost      source = "the Functions host"
	fromTransport source = "nothing (no answer)"
	fromUnknown   source = "an unrecognised server"
)

// apimError is the body API Management writes for its own errors, e.g.
// {"statusCode":404,"message":"Resource not found"} when no operation
// matches, or 401 "Access denied due to missing subscription key…"
// (learn.microsoft.com/troubleshoot/azure/api-management/availability/unauthorized-errors-invoke-apis).
type apimError struct {
	StatusCode *int   `json:"statusCode"`
	Message    string `json:"message"`
}

func (a answer) apimError() (apimError, bool) {
	var e apimError
	if json.Unmarshal(a.Body, &e) != nil || e.StatusCode == nil || e.Message == "" {
		return e, false
	}
	return e, true
}

// from tells who answered, from the answer alone:
//   - the handler sets X-Request-Id on every response (internal/reqlog);
//   - API Management's gateway errors are {"statusCode":N,"message":"…"};
//   - our /mcp policy's on-error return-response is a 401 with a
//     resource_metadata challenge and no X-Request-Id, its origin check a
//     403 with a JSON-RPC error;
//   - the Functions host answers a missing or wrong function key with an
//     empty 401 (FunctionInvocationMiddleware returns UnauthorizedResult), an
//     unknown route with an empty 404, and "Function host is not running."
//     with 503 when the host (and so the handler) did not start.
func (a answer) from() source {
	switch {
	case a.Err != nil && a.Status == 0:
		return fromTransport
	case a.Header.Get("X-Request-Id") != "":
		return fromHandler
	}
	if _, ok := a.apimError(); ok {
		return fromAPIM
	}
	empty := len(bytes.TrimSpace(a.Body)) == 0
	switch {
	case a.Status == http.StatusUnauthorized && strings.Contains(a.Header.Get("WWW-Authenticate"), "resource_metadata="),
		refusedOrigin(a): // the /mcp policy's 403 to an origin not in ALLOWED_ORIGINS
		return fromEdge
	case (a.Status == http.StatusUnauthorized || a.Status == http.StatusNotFound) && empty && a.Header.Get("WWW-Authenticate") == "":
		return fromHost
	case a.Status == http.StatusServiceUnavailable && strings.Contains(string(a.Body), "Function host is not running"):
		return fromHost
	}
	return fromUnknown
}
