package apimemu

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
)

// Operations lists the loaded operations.
func (g *Gateway) Operations() []Operation {
	out := make([]Operation, len(g.ops))
	for i, op := range g.ops {
		out[i] = op.Operation
	}
	return out
}

// Close releases idle backend connections.
func (g *Gateway) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, t := range g.transports {
		t.CloseIdleConnections()
	}
}

// match finds the operation for method and path. Literal URL templates are
// compared case-insensitively (the stand-in's choice, as the Functions host
// routes; the reference does not say); the path itself is forwarded as the
// client sent it.
func (g *Gateway) match(method, path string) *operation {
	for _, op := range g.ops {
		if op.Method == method && strings.EqualFold(op.URLTemplate, path) {
			return op
		}
	}
	return nil
}

// isPreflight: an OPTIONS request with Origin and
// Access-Control-Request-Method (fetch.spec.whatwg.org/#cors-preflight-fetch).
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isPreflight(r) && g.match(http.MethodOptions, r.URL.Path) == nil {
		// A preflight is matched to the operation of the method it asks
		// about, and only that operation's cors policy runs. With an OPTIONS
		// operation the preflight logic "will not be executed" and the
		// request goes through the pipeline like any other
		// (learn.microsoft.com/azure/api-management/cors-policy). A preflight
		// for an operation without a cors policy is the stand-in's choice of
		// answer: the 404 of an unmatched request.
		if op := g.match(r.Header.Get("Access-Control-Request-Method"), r.URL.Path); op != nil {
			if cors := firstCORS(op.doc.sections[inbound]); cors != nil {
				g.write(w, r, cors.preflight(r), "preflight "+op.Name)
				return
			}
		}
	}
	op := g.match(r.Method, r.URL.Path)
	if op == nil {
		g.notFound(w, r)
		return
	}
	g.serve(w, r, op)
}

// serve runs inbound, backend and outbound, and on-error after any policy
// error (learn.microsoft.com/azure/api-management/api-management-error-handling-policies:
// "If an error occurs, processing immediately jumps to the on-error policy
// section").
func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, op *operation) {
	c := g.newCall(r, op)
	defer func() { c.resp.close() }()
	doc := op.doc
	err := runSteps(c, doc.sections[inbound])
	if err == nil {
		err = runSteps(c, doc.sections[backend])
	}
	if err == nil {
		err = runSteps(c, doc.sections[outbound])
		if err == nil {
			// CORS headers go on responses that come back through the
			// pipeline; set, so the backend's own CORS headers are not
			// doubled (the stand-in's choice; the reference is silent).
			for k, v := range c.cors {
				c.resp.header[k] = v
			}
		}
	}
	g.handleError(c, err, doc)
	g.write(w, r, c.resp, op.Name)
}

// handleError makes the failing policy's response current and runs
// on-error with context.LastError set.
func (g *Gateway) handleError(c *call, err error, doc *document) {
	var pe *PolicyError
	if !errors.As(err, &pe) {
		return
	}
	g.log.Info("apimemu: policy error", "operation", c.opName(), "source", pe.Source, "reason", pe.Reason, "scope", pe.Scope, "section", pe.Section, "message", pe.Message)
	c.lastErr = pe
	if pe.keep != nil {
		c.setResponse(pe.keep)
	} else {
		c.setResponse(errorResponse(pe.status, pe.Message, pe.header))
	}
	err = runSteps(c, doc.sections[onError])
	if errors.As(err, &pe) {
		g.log.Warn("apimemu: error in on-error", "operation", c.opName(), "source", pe.Source, "message", pe.Message)
		c.setResponse(errorResponse(http.StatusInternalServerError, "Internal server error", nil))
	}
}

// notFound answers a request no operation matches: 404 "Resource not
// found", the configuration error OperationNotFound. The API (at the root
// path) did match, so its on-error section runs.
func (g *Gateway) notFound(w http.ResponseWriter, r *http.Request) {
	c := g.newCall(r, nil)
	defer func() { c.resp.close() }()
	err := &PolicyError{Source: "configuration", Reason: "OperationNotFound", Message: "Resource not found", Scope: "api", Section: "inbound", status: http.StatusNotFound}
	g.handleError(c, err, g.api)
	g.write(w, r, c.resp, "(no operation)")
}

func (g *Gateway) newCall(r *http.Request, op *operation) *call {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return &call{g: g, op: op, in: r, clientIP: ip, header: r.Header.Clone(), vars: map[string]any{},
		resp: &response{status: http.StatusOK, header: http.Header{}}}
}

func (c *call) opName() string {
	if c.op == nil {
		return ""
	}
	return c.op.Name
}

func (g *Gateway) write(w http.ResponseWriter, r *http.Request, resp *response, what string) {
	g.log.Debug("apimemu", "method", r.Method, "path", r.URL.Path, "operation", what, "status", resp.status)
	h := w.Header()
	for k, v := range resp.header {
		h[k] = v
	}
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil // no type sniffing: pass the absence on
	}
	w.WriteHeader(resp.status)
	if r.Method == http.MethodHead {
		if resp.body != nil {
			// Drained so the connection can be reused; a failed drain
			// costs only that.
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.body, 1<<16))
		}
		return
	}
	copyBody(w, resp)
}
