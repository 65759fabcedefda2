package entraemu

import (
	"net/http"
	"strings"
	"testing"
)

// TestMalformedRequestsNever5xx throws bad input at every endpoint: the
// answer is always an error the client caused, never a 5xx.
func TestMalformedRequestsNever5xx(t *testing.T) {
	e := NewTestServer(t, nil)
	tenant := "/" + DevTenantID
	big := strings.Repeat("a", maxBodyBytes+10)
	cases := []struct{ method, path, ctype, body string }{
		{"POST", tenant + "/oauth2/v2.0/token", "application/x-www-form-urlencoded", "grant_type=%zz"},
		{"POST", tenant + "/oauth2/v2.0/token", "application/x-www-form-urlencoded", "grant_type=authorization_code&client_id=" + big},
		{"POST", tenant + "/oauth2/v2.0/token", "application/json", `{"grant_type":"authorization_code"}`},
		{"POST", tenant + "/oauth2/v2.0/token", "application/x-www-form-urlencoded", "grant_type=refresh_token&client_id=" + DevPublicClientID},
		{"POST", tenant + "/oauth2/v2.0/token", "application/x-www-form-urlencoded", "grant_type=" + grantJWTBearer + "&client_id=" + DevAppClientID + "&client_secret=" + DevAppClientSecret + "&requested_token_use=on_behalf_of&assertion=eyJhbGciOiJub25lIn0.e30."},
		{"PUT", tenant + "/oauth2/v2.0/authorize", "", ""},
		{"POST", tenant + "/oauth2/v2.0/authorize", "application/x-www-form-urlencoded", "client_id=%zz"},
		{"POST", tenant + "/oauth2/v2.0/authorize", "application/x-www-form-urlencoded", big},
		{"GET", tenant + "/oauth2/v2.0/authorize?client_id=" + DevPublicClientID + "&redirect_uri=%3A%2F%2F", "", ""},
		{"GET", "/v1.0/me", "", ""},
		{"GET", "/msi/token?api-version=2019-08-01", "", ""},
		{"GET", "/nope", "", ""},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, e.BaseURL()+c.path, strings.NewReader(c.body))
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		req.Header.Set("Authorization", "Bearer not-a-jwt")
		resp, err := e.Client().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 || resp.StatusCode < 400 {
			t.Errorf("%s %s (%.40s): status %d", c.method, c.path, c.body, resp.StatusCode)
		}
	}
}
