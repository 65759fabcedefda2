package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestDeps (after tailscale's tstest/deptest): the binary that is deployed
// links none of the test infrastructure and none of the local stand-ins,
// which are separate commands or test helpers. It lists the packages the
// handler links when built as scripts/build.sh builds it.
func TestDeps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	linked := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		linked[p] = true
	}
	const mod = "github.com/azure-mcp/entra-mcp-functions/handler/"
	if !linked[mod+"internal/oauth"] || !linked["net/http"] {
		t.Fatalf("go list -deps does not list what the handler surely links:\n%s", out)
	}
	for pkg, why := range map[string]string{
		mod + "internal/entraemu":                    "the Entra emulator is a test and local-run stand-in",
		mod + "internal/funchost":                    "the Functions host stand-in",
		mod + "internal/apimemu":                     "the API Management stand-in",
		mod + "internal/doctor":                      "the deployment doctor is its own command",
		mod + "internal/store/storetest":             "the store conformance suite",
		mod + "internal/tools/toolstest":             "the tool test client",
		mod + "internal/testutil":                    "test helpers",
		mod + "internal/otlprecv":                    "the OTLP receiver of tests and dev.sh",
		mod + "internal/cluster":                     "the scale-out stand-in of the multi-instance tests and the soak",
		mod + "internal/headless":                    "the test and soak MCP client",
		"testing":                                    "test infrastructure",
		"net/http/httptest":                          "test infrastructure",
		"github.com/modelcontextprotocol/go-sdk/mcp": "the Go SDK is only a test client",
	} {
		if linked[pkg] {
			t.Errorf("the handler binary links %s: %s", pkg, why)
		}
	}
}
