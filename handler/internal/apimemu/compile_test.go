package apimemu

import (
	"net/http"
	"strings"
	"testing"
)

// TestRefusals: whatever the stand-in does not implement refuses to start,
// naming the file and line, so a policy change cannot slip past the tests.
func TestRefusals(t *testing.T) {
	cors := `<cors><allowed-origins><origin>*</origin></allowed-origins><allowed-headers><header>a</header></allowed-headers></cors>`
	for _, tt := range []struct {
		name   string
		policy string
		want   string
	}{
		{"unknown element", testPolicy("<base />\n<check-header name=\"x\" />", "<base />", "<base />", "<base />"),
			"op.xml:3: <check-header>: not an element the stand-in implements"},
		{"unknown attribute", testPolicy("<base />\n<rate-limit-by-key calls=\"1\" renewal-period=\"1\" counter-key=\"k\" increment-count=\"2\" />", "<base />", "<base />", "<base />"),
			"op.xml:3: <rate-limit-by-key>: attribute increment-count is not one the stand-in implements"},
		{"unknown expression", testPolicy("<base />\n<rate-limit-by-key calls=\"1\" renewal-period=\"1\" counter-key=\"@(context.Request.Headers.GetValueOrDefault(&quot;x&quot;,&quot;&quot;))\" />", "<base />", "<base />", "<base />"),
			"op.xml:3: <rate-limit-by-key>: counter-key: expression"},
		{"expression block", testPolicy("<base />\n<set-header name=\"x\"><value>@{ return \"a\"; }</value></set-header>", "<base />", "<base />", "<base />"),
			"op.xml:3: <value>: expression \"@{ return \\\"a\\\"; }\": only @(…) single expressions are modelled"},
		{"expression of the wrong type", testPolicy("<base />", "<base />", "<base />", "<base />\n<choose><when condition=\"@(context.Operation.Id + &quot;:&quot; + context.Request.IpAddress)\"></when></choose>"),
			"op.xml:6: <when>: condition: expression"},
		{"unknown named value", testPolicy("<base />\n<set-header name=\"x\"><value>{{no-such-value}}</value></set-header>", "<base />", "<base />", "<base />"),
			"op.xml:3: <value>: unknown named value {{no-such-value}}"},
		{"unknown named value in an attribute", testPolicy("<base />\n<set-header name=\"{{nope}}\"><value>v</value></set-header>", "<base />", "<base />", "<base />"),
			"op.xml:3: <set-header name>: unknown named value {{nope}}"},
		{"wrong section", testPolicy("<base />", "<base />", "<base />\n"+cors, "<base />"),
			"op.xml:5: <cors>: not allowed in the outbound section"},
		{"forward-request twice", testPolicy("<base />", "<forward-request />\n<forward-request />", "<base />", "<base />"),
			"op.xml:4: <forward-request>: used twice in one section"},
		{"sections out of order", "<policies><backend /><inbound /><outbound /><on-error /></policies>",
			"op.xml:1: <policies>: sections [backend inbound outbound on-error]"},
		{"unknown child", testPolicy("<base />\n<validate-jwt header-name=\"Authorization\"><openid-config url=\"https://x/\" /><audiences><audience>a</audience></audiences><required-claims /></validate-jwt>", "<base />", "<base />", "<base />"),
			"op.xml:3: <required-claims>: not allowed inside <validate-jwt>"},
		{"validate-jwt without audiences", testPolicy("<base />\n<validate-jwt header-name=\"Authorization\"><openid-config url=\"https://x/\" /></validate-jwt>", "<base />", "<base />", "<base />"),
			"op.xml:3: <validate-jwt>: needs exactly one <audiences>"},
		{"bad boolean", testPolicy("<base />", "<forward-request buffer-response=\"no\" />", "<base />", "<base />"),
			"op.xml:3: <forward-request>: buffer-response=\"no\": want true or false"},
		{"renewal period over 300", testPolicy("<base />\n<rate-limit-by-key calls=\"1\" renewal-period=\"301\" counter-key=\"k\" />", "<base />", "<base />", "<base />"),
			"op.xml:3: <rate-limit-by-key>: renewal-period=\"301\""},
		{"unknown backend", testPolicy("<base />\n<set-backend-service backend-id=\"other\" />", "<base />", "<base />", "<base />"),
			"op.xml:3: <set-backend-service>: backend-id \"other\" has no URL"},
		{"non-standard reason", testPolicy("<base />\n<return-response><set-status code=\"401\" reason=\"Go away\" /></return-response>", "<base />", "<base />", "<base />"),
			"op.xml:3: <set-status>: reason \"Go away\""},
		{"unmodifiable header", testPolicy("<base />\n<set-header name=\"Content-Length\" exists-action=\"delete\" />", "<base />", "<base />", "<base />"),
			"op.xml:3: <set-header>: header Content-Length cannot be modified"},
		{"wildcard origin with credentials", testPolicy(strings.Replace(cors, "<cors>", "<cors allow-credentials=\"true\">", 1)+"\n<base />", "<base />", "<base />", "<base />"),
			"op.xml:2: <cors>: allow-credentials=\"true\" with origin *"},
		{"doctype", "<!DOCTYPE policies>\n" + testPolicy("<base />", "<base />", "<base />", "<base />"),
			"op.xml:1: <!DOCTYPE> is not modelled"},
		{"not well-formed", "<policies><inbound></policies>", "op.xml: not well-formed XML"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := testInfra{
				ops:      []Operation{{Name: "op", Method: "GET", URLTemplate: "/op", Policy: "op"}},
				policies: map[string]string{"op": tt.policy},
			}.write(t)
			_, err := New(Config{InfraDir: dir, AuthMode: "proxy", NamedValues: map[string]string{"function-host-key": "k"},
				Backends: map[string]string{"function-app": "http://127.0.0.1:1"}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// TestBaseInGlobalScopeRefused: <base/> needs a parent scope.
func TestBaseInGlobalScopeRefused(t *testing.T) {
	g := &Gateway{backends: nil}
	_, err := g.compile("global.xml", []byte(testPolicy("<base />", "", "", "")), "global", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "global.xml:2: <base>: the global scope has no parent scope") {
		t.Fatalf("err = %v", err)
	}
}

// TestNormalizeExpr: whitespace outside literals does not matter; inside
// string literals it does.
func TestNormalizeExpr(t *testing.T) {
	for in, want := range map[string]string{
		`context.Operation.Id + ":" + context.Request.IpAddress`:       `context.Operation.Id+":"+context.Request.IpAddress`,
		"context.Operation.Id\n\t+   \":\"+context.Request.IpAddress ": `context.Operation.Id+":"+context.Request.IpAddress`,
		`"mcp:" + ((Jwt) context.Variables["jwt"]).Subject`:            `"mcp:"+((Jwt)context.Variables["jwt"]).Subject`,
		`context.LastError.Source == "validate jwt"`:                   `context.LastError.Source=="validate jwt"`,
		`new JObject( )`:      `new JObject()`,
		`a == "x \" y"  && b`: `a=="x \" y"&&b`,
	} {
		if got := normalizeExpr(in); got != want {
			t.Errorf("normalizeExpr(%q) = %q, want %q", in, got, want)
		}
	}
	for _, k := range KnownExpressions() {
		if normalizeExpr(k) != k {
			t.Errorf("table key %q is not normalised", k)
		}
	}
}

// TestTemplateExpressions: an expression with a literal a named value
// filled in is recognised whatever the literal, refused when the literal
// could break out of its quotes, and evaluated as the C# would: the Origin
// check splits the list on commas and compares exactly, header values
// joined by commas as GetValueOrDefault does.
func TestTemplateExpressions(t *testing.T) {
	check := func(list string) string {
		return `@(context.Request.Headers.GetValueOrDefault("Origin", "") != "" && !"` + list +
			`".Split(",".ToCharArray()).Contains(context.Request.Headers.GetValueOrDefault("Origin", "")))`
	}
	if _, err := parseValue(check(`a" + "b`), kindBool, true); err == nil {
		t.Error("a literal with a quote in it was accepted")
	}
	v, err := parseValue(check(",http://localhost:6274,https://app.example,"), kindBool, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		origins []string
		refuse  bool
	}{
		{nil, false},
		{[]string{"http://localhost:6274"}, false},
		{[]string{"https://app.example"}, false},
		{[]string{"https://evil.example"}, true},
		{[]string{"HTTP://LOCALHOST:6274"}, true},
		{[]string{"http://localhost:6274", "https://app.example"}, true}, // joined: "a,b" is no entry
	} {
		c := &call{header: http.Header{}}
		for _, o := range tt.origins {
			c.header.Add("Origin", o)
		}
		if got, err := v.boolean(c); err != nil || got != tt.refuse {
			t.Errorf("Origin %q: refuse %v (%v), want %v", tt.origins, got, err, tt.refuse)
		}
	}
}
