package testutil

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is what TableFaults does to one request.
type Fault int

const (
	// Pass forwards the request and returns the answer.
	Pass Fault = iota
	// ServerBusy answers 503 ServerBusy without forwarding: what a
	// partition or an account over its scalability targets answers
	// (learn.microsoft.com/azure/storage/tables/scalability-targets). The
	// operation did not happen.
	ServerBusy
	// Throttled is ServerBusy with Retry-After: 1, as a service shedding
	// load asks clients to wait.
	Throttled
	// OperationTimedOut forwards the request, so it takes effect, then
	// answers 500 OperationTimedOut instead of the real answer: the
	// service's way of saying it may or may not have done it.
	OperationTimedOut
	// Dropped forwards the request, so it takes effect, then closes the
	// connection without an answer (a reset, or a client's try timeout).
	Dropped
)

func (f Fault) String() string {
	return [...]string{"pass", "ServerBusy", "Throttled", "OperationTimedOut", "Dropped"}[f]
}

// TableRequest is one request as TableFaults sees it.
type TableRequest struct {
	Method, Path string
	// ID is the x-ms-client-request-id: the same on every try of one
	// operation, so Try counts them (1 is the first).
	ID  string
	Try int
	// Op numbers operations (first tries) in arrival order, from 1; a
	// retry has the number of its operation.
	Op int
}

// TableFaults is a proxy in front of a Table service (Azurite) that
// answers chosen requests the way Table Storage fails under load, so tests
// can check that the store retries what may be retried, never repeats a
// conflict, and turns what it cannot absorb into a bounded
// "unavailable". It is for tests only.
type TableFaults struct {
	URL    string // the proxy's base URL
	target *url.URL

	mu    sync.Mutex
	rule  func(TableRequest) Fault
	tries map[string]int // by request id
	opOf  map[string]int // the operation a request id belongs to
	ops   int
	log   []TableExchange
}

// TableExchange is a request and what came of it.
type TableExchange struct {
	TableRequest
	Fault  Fault
	Status int // the status the client got; 0 for Dropped
}

// StartTableFaults starts a proxy to the Table endpoint of the Azurite
// connection string conn. Every request passes until Set says otherwise.
func StartTableFaults(t testing.TB, conn string) *TableFaults {
	t.Helper()
	m := tableEndpointRE.FindStringSubmatch(conn)
	if m == nil {
		t.Fatalf("no TableEndpoint in %q", conn)
	}
	target, err := url.Parse(m[1])
	if err != nil {
		t.Fatal(err)
	}
	f := &TableFaults{target: target, tries: map[string]int{}, opOf: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

var tableEndpointRE = regexp.MustCompile(`TableEndpoint=(https?://[^/;]+)`)

// ConnectionString is conn with its Table endpoint pointed at the proxy.
func (f *TableFaults) ConnectionString(conn string) string {
	return tableEndpointRE.ReplaceAllString(conn, "TableEndpoint="+f.URL)
}

// Set makes rule decide every request from now on (nil: pass them all).
func (f *TableFaults) Set(rule func(TableRequest) Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rule = rule
}

// Log returns the exchanges so far and forgets them.
func (f *TableFaults) Log() []TableExchange {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.log
	f.log = nil
	return l
}

// FirstTryOfEvery returns a rule that gives the first try of every n-th
// operation the faults in turn; retries pass. An operation the client
// retries at least once always gets through.
func FirstTryOfEvery(n int, faults ...Fault) func(TableRequest) Fault {
	return func(r TableRequest) Fault {
		if r.Try != 1 || r.Op%n != 0 {
			return Pass
		}
		return faults[(r.Op/n)%len(faults)]
	}
}

// Always returns a rule that gives every request fault.
func Always(fault Fault) func(TableRequest) Fault {
	return func(TableRequest) Fault { return fault }
}

func (f *TableFaults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, fault := f.decide(r)
	status := 0
	defer func() {
		f.mu.Lock()
		f.log = append(f.log, TableExchange{TableRequest: req, Fault: fault, Status: status})
		f.mu.Unlock()
	}()
	switch fault {
	case ServerBusy, Throttled:
		if fault == Throttled {
			w.Header().Set("Retry-After", "1")
		}
		status = http.StatusServiceUnavailable
		tableError(w, status, "ServerBusy", "The server is busy.")
		return
	}
	resp, err := f.forward(r)
	if err != nil {
		status = http.StatusBadGateway
		http.Error(w, err.Error(), status)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	switch fault {
	case OperationTimedOut:
		status = http.StatusInternalServerError
		tableError(w, status, "OperationTimedOut", "Operation could not be completed within the specified time.")
		return
	case Dropped:
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				if tc, ok := c.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // a reset, not an orderly close
				}
				_ = c.Close() // the point is to drop it
				return
			}
		}
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	status = resp.StatusCode
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// decide numbers the request and asks the rule.
func (f *TableFaults) decide(r *http.Request) (TableRequest, Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.Header.Get("x-ms-client-request-id")
	req := TableRequest{Method: r.Method, Path: r.URL.Path, ID: id}
	if id == "" {
		f.ops++
		req.Try, req.Op = 1, f.ops
	} else {
		f.tries[id]++
		req.Try = f.tries[id]
		if req.Try == 1 {
			f.ops++
			f.opOf[id] = f.ops
		}
		req.Op = f.opOf[id]
	}
	if f.rule == nil {
		return req, Pass
	}
	return req, f.rule(req)
}

func (f *TableFaults) forward(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	u := *r.URL
	u.Scheme, u.Host = f.target.Scheme, f.target.Host
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out.Header = r.Header.Clone()
	return tableTransport.RoundTrip(out)
}

var tableTransport = &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}

// tableError writes an error as Table Storage does in JSON
// (learn.microsoft.com/rest/api/storageservices/table-service-error-codes).
func tableError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json;odata=minimalmetadata;streaming=true;charset=utf-8")
	w.Header().Set("x-ms-error-code", code)
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"odata.error":{"code":%q,"message":{"lang":"en-US","value":%q}}}`,
		code, strings.TrimSpace(msg)+"\nRequestId:00000000-0000-0000-0000-000000000000\nTime:"+time.Now().UTC().Format(time.RFC3339Nano))
}

// Ops returns how many operations (first tries) the proxy has seen.
func (f *TableFaults) Ops() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ops
}
