package reqlog

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestMiddleware(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(ContextHandler{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})})
	h := Middleware(logger, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "inside")
		switch r.URL.Path {
		case "/panic":
			panic("boom")
		case "/teapot":
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	tests := []struct {
		name, path, invocationID string
		wantStatus               int
		wantID                   string // "" means a fresh one
	}{
		{"the host's invocation id is the request id", "/ok", "4f7c1b2e-0a2b-4c3d-9e8f-0123456789ab", 200, "4f7c1b2e-0a2b-4c3d-9e8f-0123456789ab"},
		{"an unsafe id is replaced", "/ok", "x\" injected=1", 200, ""},
		{"status is recorded", "/teapot", "", 418, ""},
		{"a panic is a 500", "/panic", "", 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			r := httptest.NewRequest("GET", tt.path+"?code=secret", nil)
			if tt.invocationID != "" {
				r.Header.Set("X-Ms-Invocation-Id", tt.invocationID)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			id := w.Header().Get("X-Request-Id")
			if w.Code != tt.wantStatus || id == "" || (tt.wantID != "" && id != tt.wantID) || strings.Contains(id, `"`) {
				t.Fatalf("status %d, X-Request-Id %q", w.Code, id)
			}
			log := buf.String()
			if strings.Count(log, "request_id="+id) < 2 || !strings.Contains(log, "status="+strconv.Itoa(tt.wantStatus)) {
				t.Errorf("want the handler's line and the request line, with request_id=%s and status=%d:\n%s", id, tt.wantStatus, log)
			}
			if strings.Contains(log, "secret") {
				t.Errorf("the query string was logged:\n%s", log)
			}
			if tt.wantStatus == 500 && (!strings.Contains(log, "msg=panic") || !strings.Contains(w.Body.String(), "server_error")) {
				t.Errorf("panic: body %q, log:\n%s", w.Body, log)
			}
		})
	}
}
