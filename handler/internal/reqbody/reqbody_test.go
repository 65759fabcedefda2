package reqbody

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const timeout = 200 * time.Millisecond

// serve runs h behind Deadline(timeout) on a real server (a test recorder
// cannot set read deadlines).
func serve(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(Deadline(timeout)(h))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// raw sends head, then drips the rest of body one byte every interval,
// and returns the status line the server answers with and when.
func raw(t *testing.T, addr, head, body string, interval time.Duration) (string, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	go func() {
		for i := range len(body) {
			if _, err := io.WriteString(conn, body[i:i+1]); err != nil {
				return // the server closed the connection
			}
			time.Sleep(interval)
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	return strings.TrimSpace(line), time.Since(start)
}

// TestDeadlineCutsADrippedBody: a body dripped a byte at a time (one byte
// every 4 s kept /register open for 40 s) is cut off at the deadline; the
// handler's read fails with ErrTimeout and its answer goes out.
func TestDeadlineCutsADrippedBody(t *testing.T) {
	errs := make(chan error, 1)
	addr := serve(t, func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		errs <- err
		if errors.Is(err, ErrTimeout) {
			http.Error(w, "too slow", http.StatusRequestTimeout)
		}
	})
	body := strings.Repeat("x", 100) // 100 bytes at 10 a second: 10 s
	status, took := raw(t, addr, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n", body, 100*time.Millisecond)
	if status != "HTTP/1.1 408 Request Timeout" {
		t.Errorf("status %q, want 408", status)
	}
	if err := <-errs; !errors.Is(err, ErrTimeout) {
		t.Errorf("read error %v, want ErrTimeout", err)
	}
	if took > 5*time.Second {
		t.Errorf("answered after %s: the body was waited for", took)
	}
}

// TestDeadlineLifted: once the body has arrived, or when there is none,
// the handler may take longer than the timeout (a tool call waiting on
// Microsoft Graph): its request's context is not cancelled.
func TestDeadlineLifted(t *testing.T) {
	addr := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case <-r.Context().Done():
			http.Error(w, "context cancelled while the handler worked", http.StatusInternalServerError)
		case <-time.After(3 * timeout):
			_, _ = io.WriteString(w, "ok")
		}
	})
	for name, head := range map[string]string{
		"with a body":    "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}",
		"chunked":        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
		"without a body": "GET / HTTP/1.1\r\nHost: t\r\n\r\n",
	} {
		if status, _ := raw(t, addr, head, "", 0); status != "HTTP/1.1 200 OK" {
			t.Errorf("%s: %q, want 200", name, status)
		}
	}
}

// TestDeadlineNeedsAConnection: where the writer cannot set a deadline (a
// test recorder) the request passes unchanged.
func TestDeadlineNeedsAConnection(t *testing.T) {
	var got io.ReadCloser
	body := io.NopCloser(strings.NewReader("{}"))
	h := Deadline(timeout)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.Body }))
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Body, r.ContentLength = body, 2
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got != body {
		t.Error("body wrapped without a deadline to lift")
	}
}
