package cors

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestListed: /mcp's answers and preflights reflect a listed origin (never
// "*" for a browser), pass a request without Origin, and refuse any other
// origin, a case variant or a second Origin header included, before the
// endpoint runs.
func TestListed(t *testing.T) {
	served := false
	l := Listed{Origins: []string{"http://localhost:6274", "https://app.example"},
		Refuse: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) })}
	allow := l.Allow(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served = true }))
	preflight := l.Preflight("GET", "POST", "DELETE")
	tests := []struct {
		name    string
		origins []string
		want    int
		acao    string
	}{
		{"no Origin: a non-browser client", nil, http.StatusOK, "*"},
		{"listed", []string{"http://localhost:6274"}, http.StatusOK, "http://localhost:6274"},
		{"the other listed one", []string{"https://app.example"}, http.StatusOK, "https://app.example"},
		{"not listed", []string{"https://evil.example"}, http.StatusForbidden, ""},
		{"another port", []string{"http://localhost:6275"}, http.StatusForbidden, ""},
		{"case variant", []string{"HTTP://LOCALHOST:6274"}, http.StatusForbidden, ""},
		{"null (sandboxed page, file:)", []string{"null"}, http.StatusForbidden, ""},
		{"two Origin headers", []string{"http://localhost:6274", "https://evil.example"}, http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{http.MethodPost, http.MethodOptions} {
				served = false
				r := httptest.NewRequest(method, "/mcp", nil)
				for _, o := range tt.origins {
					r.Header.Add("Origin", o)
				}
				r.Header.Set("Access-Control-Request-Method", "POST")
				w := httptest.NewRecorder()
				h := allow
				want := tt.want
				if method == http.MethodOptions {
					h = preflight
					if want == http.StatusOK {
						want = http.StatusNoContent
					}
				}
				h.ServeHTTP(w, r)
				if w.Code != want || w.Header().Get("Access-Control-Allow-Origin") != tt.acao {
					t.Errorf("%s: %d, Access-Control-Allow-Origin %q; want %d, %q", method, w.Code, w.Header().Get("Access-Control-Allow-Origin"), want, tt.acao)
				}
				if method == http.MethodPost && served != (tt.want == http.StatusOK) {
					t.Errorf("endpoint served: %v", served)
				}
				if tt.want == http.StatusOK && w.Header().Get("Vary") != "Origin" {
					t.Errorf("%s: Vary %q, want Origin", method, w.Header().Get("Vary"))
				}
				if method == http.MethodOptions && tt.want == http.StatusOK && w.Header().Get("Access-Control-Allow-Methods") != "GET, POST, DELETE, OPTIONS" {
					t.Errorf("preflight methods %q", w.Header().Get("Access-Control-Allow-Methods"))
				}
			}
		})
	}
}
