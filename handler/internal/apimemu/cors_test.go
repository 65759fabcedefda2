package apimemu

import (
	"net/http"
	"strings"
	"testing"
)

const corsElement = `<cors allow-credentials="false">
	<allowed-origins><origin>*</origin></allowed-origins>
	<allowed-methods preflight-result-max-age="600"><method>GET</method><method>POST</method><method>DELETE</method></allowed-methods>
	<allowed-headers><header>Authorization</header><header>Content-Type</header></allowed-headers>
	<expose-headers><header>WWW-Authenticate</header><header>Mcp-Session-Id</header></expose-headers>
</cors>`

func corsGateway(t *testing.T, extraOps ...Operation) string {
	t.Helper()
	dir := testInfra{
		ops: append([]Operation{
			{Name: "post-x", Method: "POST", URLTemplate: "/x", Policy: "cors"},
			{Name: "get-x", Method: "GET", URLTemplate: "/x", Policy: "cors"},
			{Name: "get-page", Method: "GET", URLTemplate: "/page", Policy: "plain"},
			{Name: "get-early", Method: "GET", URLTemplate: "/early", Policy: "early"},
		}, extraOps...),
		policies: map[string]string{
			"cors":  testPolicy(corsElement+"<base />", "<base />", "<base />", "<base />"),
			"plain": plainPolicy,
			"early": testPolicy(corsElement+`<base /><return-response><set-status code="401" reason="Unauthorized" /></return-response>`, "<base />", "<base />", "<base />"),
			"listed": testPolicy(`<cors><allowed-origins><origin>https://app.example</origin><origin>http://localhost:6274</origin></allowed-origins>
				<allowed-headers><header>*</header></allowed-headers></cors><base />`, "<base />", "<base />", "<base />"),
		},
	}.write(t)
	gw, _ := startGateway(t, Config{InfraDir: dir}, newEcho(t).URL)
	return gw
}

// TestCORSPreflight: the cors policy answers the preflight itself (the echo
// backend is never asked), with the allowed methods, headers and max age.
func TestCORSPreflight(t *testing.T) {
	gw := corsGateway(t)
	resp, body := do(t, newReq(t, "OPTIONS", gw+"/x", "Origin", "https://inspector.example",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type"))
	want := map[string]string{
		"Access-Control-Allow-Origin":      "*",
		"Access-Control-Allow-Methods":     "GET, POST, DELETE",
		"Access-Control-Allow-Headers":     "Authorization, Content-Type",
		"Access-Control-Max-Age":           "600",
		"Access-Control-Allow-Credentials": "false",
	}
	if resp.StatusCode != 200 || body != "" {
		t.Fatalf("preflight: %d %q", resp.StatusCode, body)
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}

	for name, req := range map[string]*http.Request{
		"header not allowed": newReq(t, "OPTIONS", gw+"/x", "Origin", "https://a.example", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "x-custom"),
		"method not allowed": newReq(t, "OPTIONS", gw+"/x", "Origin", "https://a.example", "Access-Control-Request-Method", "DELETE"),
	} {
		// DELETE is allowed by the policy but /x has no DELETE operation:
		// nothing matches, so 404; a disallowed header gets an empty 200.
		resp, body := do(t, req)
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: CORS headers on a refused preflight", name)
		}
		switch name {
		case "header not allowed":
			if resp.StatusCode != 200 || body != "" {
				t.Errorf("%s: %d %q, want an empty 200", name, resp.StatusCode, body)
			}
		case "method not allowed":
			if resp.StatusCode != 404 {
				t.Errorf("%s: %d, want 404 (no operation)", name, resp.StatusCode)
			}
		}
	}
	// A page without a cors policy: no preflight answer.
	resp, _ = do(t, newReq(t, "OPTIONS", gw+"/page", "Origin", "https://a.example", "Access-Control-Request-Method", "GET"))
	if resp.StatusCode != 404 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight to a page without cors: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestCORSOptionsOperationDisablesPreflight: with an OPTIONS operation the
// preflight goes through the pipeline to the backend instead.
func TestCORSOptionsOperationDisablesPreflight(t *testing.T) {
	gw := corsGateway(t, Operation{Name: "options-x", Method: "OPTIONS", URLTemplate: "/x", Policy: "plain"})
	resp, body := do(t, newReq(t, "OPTIONS", gw+"/x", "Origin", "https://a.example", "Access-Control-Request-Method", "POST"))
	if resp.StatusCode != 200 || !strings.Contains(body, `"Method":"OPTIONS"`) {
		t.Fatalf("OPTIONS operation: %d %s, want the backend's answer", resp.StatusCode, body)
	}
}

// TestCORSActualRequest: a cross-origin request gets the policy's headers
// on the response (replacing the backend's), a same-origin one none, a
// page without cors none, and a response made by return-response none.
func TestCORSActualRequest(t *testing.T) {
	gw := corsGateway(t, Operation{Name: "get-listed", Method: "GET", URLTemplate: "/listed", Policy: "listed"})
	resp, _ := do(t, newReq(t, "GET", gw+"/x", "Origin", "https://inspector.example"))
	if resp.Header.Values("Access-Control-Allow-Origin")[0] != "*" || len(resp.Header.Values("Access-Control-Allow-Origin")) != 1 ||
		resp.Header.Get("Access-Control-Expose-Headers") != "WWW-Authenticate, Mcp-Session-Id" {
		t.Errorf("cross-origin GET headers %v", resp.Header)
	}
	resp, _ = do(t, newReq(t, "GET", gw+"/x"))
	if resp.Header.Get("Access-Control-Expose-Headers") != "" {
		t.Errorf("no Origin, yet CORS headers were added: %v", resp.Header)
	}
	resp, _ = do(t, newReq(t, "GET", gw+"/page", "Origin", "https://inspector.example"))
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://backend-says.example" {
		t.Errorf("page without cors: ACAO %q, want the backend's own", got)
	}
	resp, _ = do(t, newReq(t, "GET", gw+"/early", "Origin", "https://inspector.example"))
	if resp.StatusCode != 401 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("return-response: %d, ACAO %q (return-response skips outbound)", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}

	// Listed origins match by scheme, host and port (default ports filled in).
	for origin, ok := range map[string]bool{"https://app.example": true, "https://APP.example:443": true, "http://app.example": false,
		"http://localhost:6274": true, "http://localhost:6275": false} {
		resp, _ := do(t, newReq(t, "GET", gw+"/listed", "Origin", origin))
		got := resp.Header.Get("Access-Control-Allow-Origin")
		if ok && got != origin || !ok && got != "https://backend-says.example" {
			t.Errorf("origin %s: ACAO %q", origin, got)
		}
		if ok && !strings.Contains(resp.Header.Get("Vary"), "Origin") {
			t.Errorf("origin %s: echoed origin without Vary: Origin", origin)
		}
	}
	resp, _ = do(t, newReq(t, "OPTIONS", gw+"/listed", "Origin", "http://localhost:6274", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "x-anything"))
	if resp.Header.Get("Access-Control-Allow-Headers") != "x-anything" || resp.Header.Get("Access-Control-Allow-Methods") != "GET, POST" {
		t.Errorf("wildcard headers and default methods: %v", resp.Header)
	}
}
