package apimemu

import (
	"net/http"
	"slices"
	"testing"
)

// TestSetHeaderActions: override, skip, append and delete, on the request
// (inbound) and on the response (outbound), with the CSV rule for
// multiple values.
func TestSetHeaderActions(t *testing.T) {
	in := `<base />
<set-header name="X-Override" exists-action="override"><value>new</value></set-header>
<set-header name="X-Skip" exists-action="skip"><value>new</value></set-header>
<set-header name="X-Skip-Missing" exists-action="skip"><value>added</value></set-header>
<set-header name="X-Append" exists-action="append"><value>b</value></set-header>
<set-header name="X-Delete" exists-action="delete" />
<set-header name="X-Two"><value>1</value><value>2</value></set-header>`
	out := `<base /><set-header name="X-From-Outbound"><value>yes</value></set-header>
<set-header name="Content-Type" exists-action="delete" />`
	dir := testInfra{
		ops:      []Operation{{Name: "h", Method: "GET", URLTemplate: "/h", Policy: "h"}},
		policies: map[string]string{"h": testPolicy(in, "<base />", out, "<base />")},
	}.write(t)
	gw, _ := startGateway(t, Config{InfraDir: dir}, newEcho(t).URL)
	resp, body := do(t, newReq(t, "GET", gw+"/h", "X-Override", "old", "X-Skip", "old", "X-Append", "a", "X-Delete", "gone"))
	var got echoed
	decodeJSON(t, body, &got)
	for k, want := range map[string][]string{
		"X-Override": {"new"}, "X-Skip": {"old"}, "X-Skip-Missing": {"added"}, "X-Append": {"a,b"}, "X-Delete": nil, "X-Two": {"1,2"},
	} {
		if v := got.Header.Values(k); !slices.Equal(v, want) {
			t.Errorf("request header %s = %v, want %v", k, v, want)
		}
	}
	if resp.Header.Get("X-From-Outbound") != "yes" || resp.Header.Get("Content-Type") != "" {
		t.Errorf("response headers %v", resp.Header)
	}
}

// TestChooseAndReturnResponse: on-error picks the first true <when>, else
// <otherwise>; return-response sets status, headers and body.
func TestChooseAndReturnResponse(t *testing.T) {
	onErr := `<base />
<choose>
	<when condition='@(context.LastError.Source == "validate-jwt" &amp;&amp; context.LastError.Reason == "TokenNotPresent")'>
		<return-response><set-status code="401" reason="Unauthorized" />
			<set-header name="WWW-Authenticate" exists-action="override"><value>Bearer realm="x"</value></set-header>
			<set-body>{"error":"absent"}</set-body></return-response>
	</when>
	<when condition='@(context.LastError.Source == "validate-jwt")'>
		<return-response><set-status code="403" reason="Forbidden" /><set-body>bad</set-body></return-response>
	</when>
	<otherwise>
		<set-header name="X-Fell-Through" exists-action="override"><value>yes</value></set-header>
	</otherwise>
</choose>`
	jwt := `<base /><validate-jwt header-name="Authorization" require-scheme="Bearer">
		<openid-config url="http://127.0.0.1:1/.well-known/openid-configuration" />
		<audiences><audience>a</audience></audiences></validate-jwt>
		<rate-limit-by-key calls="1" renewal-period="60" counter-key='@("mcp:" + ((Jwt)context.Variables["jwt"]).Subject)' />`
	dir := testInfra{
		ops: []Operation{
			{Name: "jwt", Method: "GET", URLTemplate: "/jwt", Policy: "jwt"},
			{Name: "expr", Method: "GET", URLTemplate: "/expr", Policy: "expr"},
		},
		policies: map[string]string{
			"jwt":  testPolicy(jwt, "<base />", "<base />", onErr),
			"expr": testPolicy(`<base /><rate-limit-by-key calls="1" renewal-period="60" counter-key='@("mcp:" + ((Jwt)context.Variables["jwt"]).Subject)' />`, "<base />", "<base />", onErr),
		},
	}.write(t)
	gw, _ := startGateway(t, Config{InfraDir: dir}, newEcho(t).URL)

	resp, body := do(t, newReq(t, "GET", gw+"/jwt"))
	if resp.StatusCode != 401 || body != `{"error":"absent"}` || resp.Header.Get("WWW-Authenticate") != `Bearer realm="x"` {
		t.Errorf("no token: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = do(t, newReq(t, "GET", gw+"/jwt", "Authorization", "Bearer x.y.z"))
	if resp.StatusCode != 403 || body != "bad" {
		t.Errorf("bad token: %d %q", resp.StatusCode, body)
	}
	// The counter key reads a variable nobody set: the expression fails,
	// on-error runs with neither <when> true, and the error response stays.
	resp, body = do(t, newReq(t, "GET", gw+"/expr"))
	if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("X-Fell-Through") != "yes" {
		t.Errorf("expression failure: %d %q %v", resp.StatusCode, body, resp.Header)
	}
}
