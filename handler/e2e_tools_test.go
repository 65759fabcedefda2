package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/entraemu"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools/toolstest"
)

// TestToolsEndToEnd (mode proxy, the whole request path): a user who
// consented to Mail.Read gets their newest mail from recent_mail; a user
// who did not gets the consent result: isError, the permission and the
// admin-consent URL in words, no structuredContent, so it conforms to the
// output schema tools/list declared. Every result is checked against that
// schema with a JSON Schema validator, and the consent path leaves a log
// line with the request id.
func TestToolsEndToEnd(t *testing.T) {
	st := startStack(t, "proxy", storageEnv(t)...)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	signIn := func(upn string) *client.Client {
		c := registerClient(t, st, "http://127.0.0.1:53683/callback")
		q := newBrowser(t, st).authorize(c, c.authorizeURL(st, nil), upn)
		tok := c.redeem(t, st, q.Get("code"))
		if tok.Status != 200 {
			t.Fatalf("%s: token %+v", upn, tok)
		}
		return mcpClient(t, ctx, st.BaseURL+"/mcp", tok.AccessToken)
	}
	adele, megan := signIn("AdeleV@contoso.example"), signIn("MeganB@contoso.example")

	listed, err := adele.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	schemas := map[string]mcp.Tool{}
	for _, tl := range listed.Tools {
		schemas[tl.Name] = tl
	}
	if len(schemas) != 3 || schemas["recent_mail"].Name == "" || schemas["whoami"].Name == "" || schemas["auth_info"].Name == "" {
		t.Fatalf("tools/list = %v", schemas)
	}
	call := func(c *client.Client, name string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name, Arguments: args}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := toolstest.CheckResult(schemas[name], res); err != nil {
			t.Errorf("%s: the result does not conform to the declared output schema: %v\n%s", name, err, testutil.ToolText(res))
		}
		return res
	}

	t.Run("consented: recent_mail returns the newest messages", func(t *testing.T) {
		res := call(adele, "recent_mail", map[string]any{"count": 3})
		var got struct {
			Messages []struct{ Subject, From, FromAddress, ReceivedDateTime string }
		}
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, &got); err != nil || res.IsError {
			t.Fatalf("recent_mail: %v %s", err, testutil.ToolText(res))
		}
		if len(got.Messages) != 3 || got.Messages[0].Subject != "Quarterly retail review" || got.Messages[0].From != "Megan Bowen" ||
			got.Messages[0].ReceivedDateTime != "2026-05-04T09:12:00Z" || got.Messages[2].Subject != "Re: Holiday staffing" {
			t.Fatalf("messages = %+v", got.Messages)
		}
	})

	t.Run("not consented: the consent result, conforming", func(t *testing.T) {
		res := call(megan, "recent_mail", nil)
		text := testutil.ToolText(res)
		if !res.IsError || res.StructuredContent != nil ||
			!strings.Contains(text, "Recent mail needs your consent to https://graph.microsoft.com/Mail.Read") ||
			!strings.Contains(text, st.Emu.BaseURL+"/"+entraemu.DevTenantID+"/v2.0/adminconsent?client_id="+entraemu.DevAppClientID) {
			t.Fatalf("isError=%v structured=%v text=%q", res.IsError, res.StructuredContent, text)
		}
		// Megan's profile (User.Read, admin-consented) still works.
		if me := call(megan, "whoami", nil); me.IsError || !strings.Contains(testutil.ToolText(me), "Megan Bowen") {
			t.Fatalf("whoami: %s", testutil.ToolText(me))
		}
		line := regexp.MustCompile(`(?m)^.*msg=audit.*event=upstream.error stage=obo.*$`).FindString(st.Logs.String())
		if !strings.Contains(line, "tool=recent_mail") || !strings.Contains(line, "request_id=") || !strings.Contains(line, "aadsts=AADSTS65001") {
			t.Errorf("no upstream.error audit line with tool, request id and AADSTS code; got %q", line)
		}
	})

	t.Run("input out of bounds is a tool error the model can fix", func(t *testing.T) {
		res := call(adele, "recent_mail", map[string]any{"count": 500})
		if !res.IsError || !strings.Contains(testutil.ToolText(res), "count") {
			t.Fatalf("count 500: %v %s", res.IsError, testutil.ToolText(res))
		}
	})

	t.Run("auth_info", func(t *testing.T) {
		if res := call(megan, "auth_info", nil); res.IsError {
			t.Fatal(testutil.ToolText(res))
		}
	})
}
