package reqlog

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The request id is the Functions host's invocation id (or X-Request-Id)
// when it is safe to log and echo, a new one otherwise; new ids differ.
func TestRequestID(t *testing.T) {
	h := Middleware(slog.New(slog.DiscardHandler), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ID(r.Context()) != w.Header().Get("X-Request-Id") {
			t.Error("context and header ids differ")
		}
	}))
	id := func(hdr, v string) string {
		r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		if hdr != "" {
			r.Header.Set(hdr, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Header().Get("X-Request-Id")
	}
	for _, v := range []string{"7f3c9a2e-1b4d-4c8e-9f00-123456789abc", "a", "A.b_c:d-9", strings.Repeat("x", 128)} {
		if got := id("X-Ms-Invocation-Id", v); got != v {
			t.Errorf("invocation id %q: request id %q", v, got)
		}
	}
	if got := id("X-Request-Id", "from-client"); got != "from-client" {
		t.Errorf("X-Request-Id: request id %q", got)
	}
	seen := map[string]bool{}
	for _, v := range []string{"", "has space", "new\nline", "<script>", strings.Repeat("x", 129), "ünïcode", "a/b"} {
		got := id("X-Ms-Invocation-Id", v)
		if got == v || !safeID(got) || seen[got] {
			t.Errorf("unsafe id %q: request id %q, want a new safe one", v, got)
		}
		seen[got] = true
	}
}
