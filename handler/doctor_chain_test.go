package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
)

// TestDoctorPassesLocalChain runs `doctor -sign-in` against the emulator +
// handler behind funchost, with $BROWSER doing the sign-in headlessly.
func TestDoctorPassesLocalChain(t *testing.T) {
	st := startStack(t, "proxy", storageEnv(t)...)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"BROWSER=" + self,
		"DOCTOR_TEST_BROWSER_UPN=MeganB@contoso.example",
		"DOCTOR_TEST_BROWSER_CA=" + st.Emu.CAFile,
		"NO_COLOR=1",
	}
	out, code := runDoctor(t, env, "--sign-in", "-sign-in-timeout", "60s", st.BaseURL+"/mcp")

	if fails := checkLines(out, "FAIL"); code != 0 || len(fails) != 0 {
		t.Errorf("exit code %d, failures %q", code, fails)
	}
	for _, want := range []string{
		"PASS handler reachable (GET /healthz)",
		"PASS PRM resource is the MCP URL: " + st.BaseURL + "/mcp",
		"PASS authorization server metadata",
		"PASS JWKS usable by APIM's validate-jwt: 1 RSA key(s), RS256",
		"PASS 401 challenge on POST /mcp without a token",
		"PASS cross-origin 401 exposes WWW-Authenticate",
		"PASS CORS preflight OPTIONS /mcp",
		"PASS dynamic client registration (POST /register): created a throwaway client registration",
		"PASS sign-in: code received, state and iss checked",
		"PASS token (authorization_code)",
		"PASS MCP initialize + tools/call whoami: signed in as Megan Bowen",
		"PASS refresh (rotation): new refresh token",
		"PASS revoke (RFC 7009)",
		"PASS access token after revocation: 401 invalid_token",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colours in output that is not a terminal")
	}
}

// TestDoctorNamesBrokenLayer points the doctor at chains broken on purpose
// and expects it to blame the right layer.
func TestDoctorNamesBrokenLayer(t *testing.T) {
	tests := []struct {
		name   string
		start  func(t *testing.T) string // returns the MCP URL to check
		failed string                    // a check that must fail…
		layer  string                    // …blaming this layer
		fix    string                    // …with a fix that says this
	}{
		{
			name: "function key missing",
			start: func(t *testing.T) string {
				return startStackKeys(t, "proxy", func(emulatorProc) []string { return nil }, []string{"the-host-key"}).BaseURL + "/mcp"
			},
			failed: "FAIL protected resource metadata", layer: "Functions host", fix: "function-host-key",
		},
		{
			name: "function key wrong",
			start: func(t *testing.T) string {
				st := startStackKeys(t, "proxy", func(emulatorProc) []string { return nil }, []string{"the-host-key"})
				target, _ := url.Parse(st.BaseURL)
				proxy := httputil.NewSingleHostReverseProxy(target)
				inner := proxy.Director
				proxy.Director = func(r *http.Request) { inner(r); r.Header.Set("x-functions-key", "a-stale-key") }
				front := httptest.NewServer(proxy)
				t.Cleanup(front.Close)
				return front.URL + "/mcp"
			},
			failed: "FAIL protected resource metadata", layer: "Functions host", fix: "az functionapp keys list",
		},
		{
			name: "wrong PUBLIC_BASE_URL",
			start: func(t *testing.T) string {
				return startStack(t, "proxy", "PUBLIC_BASE_URL=https://mcp.contoso.example").BaseURL + "/mcp"
			},
			failed: "FAIL PRM resource is the MCP URL: resource is https://mcp.contoso.example/mcp", layer: "handler configuration", fix: "PUBLIC_BASE_URL",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := runDoctor(t, []string{"NO_COLOR=1"}, tt.start(t))
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			i := strings.Index(out, tt.failed)
			if i < 0 {
				t.Fatalf("output lacks %q", tt.failed)
			}
			// The layer and fix line follows the failure line.
			rest := out[i:]
			lines := strings.SplitN(rest, "\n", 3)
			if len(lines) < 2 || !strings.Contains(lines[1], "layer: "+tt.layer+".") || !strings.Contains(lines[1], tt.fix) {
				t.Errorf("after %q: %q, want layer %q and a fix mentioning %q", tt.failed, lines[1:], tt.layer, tt.fix)
			}
		})
	}
}

// TestDoctorPassesEntraMode: in mode entra the doctor follows PRM to the
// (emulated) Entra tenant, and signs in there with a public client.
func TestDoctorPassesEntraMode(t *testing.T) {
	st := startStack(t, "entra")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"BROWSER=" + self, "DOCTOR_TEST_BROWSER_UPN=AlexW@contoso.example", "DOCTOR_TEST_BROWSER_CA=" + st.Emu.CAFile}
	out, code := runDoctor(t, env, "--sign-in", "-sign-in-timeout", "60s", "-ca-file", st.Emu.CAFile,
		"-client-id", entraemu.DevPublicClientID, st.BaseURL+"/mcp")
	if code != 0 || len(checkLines(out, "FAIL")) != 0 {
		t.Errorf("exit %d, failures %q", code, checkLines(out, "FAIL"))
	}
	for _, want := range []string{
		"NOTE mode: entra: clients sign in at an Entra-shaped authority",
		"PASS Entra discovery",
		"PASS Entra JWKS usable by APIM's validate-jwt",
		"PASS sign-in: code received",
		"PASS MCP initialize + tools/call whoami: signed in as Alex Wilber",
		"PASS refresh (rotation)",
		"SKIP revoke (RFC 7009)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
