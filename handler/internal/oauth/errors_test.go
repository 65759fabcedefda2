package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

func TestWriteError(t *testing.T) {
	secret := errors.New("dial tcp 10.0.0.4:443: secret detail")
	tests := []struct {
		name       string
		err        error
		basicAuth  bool
		wantStatus int
		wantBody   errorBody
	}{
		{"invalid_request", InvalidRequest("missing %s", "code"), false, 400, errorBody{"invalid_request", "missing code"}},
		{"invalid_client", InvalidClient("unknown client"), false, 401, errorBody{"invalid_client", "unknown client"}},
		{"invalid_client via Basic", InvalidClient("bad secret"), true, 401, errorBody{"invalid_client", "bad secret"}},
		{"invalid_grant", InvalidGrant("used"), false, 400, errorBody{"invalid_grant", "used"}},
		{"unauthorized_client", UnauthorizedClient("no"), false, 400, errorBody{"unauthorized_client", "no"}},
		{"unsupported_grant_type", UnsupportedGrantType("password"), false, 400, errorBody{"unsupported_grant_type", "password"}},
		{"invalid_scope", InvalidScope("x"), false, 400, errorBody{"invalid_scope", "x"}},
		{"invalid_target", InvalidTarget("x"), false, 400, errorBody{"invalid_target", "x"}},
		{"access_denied", AccessDenied("x"), false, 400, errorBody{"access_denied", "x"}},
		{"invalid_redirect_uri", InvalidRedirectURI("x"), false, 400, errorBody{"invalid_redirect_uri", "x"}},
		{"invalid_client_metadata", InvalidClientMetadata("x"), false, 400, errorBody{"invalid_client_metadata", "x"}},
		{"explicit status", &Error{Code: CodeInvalidRequest, Description: "big", Status: 413}, false, 413, errorBody{"invalid_request", "big"}},
		{"wrapped oauth error", fmt.Errorf("ctx: %w", InvalidGrant("expired")), false, 400, errorBody{"invalid_grant", "expired"}},
		{"server_error hides cause", ServerError(secret), false, 500, errorBody{"server_error", "internal server error"}},
		{"unknown error", secret, false, 500, errorBody{"server_error", "internal server error"}},
		{"store unavailable", fmt.Errorf("get client: %w", store.ErrUnavailable), false, 503, errorBody{"temporarily_unavailable", "the service is temporarily unavailable, try again later"}},
		{"server_error over unavailable", ServerError(store.ErrUnavailable), false, 503, errorBody{"temporarily_unavailable", "the service is temporarily unavailable, try again later"}},
		{"value too large for the store", fmt.Errorf("put: %w", store.ErrTooLarge), false, 400, errorBody{"invalid_request", "the request is too large to store"}},
		{"temporarily_unavailable", TemporarilyUnavailable(secret), false, 503, errorBody{"temporarily_unavailable", "the service is temporarily unavailable, try again later"}},
		{"description sanitised", InvalidRequest("bad \"x\"\n\\é"), false, 400, errorBody{"invalid_request", "bad 'x'???"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/token", nil)
			if tt.basicAuth {
				r.SetBasicAuth("id", "secret")
			}
			w := httptest.NewRecorder()
			WriteError(w, r, tt.err)
			if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			var got errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if diff := cmp.Diff(tt.wantBody, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if strings.Contains(w.Body.String(), "secret detail") {
				t.Error("the cause leaked into the response")
			}
			checkNoStore(t, w.Result().Header)
			if got, want := w.Header().Get("WWW-Authenticate") != "", tt.basicAuth; got != want {
				t.Errorf("WWW-Authenticate present = %v, want %v", got, want)
			}
		})
	}
}

func checkNoStore(t *testing.T, h http.Header) {
	t.Helper()
	if h.Get("Cache-Control") != "no-store" || h.Get("Pragma") != "no-cache" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v, want no-store, no-cache, application/json", h)
	}
}

func TestErrorUnwrap(t *testing.T) {
	cause := errors.New("boom")
	err := error(ServerError(cause))
	if !errors.Is(err, cause) {
		t.Error("ServerError does not unwrap to its cause")
	}
	if got := err.Error(); got != "server_error: internal server error: boom" {
		t.Errorf("Error() = %q", got)
	}
}

func TestWriteJSONUnencodable(t *testing.T) {
	w := httptest.NewRecorder()
	WriteJSON(w, http.StatusOK, map[string]any{"f": func() {}})
	if w.Code != 500 || !strings.Contains(w.Body.String(), "server_error") {
		t.Errorf("got %d %s", w.Code, w.Body)
	}
}
