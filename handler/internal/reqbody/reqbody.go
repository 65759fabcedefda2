// Package reqbody bounds how long a request body may take to arrive, on
// every endpoint: a client that sends its headers and then drips the body
// a byte at a time would otherwise hold a connection, a goroutine and, on
// the Functions host, an invocation open for as long as it likes (a body
// dripped at one byte every 4 s kept /register open for 40 s).
//
// The deadline is set per request, through http.ResponseController, only
// for requests that have a body, so it covers the body alone (the server's
// ReadHeaderTimeout bounds the headers), applies wherever the handler is
// served, and leaves requests without a body, such as GET /mcp, alone. Once
// the body has been read, net/http lifts the connection's read deadline
// itself when it starts its background read (connReader.startBackgroundRead),
// so a handler that then works longer than the deadline keeps its context.
// A read that hits the deadline fails with an error wrapping ErrTimeout,
// which handlers answer with 408 Request Timeout.
package reqbody

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// DefaultTimeout is the time a request body has to arrive, from the moment
// the handler starts: a 4 MiB MCP message at 400 KB/s, every OAuth form
// many times over.
const DefaultTimeout = 10 * time.Second

// ErrTimeout is wrapped by the error a body read returns when the body did
// not arrive in time. Handlers answer it with 408 Request Timeout.
var ErrTimeout = errors.New("the request body did not arrive in time")

// Deadline gives the body of every request next serves timeout to arrive
// (DefaultTimeout if 0). Where the ResponseWriter cannot set a read
// deadline (a test recorder) requests pass unchanged.
func Deadline(timeout time.Duration) func(http.Handler) http.Handler {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
				next.ServeHTTP(w, r)
				return
			}
			rc := http.NewResponseController(w)
			if err := rc.SetReadDeadline(time.Now().Add(timeout)); err != nil {
				next.ServeHTTP(w, r)
				return
			}
			r.Body = &body{ReadCloser: r.Body, timeout: timeout}
			next.ServeHTTP(w, r)
		})
	}
}

// body marks a read that hit the deadline with ErrTimeout.
type body struct {
	io.ReadCloser
	timeout time.Duration
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		// The connection is unusable now; the server closes it after the
		// handler's answer.
		return n, fmt.Errorf("%w (%s): %w", ErrTimeout, b.timeout, err)
	}
	return n, err
}
