package doctor

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFrom: who wrote an answer, from the answer alone, for each layer's
// documented shape.
func TestFrom(t *testing.T) {
	h := func(kv ...string) http.Header {
		hd := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			hd.Set(kv[i], kv[i+1])
		}
		return hd
	}
	tests := []struct {
		name string
		a    answer
		want source
	}{
		{"handler", answer{Status: 401, Header: h("X-Request-Id", "x", "WWW-Authenticate", `Bearer resource_metadata="u"`)}, fromHandler},
		{"handler 404", answer{Status: 404, Header: h("X-Request-Id", "x")}, fromHandler},
		{"policy on-error", answer{Status: 401, Header: h("WWW-Authenticate", `Bearer resource_metadata="u"`), Body: []byte(`{"error":"invalid_request"}`)}, fromEdge},
		{"APIM operation missing", answer{Status: 404, Header: h(), Body: []byte(`{ "statusCode": 404, "message": "Resource not found" }`)}, fromAPIM},
		{"APIM subscription", answer{Status: 401, Header: h(), Body: []byte(`{"statusCode":401,"message":"Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."}`)}, fromAPIM},
		{"APIM rate limit", answer{Status: 429, Header: h("Retry-After", "5"), Body: []byte(`{"statusCode":429,"message":"Rate limit is exceeded. Try again in 5 seconds."}`)}, fromAPIM},
		{"host key", answer{Status: 401, Header: h()}, fromHost},
		{"host route", answer{Status: 404, Header: h("Content-Length", "0")}, fromHost},
		{"host down", answer{Status: 503, Header: h("Content-Type", "text/plain"), Body: []byte("Function host is not running.")}, fromHost},
		{"Go's text 404 is nobody we know", answer{Status: 404, Header: h(), Body: []byte("404 page not found\n")}, fromUnknown},
		{"no answer", answer{Err: http.ErrHandlerTimeout}, fromTransport},
	}
	for _, tt := range tests {
		if got := tt.a.from(); got != tt.want {
			t.Errorf("%s: from() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestUnexpectedAdvice(t *testing.T) {
	d := &Doctor{}
	tests := []struct {
		a     answer
		layer Layer
		fix   string
	}{
		{answer{Method: "GET", URL: "https://x/.well-known/jwks.json", Status: 429, Header: http.Header{"Retry-After": {"7"}}, Body: []byte(`{"statusCode":429,"message":"Rate limit is exceeded."}`)}, LayerAPIM, "Retry-After: 7"},
		{answer{Method: "GET", URL: "https://x/healthz", Status: 500, Header: http.Header{}, Body: []byte(`{"statusCode":500,"message":"Internal server error"}`)}, LayerAPIM, "backend"},
		{answer{Method: "GET", URL: "https://x/healthz", Status: 503, Header: http.Header{}, Body: []byte("Function host is not running.")}, LayerHost, "log stream"},
		{answer{Method: "POST", URL: "https://x/register", Status: 503, Header: http.Header{"X-Request-Id": {"r9"}}, Body: []byte(`{"error":"temporarily_unavailable"}`)}, LayerConfig, "r9"},
		{answer{Method: "GET", URL: "https://x/.well-known/oauth-authorization-server", Status: 404, Header: http.Header{"X-Request-Id": {"r1"}}}, LayerConfig, "AUTH_MODE"},
		{answer{Method: "GET", URL: "https://x/y", Status: 502, Header: http.Header{}, Body: []byte("<html>Bad Gateway</html>")}, LayerUnknown, "custom domain"},
	}
	for _, tt := range tests {
		r := d.unexpected("check", tt.a, "200")
		if r.Status != Fail || r.Layer != tt.layer || !strings.Contains(r.Fix, tt.fix) {
			t.Errorf("%d %s: %+v, want layer %q and a fix mentioning %q", tt.a.Status, tt.a.snippet(), r, tt.layer, tt.fix)
		}
	}
}

func TestParseChallenge(t *testing.T) {
	tests := []struct {
		in     string
		scheme string
		params map[string]string
	}{
		{`Bearer resource_metadata="https://x/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"`, "Bearer",
			map[string]string{"resource_metadata": "https://x/.well-known/oauth-protected-resource/mcp", "scope": "mcp:tools"}},
		{`Bearer error="invalid_token", resource_metadata="u", scope="a b"`, "Bearer",
			map[string]string{"error": "invalid_token", "resource_metadata": "u", "scope": "a b"}},
		{`bearer Error=invalid_token,realm="a\"b"`, "bearer", map[string]string{"error": "invalid_token", "realm": `a"b`}},
		{`Bearer`, "Bearer", map[string]string{}},
		{``, "", map[string]string{}},
	}
	for _, tt := range tests {
		scheme, params := parseChallenge(tt.in)
		if scheme != tt.scheme || !cmp.Equal(params, tt.params) {
			t.Errorf("parseChallenge(%q) = %q %v, want %q %v", tt.in, scheme, params, tt.scheme, tt.params)
		}
	}
}

// FuzzParseChallenge: any header value parses without panicking, and a
// challenge built from a quoted value gives that value back.
func FuzzParseChallenge(f *testing.F) {
	f.Add(`Bearer resource_metadata="https://x/prm", scope="mcp:tools"`, "https://x/prm")
	f.Add(`Bearer error="invalid_token"`, `a"b\c`)
	f.Fuzz(func(t *testing.T, header, value string) {
		parseChallenge(header)
		quoted := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(value)
		_, p := parseChallenge(`Bearer error="x", resource_metadata="` + quoted + `"`)
		if p["resource_metadata"] != value {
			t.Fatalf("round trip of %q gave %q", value, p["resource_metadata"])
		}
	})
}

func TestJWKSProblems(t *testing.T) {
	rsa := func(kid, alg string) jwk { return jwk{Kty: "RSA", Alg: alg, Use: "sig", Kid: kid, N: bigN(2048)} }
	tests := []struct {
		name string
		keys []jwk
		want string // "" = no problem
	}{
		{"RS256", []jwk{rsa("a", "RS256")}, ""},
		{"PS256 and RS512 with a previous key", []jwk{rsa("a", "PS256"), rsa("b", "RS512")}, ""},
		{"empty", nil, "empty"},
		{"ES256", []jwk{{Kty: "EC", Crv: "P-256", Alg: "ES256", Kid: "e"}}, "ES256, not RSA"},
		{"EC without alg", []jwk{{Kty: "EC", Crv: "P-256", Kid: "e"}}, "EC P-256, not RSA"},
		{"HS256 on an RSA key", []jwk{rsa("a", "HS256")}, "alg HS256"},
		{"no alg", []jwk{rsa("a", "")}, "no alg"},
		{"no kid", []jwk{rsa("", "RS256")}, "no kid"},
		{"duplicate kid", []jwk{rsa("a", "RS256"), rsa("a", "RS256")}, `kid "a" appears twice`},
		{"small modulus", []jwk{{Kty: "RSA", Alg: "RS256", Kid: "a", N: bigN(1024)}}, "1024-bit"},
		{"encryption key", []jwk{{Kty: "RSA", Alg: "RS256", Use: "enc", Kid: "a", N: bigN(2048)}}, `use "enc"`},
	}
	for _, tt := range tests {
		got := strings.Join(jwksProblems(tt.keys, true), "; ")
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: problems %q, want %q", tt.name, got, tt.want)
		}
	}
	if p := jwksProblems([]jwk{{Kty: "RSA", Kid: "entra", N: bigN(2048)}}, false); len(p) != 0 {
		t.Errorf("Entra's keys carry no alg and are fine: %q", p)
	}
}

func TestDecodeRPC(t *testing.T) {
	jsonAns := answer{Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"jsonrpc":"2.0","id":2,"result":{"ok":true}}`)}
	sse := answer{Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: []byte(
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n" +
			"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":2,\n" + "data: \"result\":{\"ok\":true}}\n\n")}
	for name, a := range map[string]answer{"json": jsonAns, "sse": sse} {
		r, err := decodeRPC(a, 2)
		if err != nil || string(r.Result) != `{"ok":true}` {
			t.Errorf("%s: %v %v", name, r, err)
		}
	}
	if _, err := decodeRPC(jsonAns, 3); err == nil {
		t.Error("a response to another id was taken")
	}
}

func TestCheckCallback(t *testing.T) {
	d := &Doctor{as: &asMetadata{Issuer: "https://apim.example", ISSParameterSupported: true}, base: "https://apim.example", mode: "proxy"}
	tests := []struct {
		name  string
		q     url.Values
		pass  bool
		layer Layer
		says  string
	}{
		{"good", url.Values{"code": {"c"}, "state": {"s"}, "iss": {"https://apim.example"}}, true, "", ""},
		{"state mismatch", url.Values{"code": {"c"}, "state": {"other"}, "iss": {"https://apim.example"}}, false, LayerConfig, "state does not match"},
		{"iss missing", url.Values{"code": {"c"}, "state": {"s"}}, false, LayerConfig, "RFC 9207"},
		{"iss of another server", url.Values{"code": {"c"}, "state": {"s"}, "iss": {"https://evil.example"}}, false, LayerConfig, "RFC 9207"},
		{"Entra code", url.Values{"error": {"invalid_request"}, "error_description": {"AADSTS50011: The redirect URI 'x' specified in the request does not match"}}, false, LayerEntra, "AADSTS50011"},
		{"unknown Entra code", url.Values{"error": {"invalid_request"}, "error_description": {"AADSTS1234567: something new"}}, false, LayerEntra, "login.microsoftonline.com/error?code=1234567"},
		{"Entra refused, code in our log", url.Values{"error": {"access_denied"}, "error_description": {"sign-in at Microsoft Entra ID did not complete"}}, false, LayerEntra, "Function App's logs"},
		{"user denied", url.Values{"error": {"access_denied"}, "error_description": {"the user denied the request"}}, false, LayerUnknown, "Deny"},
	}
	for _, tt := range tests {
		rep := &Reporter{}
		d.rep = rep
		_, ok := d.checkCallback("sign-in", tt.q, "s")
		r := rep.Results()[0]
		if ok != tt.pass || (!tt.pass && (r.Layer != tt.layer || !strings.Contains(r.Detail+" "+r.Fix, tt.says))) {
			t.Errorf("%s: ok=%t %+v, want pass=%t layer %q mentioning %q", tt.name, ok, r, tt.pass, tt.layer, tt.says)
		}
	}
}

func TestBrowserArgs(t *testing.T) {
	for cmd, want := range map[string][]string{
		"firefox":             {"firefox", "U"},
		"chromium --new %s":   {"chromium", "--new", "U"},
		"open --url=%s --bg ": {"open", "--url=U", "--bg"},
	} {
		if got := browserArgs(cmd, "U"); !cmp.Equal(got, want) {
			t.Errorf("browserArgs(%q) = %q, want %q", cmd, got, want)
		}
	}
}

func TestReporterOutput(t *testing.T) {
	var plain, color bytes.Buffer
	for _, rep := range []*Reporter{{Out: &plain}, {Out: &color, Color: true}} {
		rep.Add(Result{Name: "a", Status: Pass, Detail: "fine"})
		rep.Add(Result{Name: "b", Status: Fail, Detail: "broken", Layer: LayerHost, Fix: "do X"})
		rep.Add(Result{Name: "c", Status: Fail, Detail: "broken too", Layer: LayerHost, Fix: "do X"})
		rep.Add(Result{Name: "d", Status: Skip, Detail: "n/a"})
		if rep.Summary() != "1 passed, 2 failed, 1 skipped" || !rep.Failed() {
			t.Errorf("summary %q", rep.Summary())
		}
	}
	want := "PASS a: fine\nFAIL b: broken\n     layer: Functions host. Fix: do X\nFAIL c: broken too\n     layer: Functions host. Fix: as above.\nSKIP d: n/a\n"
	if plain.String() != want {
		t.Errorf("plain output:\n%s\nwant:\n%s", plain.String(), want)
	}
	if strings.Contains(plain.String(), "\x1b") || !strings.Contains(color.String(), "\x1b[31m  ✗ \x1b[0m b: broken") {
		t.Errorf("colour only when asked:\n%q\n%q", plain.String(), color.String())
	}
}

// TestEntraCodesHaveReadmeRows: every AADSTS code the doctor explains
// points at a row of infra/README.md, so the row must exist.
func TestEntraCodesHaveReadmeRows(t *testing.T) {
	readme, err := os.ReadFile("../../../infra/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range EntraCodes() {
		if !bytes.Contains(readme, []byte("| **"+code+"**")) {
			t.Errorf("infra/README.md has no troubleshooting row for %s", code)
		}
	}
}
