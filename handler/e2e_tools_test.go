package main

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools/toolstest"
)

// TestToolsEndToEnd (mode proxy, the whole request path): a user signed
// in with mail.read (who consented to Mail.Read) gets their newest mail
// from recent_mail; a token without mail.read gets the step-up challenge,
// 403 insufficient_scope with the scope to ask for, through the APIM
// stand-in and funchost unchanged. Every result is checked against the
// tool's declared output schema with a JSON Schema validator.
func TestToolsEndToEnd(t *testing.T) {
	st := startStack(t, "proxy", storageEnv(t)...)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	signIn := func(upn, scope string) (*client.Client, string) {
		c := registerClient(t, st, "http://127.0.0.1:53683/callback")
		q := newBrowser(t, st).authorize(c, c.authorizeURL(st, url.Values{"scope": {scope}}), upn)
		tok := c.redeem(t, st, q.Get("code"))
		if tok.Status != 200 {
			t.Fatalf("%s: token %+v", upn, tok)
		}
		return mcpClient(t, ctx, st.BaseURL+"/mcp", tok.AccessToken), tok.AccessToken
	}
	adele, _ := signIn("AdeleV@contoso.example", "mcp:tools mail.read")
	megan, meganToken := signIn("MeganB@contoso.example", "mcp:tools")

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

	t.Run("without mail.read: the step-up challenge, through the edge and the host", func(t *testing.T) {
		status, www, body := postToolsCall(t, st, meganToken, "recent_mail")
		want := `Bearer error="insufficient_scope", resource_metadata="` + st.BaseURL + `/.well-known/oauth-protected-resource/mcp", scope="mcp:tools mail.read"`
		if status != 403 || www != want {
			t.Fatalf("%d %q %s\nwant %q", status, www, body, want)
		}
		// Megan's profile (User.Read, admin-consented) works with her token.
		if me := call(megan, "whoami", nil); me.IsError || !strings.Contains(testutil.ToolText(me), "Megan Bowen") {
			t.Fatalf("whoami: %s", testutil.ToolText(me))
		}
		line := regexp.MustCompile(`(?m)^.*msg="tools/call needs a wider scope: step-up challenge".*$`).FindString(st.Logs.String())
		if !strings.Contains(line, "tools=[recent_mail]") || !strings.Contains(line, "request_id=") {
			t.Errorf("no step-up log line with tool and request id; got %q", line)
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
