package apimemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// section is a policy section (learn.microsoft.com/azure/api-management/
// api-management-howto-policies#understanding-policy-configuration).
type section int

const (
	inbound section = iota
	backend
	outbound
	onError
)

var sectionNames = [...]string{"inbound", "backend", "outbound", "on-error"}

func (s section) String() string { return sectionNames[s] }

// call is one request going through the gateway: the policy expressions'
// `context`.
type call struct {
	g        *Gateway
	op       *operation
	in       *http.Request
	clientIP string
	// header is the request header as it will be forwarded; inbound
	// set-header policies change it.
	header  http.Header
	backend *url.URL
	vars    map[string]any
	resp    *response
	lastErr *PolicyError
	// cors holds the headers the cors policy adds to an actual cross-origin
	// response that comes back through outbound.
	cors http.Header
}

// response is context.Response: what the gateway will send.
type response struct {
	status int
	header http.Header
	body   io.ReadCloser // nil: no body
	// stream flushes every chunk as it arrives (forward-request
	// buffer-response="false"); otherwise chunks are buffered up to 8 KB.
	stream bool
}

func (r *response) close() {
	if r != nil && r.body != nil {
		r.body.Close()
		r.body = nil
	}
}

// setResponse replaces the current response, releasing the previous body.
func (c *call) setResponse(r *response) {
	if c.resp != r {
		c.resp.close()
	}
	c.resp = r
}

// PolicyError is context.LastError
// (learn.microsoft.com/azure/api-management/api-management-error-handling-policies#lasterror).
type PolicyError struct {
	Source  string // the element (policy) or built-in step that failed
	Reason  string // machine-friendly code, e.g. TokenNotPresent
	Message string
	Scope   string // global, api or operation
	Section string // inbound, backend, outbound, on-error
	// status and header make the response APIM sends when on-error does
	// not replace it: {"statusCode": …, "message": …}.
	status int
	header http.Header
	// keep, when set, is the response to keep instead (forward-request
	// fail-on-error-status-code keeps the backend's answer).
	keep *response
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("%s (%s) in %s %s: %s", e.Source, e.Reason, e.Scope, e.Section, e.Message)
}

// errorResponse is the gateway's own error body, the shape API Management
// uses for its errors: {"statusCode": 401, "message": "…"}.
func errorResponse(status int, message string, extra http.Header) *response {
	body, _ := json.Marshal(struct {
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	}{status, message})
	h := http.Header{}
	for k, v := range extra {
		h[k] = append([]string(nil), v...)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	return &response{status: status, header: h, body: io.NopCloser(bytes.NewReader(body))}
}

// errReturned unwinds the pipeline after return-response, which "cancels
// pipeline execution" (learn.microsoft.com/azure/api-management/return-response-policy).
var errReturned = errors.New("return-response")

func (c *call) lastError() (*PolicyError, error) {
	if c.lastErr == nil {
		// context.LastError is null outside on-error: a
		// NullReferenceException in C#.
		return nil, errors.New("context.LastError is null outside on-error")
	}
	return c.lastErr, nil
}
