package cors

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A preflight is answered in full, for any origin and any requested
// headers (the browser compares them with the list), without credentials.
func TestPreflight(t *testing.T) {
	r := httptest.NewRequest(http.MethodOptions, "/register", nil)
	r.Header.Set("Origin", "http://localhost:6274")
	r.Header.Set("Access-Control-Request-Method", "POST")
	r.Header.Set("Access-Control-Request-Headers", "content-type, mcp-protocol-version")
	w := httptest.NewRecorder()
	Preflight(http.MethodPost).ServeHTTP(w, r)
	want := http.Header{
		"Access-Control-Allow-Origin":   {"*"},
		"Access-Control-Allow-Methods":  {"POST, OPTIONS"},
		"Access-Control-Allow-Headers":  {"Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID"},
		"Access-Control-Max-Age":        {"600"},
		"Access-Control-Expose-Headers": {"WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version"},
	}
	if diff := cmp.Diff(want, w.Result().Header); w.Code != http.StatusNoContent || diff != "" {
		t.Errorf("preflight %d, headers (-want +got):\n%s", w.Code, diff)
	}
}

// Every answer of an allowed route is readable cross-origin, whatever its
// status, and a header the handler adds to one answer leaks into no other.
func TestAllow(t *testing.T) {
	h := Allow(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Access-Control-Expose-Headers", "X-Extra")
		w.WriteHeader(http.StatusUnauthorized)
	}))
	for i := range 2 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/mcp", nil))
		want := http.Header{
			"Access-Control-Allow-Origin":   {"*"},
			"Access-Control-Expose-Headers": {"WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version", "X-Extra"},
		}
		if diff := cmp.Diff(want, w.Result().Header); w.Code != 401 || diff != "" {
			t.Errorf("answer %d: %d, headers (-want +got):\n%s", i, w.Code, diff)
		}
	}
	if exposed[0] != "WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version" || len(exposed) != 1 {
		t.Errorf("the shared value changed: %q", exposed)
	}
}
