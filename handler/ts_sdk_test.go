package main

import (
	"os"
	"os/exec"
	"testing"
)

// TestTypeScriptSDKClient signs in with the MCP TypeScript SDK's OAuth
// client (what MCP Inspector and many hosts build on), the browser part in
// headless Chromium, then calls the tools.
func TestTypeScriptSDKClient(t *testing.T) {
	chromium := browserTools(t, "@modelcontextprotocol/sdk", "playwright-core")
	st := startStack(t, "proxy", storageEnv(t)...)
	cmd := exec.Command("node", "test/ts-sdk/oauth-client.mjs")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "MCP_URL="+st.BaseURL+"/mcp", "CHROMIUM="+chromium, "EMULATOR_SPKI="+spkiPin(t, st.Emu.CAFile))
	out, err := cmd.CombinedOutput()
	t.Logf("TypeScript SDK client:\n%s", out)
	if err != nil {
		t.Fatalf("TypeScript SDK client failed: %v", err)
	}
}
