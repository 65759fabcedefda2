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

// TestTypeScriptSDKStepUp runs issue 10's done-when flow with the
// TypeScript SDK's v2 client (@modelcontextprotocol/client): sign in with
// mcp:tools, recent_mail gets 403 insufficient_scope, the SDK sends the
// user to re-authorize for mcp:tools mail.read, the consent page marks
// mail.read new, the emulator prompts for Mail.Read, and the call then
// returns the user's mail (test/ts-sdk/stepup-client.mjs).
func TestTypeScriptSDKStepUp(t *testing.T) {
	chromium := browserTools(t, "@modelcontextprotocol/client", "playwright-core")
	st := startStack(t, "proxy", storageEnv(t)...)
	cmd := exec.Command("node", "test/ts-sdk/stepup-client.mjs")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "MCP_URL="+st.BaseURL+"/mcp", "CHROMIUM="+chromium, "EMULATOR_SPKI="+spkiPin(t, st.Emu.CAFile))
	out, err := cmd.CombinedOutput()
	t.Logf("TypeScript SDK v2 client:\n%s", out)
	if err != nil {
		t.Fatalf("TypeScript SDK v2 step-up failed: %v", err)
	}
}
