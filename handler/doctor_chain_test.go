package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
)

// TestDoctorPassesLocalChain runs `doctor --sign-in` against the whole local
// chain (APIM stand-in with the real policies → funchost enforcing function
// keys → handler, Entra emulator), with $BROWSER doing the sign-in
// headlessly.
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
		"PASS 401 challenge on POST /mcp without a token: resource_metadata=\"" + st.BaseURL + "/.well-known/oauth-protected-resource/mcp\", answered by API Management's policy",
		"PASS cross-origin 401 exposes WWW-Authenticate",
		"PASS CORS preflight OPTIONS /mcp from http://localhost:6274: 204, answered by the handler",
		"PASS API Management's /mcp policy: validate-jwt answered at the edge",
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
	noEnv := func(emulatorProc) []string { return nil }
	tests := []struct {
		name   string
		start  func(t *testing.T) string // returns the MCP URL to check
		failed string                    // a check that must fail…
		layer  string                    // …blaming this layer
		fix    string                    // …with a fix that says this
	}{
		{
			name: "function key missing: the host reached without APIM",
			start: func(t *testing.T) string {
				return startStack(t, "proxy").HostURL + "/mcp"
			},
			failed: "FAIL protected resource metadata", layer: "Functions host", fix: "function-host-key",
		},
		{
			name: "function key wrong: a stale function-host-key named value",
			start: func(t *testing.T) string {
				return startStackAPIM(t, "proxy", noEnv, apimOptions{namedValues: func(nv map[string]string) {
					nv["function-host-key"] = "a-stale-key"
				}}).BaseURL + "/mcp"
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
		{
			name: "the /mcp operations lack their policy",
			start: func(t *testing.T) string {
				dir := infraWith(t, func(op map[string]any) bool {
					if strings.HasSuffix(op["name"].(string), "-mcp") {
						op["policy"] = ""
					}
					return true
				})
				return startStackAPIM(t, "proxy", noEnv, apimOptions{infraDir: dir}).BaseURL + "/mcp"
			},
			failed: "FAIL API Management's /mcp policy", layer: "API Management", fix: "mcp-proxy.xml",
		},
		{
			name: "the POST /mcp operation is missing",
			start: func(t *testing.T) string {
				dir := infraWith(t, func(op map[string]any) bool { return op["name"] != "post-mcp" })
				return startStackAPIM(t, "proxy", noEnv, apimOptions{infraDir: dir}).BaseURL + "/mcp"
			},
			failed: "FAIL 401 challenge on POST /mcp without a token: API Management has no operation for it", layer: "API Management", fix: "azd provision",
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
			lines := strings.SplitN(out[i:], "\n", 3)
			if len(lines) < 2 || !strings.Contains(lines[1], "layer: "+tt.layer+".") || !strings.Contains(lines[1], tt.fix) {
				t.Errorf("after %q: %q, want layer %q and a fix mentioning %q", tt.failed, lines[1:], tt.layer, tt.fix)
			}
		})
	}
}

// infraWith copies ../infra to a temporary folder, keeping only the
// operations of apim-operations.json for which keep returns true (keep may
// change them): a deployment with an operation or a policy taken out.
func infraWith(t *testing.T, keep func(op map[string]any) bool) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../infra")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "apim-operations.json")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var ops, kept []map[string]any
	if err := json.Unmarshal(raw, &ops); err != nil {
		t.Fatal(err)
	}
	before := mustJSON(t, ops)
	for _, op := range ops {
		if keep(op) {
			kept = append(kept, op)
		}
	}
	after := mustJSON(t, kept)
	if bytes.Equal(before, after) {
		t.Fatal("infraWith changed nothing")
	}
	if err := os.WriteFile(file, after, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
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

// TestDoctorNotesRefusedOrigin: a deployment whose ALLOWED_ORIGINS leaves
// out MCP Inspector's origin (the default) refuses it with 403 at the edge;
// the doctor says so as a note, checks the challenge as a non-browser
// client sees it, skips the preflight, and passes.
func TestDoctorNotesRefusedOrigin(t *testing.T) {
	st := startStack(t, "proxy", "ALLOWED_ORIGINS=")
	out, code := runDoctor(t, []string{"NO_COLOR=1"}, st.BaseURL+"/mcp")
	if fails := checkLines(out, "FAIL"); code != 0 || len(fails) != 0 {
		t.Errorf("exit code %d, failures %q", code, fails)
	}
	for _, want := range []string{
		"NOTE browser origin http://localhost:6274: refused with 403 by API Management's policy: not in ALLOWED_ORIGINS",
		"PASS 401 challenge on POST /mcp without a token",
		"SKIP CORS preflight OPTIONS /mcp from http://localhost:6274: http://localhost:6274 is not in ALLOWED_ORIGINS",
		"PASS API Management's /mcp policy: validate-jwt answered at the edge",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
