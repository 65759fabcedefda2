package infra

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/apimemu"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/cors"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
)

// policyFiles maps the keys of `var policies` in apim.bicep to the files
// they load in mode; "" (no operation policy) maps to "". It reads the
// mapping with the APIM stand-in's own strict reader, so the tests and the
// stand-in agree on what Bicep deploys.
func policyFiles(t *testing.T, _ *bicepFile, mode string) map[string]string {
	t.Helper()
	b, err := apimemu.ReadBicep(filepath.Join(infraRoot, "infra"), mode)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{"": ""}
	for k, v := range b.Policies {
		out[k] = v
	}
	return out
}

// TestPolicyLoadsInStandIn: every policy file of both modes loads in the
// APIM stand-in, so every element, attribute and expression in them is
// one it executes (it refuses anything else), with the named values Bicep
// defines.
func TestPolicyLoadsInStandIn(t *testing.T) {
	nvSetting, defined := namedValueSettings(t)
	for _, mode := range []config.Mode{config.ModeProxy, config.ModeEntra} {
		env := infraFakeEnv(mode)
		nv := map[string]string{}
		for _, name := range defined {
			nv[name] = "secret-" + name // the function key
			if s, ok := nvSetting[name]; ok {
				nv[name] = env[s]
			}
		}
		if _, err := apimemu.New(apimemu.Config{InfraDir: filepath.Join(infraRoot, "infra"), AuthMode: string(mode), NamedValues: nv,
			Backends: map[string]string{"function-app": "https://func.example"}}); err != nil {
			t.Errorf("[%s] %v", mode, err)
		}
	}
}

// --- (b) policy XML -------------------------------------------------------------

// apimPolicyElements are the APIM policy elements (and their child elements)
// these files may use, from the policy reference docs. Anything else is a
// typo APIM would reject at deployment.
var apimPolicyElements = map[string]bool{
	"policies": true, "inbound": true, "backend": true, "outbound": true, "on-error": true, "base": true,
	"validate-jwt": true, "openid-config": true, "issuer-signing-keys": true, "key": true,
	"issuers": true, "issuer": true, "audiences": true, "audience": true,
	"required-claims": true, "claim": true, "value": true,
	"validate-azure-ad-token": true, "client-application-ids": true, "application-id": true, "backend-application-ids": true,
	"cors": true, "allowed-origins": true, "origin": true, "allowed-methods": true, "method": true,
	"allowed-headers": true, "header": true, "expose-headers": true,
	"rate-limit-by-key": true, "rate-limit": true, "quota-by-key": true,
	"set-header": true, "set-query-parameter": true, "set-backend-service": true, "forward-request": true,
	"return-response": true, "set-status": true, "set-body": true,
	"choose": true, "when": true, "otherwise": true, "set-variable": true,
}

type xmlElement struct {
	Name     string
	Attr     map[string]string
	Text     string
	Children []*xmlElement
}

func (e *xmlElement) find(name string) []*xmlElement {
	var out []*xmlElement
	var walk func(*xmlElement)
	walk = func(x *xmlElement) {
		if x.Name == name {
			out = append(out, x)
		}
		for _, c := range x.Children {
			walk(c)
		}
	}
	walk(e)
	return out
}

// parsePolicy parses strictly with encoding/xml (well-formedness) and
// checks every element against the allow-list.
func parsePolicy(t *testing.T, name string) *xmlElement {
	t.Helper()
	data := mustRead(t, filepath.Join("infra/policies", name))
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var stack []*xmlElement
	var root *xmlElement
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", name, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			el := &xmlElement{Name: tok.Name.Local, Attr: map[string]string{}}
			if tok.Name.Space != "" {
				t.Errorf("%s: namespaced element %s:%s", name, tok.Name.Space, tok.Name.Local)
			}
			if !apimPolicyElements[el.Name] {
				t.Errorf("%s: <%s> is not a known APIM policy element", name, el.Name)
			}
			for _, a := range tok.Attr {
				el.Attr[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					t.Fatalf("%s: more than one root element", name)
				}
				root = el
			} else {
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, el)
			}
			stack = append(stack, el)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(tok)
			}
		}
	}
	if root == nil || root.Name != "policies" {
		t.Fatalf("%s: root element must be <policies>", name)
	}
	var sections []string
	for _, c := range root.Children {
		sections = append(sections, c.Name)
	}
	if !slices.Equal(sections, []string{"inbound", "backend", "outbound", "on-error"}) {
		t.Errorf("%s: sections %v, want inbound, backend, outbound, on-error", name, sections)
	}
	return root
}

func policyNames(t *testing.T) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(infraRoot, "infra/policies/*.xml"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no infra/policies/*.xml (%v)", err)
	}
	var out []string
	for _, p := range m {
		out = append(out, filepath.Base(p))
	}
	return out
}

// TestPolicyXMLWellFormed: each policy is well-formed XML made of known
// elements, keeps <base/> where it must, and every file is loaded by Bicep.
func TestPolicyXMLWellFormed(t *testing.T) {
	apimSrc := string(mustRead(t, "infra/modules/apim.bicep"))
	for _, name := range policyNames(t) {
		root := parsePolicy(t, name)
		if !strings.Contains(apimSrc, "loadTextContent('../policies/"+name+"')") {
			t.Errorf("%s is not loaded by apim.bicep", name)
		}
		// Operation policies keep the API-level policy (<base/>) in inbound, or
		// the function key would never be added.
		if in := root.Children[0]; len(in.find("base")) != 1 {
			t.Errorf("%s: inbound must contain exactly one <base/>", name)
		}
	}
	for _, m := range regexp.MustCompile(`loadTextContent\('\.\./policies/([^']+)'\)`).FindAllStringSubmatch(apimSrc, -1) {
		if _, err := os.Stat(filepath.Join(infraRoot, "infra/policies", m[1])); err != nil {
			t.Errorf("apim.bicep loads %s: %v", m[1], err)
		}
	}
}

// corsPaths are the endpoints a browser-based client reads cross-origin
// from any origin (docs/architecture.md §5.4); noCORSPaths must never be
// readable cross-origin; /mcp only by the origins ALLOWED_ORIGINS lists,
// which the handler answers for (TestPolicyMCPOrigins).
var (
	corsPaths   = []string{"/.well-known/", "/register", "/token", "/revoke"}
	noCORSPaths = []string{"/authorize", "/consent", "/callback", "/mcp"}
)

func isCORSPath(p string) bool {
	return slices.ContainsFunc(corsPaths, func(c string) bool { return p == c || strings.HasPrefix(p, c) && strings.HasSuffix(c, "/") })
}

// TestPolicyCORSPlacement: CORS per operation, exactly where
// docs/architecture.md §11.6 says.
func TestPolicyCORSPlacement(t *testing.T) {
	if cors := parsePolicy(t, "api.xml").find("cors"); len(cors) != 0 {
		t.Error("api.xml (API level) must not contain <cors>: it would apply to /authorize, /consent and /callback")
	}
	ops, f := apimOperations(t)
	for _, mode := range []string{"proxy", "entra"} {
		files := policyFiles(t, f, mode)
		for _, op := range ops {
			file, ok := files[op.Policy]
			if !ok {
				t.Errorf("operation %s uses unknown policy %q", op.Name, op.Policy)
				continue
			}
			var cors []*xmlElement
			if file != "" {
				cors = parsePolicy(t, file).find("cors")
			}
			switch {
			case slices.Contains(noCORSPaths, op.URLTemplate):
				if len(cors) != 0 {
					t.Errorf("%s %s must have no CORS (%s)", op.Method, op.URLTemplate, file)
				}
			case isCORSPath(op.URLTemplate):
				if len(cors) != 1 {
					t.Errorf("[%s] %s %s needs CORS; policy %q has %d <cors>", mode, op.Method, op.URLTemplate, file, len(cors))
					continue
				}
				checkCORS(t, file, cors[0], op.Method)
			}
		}
	}
}

func checkCORS(t *testing.T, file string, c *xmlElement, method string) {
	t.Helper()
	if c.Attr["allow-credentials"] != "false" {
		t.Errorf("%s: cors allow-credentials must be false with origin *", file)
	}
	text := func(name string) []string {
		var out []string
		for _, e := range c.find(name) {
			out = append(out, strings.TrimSpace(e.Text))
		}
		return out
	}
	if o := text("origin"); !slices.Equal(o, []string{"*"}) {
		t.Errorf("%s: origins %v, want [*]", file, o)
	}
	headers := func(list string) []string {
		var out []string
		for _, e := range c.find(list) {
			for _, h := range e.find("header") {
				out = append(out, strings.TrimSpace(h.Text))
			}
		}
		return out
	}
	// The handler answers CORS itself when it runs alone (package cors):
	// the same lists and max-age, so a local run behaves as Azure does.
	if got := headers("expose-headers"); !slices.Equal(got, cors.ExposeHeaders) {
		t.Errorf("%s: exposed headers %v, want the handler's %v (internal/cors)", file, got, cors.ExposeHeaders)
	}
	if got := headers("allowed-headers"); !slices.Equal(got, cors.AllowHeaders) {
		t.Errorf("%s: allowed headers %v, want the handler's %v (internal/cors)", file, got, cors.AllowHeaders)
	}
	for _, m := range c.find("allowed-methods") {
		if got := m.Attr["preflight-result-max-age"]; got != cors.MaxAge {
			t.Errorf("%s: preflight-result-max-age %q, want the handler's %s (internal/cors)", file, got, cors.MaxAge)
		}
	}
	if m := text("method"); !slices.Contains(m, method) && method != "HEAD" || !slices.Contains(m, "OPTIONS") {
		t.Errorf("%s: allowed methods %v lack %s or OPTIONS", file, m, method)
	}
}

// ipLimitedPaths are the unauthenticated endpoints limited per client IP:
// those that create state, and the browser pages.
var ipLimitedPaths = []string{"/register", "/token", "/revoke", "/authorize", "/consent", "/callback"}

// TestPolicyRateLimits: the unauthenticated endpoints are limited per client
// IP and per operation, /mcp per token subject.
func TestPolicyRateLimits(t *testing.T) {
	ops, f := apimOperations(t)
	for _, mode := range []string{"proxy", "entra"} {
		files := policyFiles(t, f, mode)
		for _, op := range ops {
			var limits []*xmlElement
			if files[op.Policy] != "" {
				limits = parsePolicy(t, files[op.Policy]).find("rate-limit-by-key")
			}
			key := ""
			if len(limits) == 1 {
				key = limits[0].Attr["counter-key"]
			}
			switch {
			case slices.Contains(ipLimitedPaths, op.URLTemplate):
				// One counter per key value across all scopes
				// (learn.microsoft.com/azure/api-management/rate-limit-by-key-policy):
				// the operation id keeps endpoints apart.
				if !strings.Contains(key, "context.Request.IpAddress") || !strings.Contains(key, "context.Operation.Id") {
					t.Errorf("%s %s: want rate-limit-by-key on context.Operation.Id and context.Request.IpAddress, got %q", op.Method, op.URLTemplate, key)
				}
			case op.URLTemplate == "/mcp" && op.Method == http.MethodOptions:
				// The preflight, forwarded to the handler, carries no token.
				if !strings.Contains(key, "context.Request.IpAddress") || !strings.Contains(key, "context.Operation.Id") {
					t.Errorf("%s %s: want rate-limit-by-key on context.Operation.Id and context.Request.IpAddress, got %q", op.Method, op.URLTemplate, key)
				}
			case op.URLTemplate == "/mcp":
				if !strings.Contains(key, `context.Variables["jwt"]`) || !strings.Contains(key, ".Subject") {
					t.Errorf("[%s] %s /mcp: want rate-limit-by-key on the validated token's subject, got %q", mode, op.Method, key)
				}
			}
			for _, l := range limits {
				if n, err := strconv.Atoi(l.Attr["renewal-period"]); err != nil || n < 1 || n > 300 {
					t.Errorf("%s: renewal-period %q must be 1..300 seconds", files[op.Policy], l.Attr["renewal-period"])
				}
			}
		}
	}
}

// TestPolicyPreflightByCORS: every path where the handler answers OPTIONS
// (a browser reads it cross-origin) has no OPTIONS operation, and each of
// its operations carries a cors policy, which answers the preflight. /mcp
// instead forwards its preflight to the handler (TestPolicyMCPOrigins).
func TestPolicyPreflightByCORS(t *testing.T) {
	ops, f := apimOperations(t)
	for _, mode := range []string{"proxy", "entra"} {
		files := policyFiles(t, f, mode)
		for _, ep := range surface(t) {
			if !slices.Contains(ep.Methods, http.MethodOptions) || ep.Path == "/mcp" {
				continue
			}
			n := 0
			for _, op := range ops {
				if op.URLTemplate != ep.Path {
					continue
				}
				n++
				if files[op.Policy] == "" || len(parsePolicy(t, files[op.Policy]).find("cors")) != 1 {
					t.Errorf("[%s] %s %s: no cors policy to answer the preflight", mode, op.Method, op.URLTemplate)
				}
			}
			if n == 0 {
				t.Errorf("%s: no APIM operation at all", ep.Path)
			}
		}
	}
}

// --- (c) /mcp policy against the handler -------------------------------------

// loadInfraConfig loads the handler configuration as it would run behind a
// gateway with a fake base URL, outside Azure (so a client secret is allowed).
func loadInfraConfig(t *testing.T, mode config.Mode) config.Config {
	t.Helper()
	env := infraFakeEnv(mode)
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func infraFakeEnv(mode config.Mode) map[string]string {
	return map[string]string{
		config.EnvPublicBaseURL: "https://apim-test.azure-api.net",
		config.EnvAuthMode:      string(mode),
		config.EnvTenantID:      "11111111-1111-4111-8111-111111111111",
		config.EnvClientID:      "22222222-2222-4222-8222-222222222222",
		config.EnvAppIDURI:      "api://11111111-1111-4111-8111-111111111111/mcp-test",
		config.EnvAPIScope:      "user_impersonation",
		config.EnvAuthorityHost: "https://login.microsoftonline.com",
		config.EnvMCPScope:      "mcp:tools",
		config.EnvClientSecret:  "test-only",
		// As Bicep writes it: between commas.
		config.EnvAllowedOrigins: ",http://localhost:6274,https://app.example,",
	}
}

// namedValueSettings maps each APIM named value to the app setting that
// carries the same value, by tracing both back to main.bicep: apim.bicep
// sets named value N from its param P, functionapp.bicep sets app setting S
// from its param Q, and main.bicep passes the same expression as P and Q.
func namedValueSettings(t *testing.T) (map[string]string, []string) {
	t.Helper()
	apim := bicepFileOf(t, "modules/apim.bicep")
	main := bicepFileOf(t, "main.bicep")
	apimArgs := main.module("modules/apim.bicep").Value.prop("params")
	fnArgs := main.module("modules/functionapp.bicep").Value.prop("params")
	settings, _ := appSettings(t)

	settingByArg := map[string]string{} // main.bicep expression -> app setting
	for name, v := range settings {
		if v.K == "identifier" && fnArgs.prop(v.Text) != nil {
			settingByArg[fnArgs.prop(v.Text).src()] = name
		}
	}
	out := map[string]string{}
	var all []string
	for _, r := range apim.resourcesOf("Microsoft.ApiManagement/service/namedValues") {
		if r.Value.K != "for" {
			all = append(all, r.Value.prop("name").str())
			continue
		}
		for _, o := range apim.objects(r.Value.Iter) {
			name, v := o.prop("name").str(), o.prop("value")
			all = append(all, name)
			if v.K != "identifier" || apimArgs.prop(v.Text) == nil {
				t.Errorf("named value %s = %s: want a module parameter", name, v.src())
				continue
			}
			arg := apimArgs.prop(v.Text).src()
			s, ok := settingByArg[arg]
			if !ok {
				t.Errorf("named value %s = %s (main.bicep: %s) equals no app setting of the function app", name, v.Text, arg)
				continue
			}
			out[name] = s
		}
	}
	return out, all
}

var namedValueRE = regexp.MustCompile(`\{\{([^{}]+)\}\}`)

// TestPolicyNamedValuesDefined: every {{named value}} a policy uses is
// declared in apim.bicep, and every declared one is used.
func TestPolicyNamedValuesDefined(t *testing.T) {
	_, defined := namedValueSettings(t)
	used := map[string]bool{}
	for _, name := range policyNames(t) {
		for _, m := range namedValueRE.FindAllStringSubmatch(string(mustRead(t, "infra/policies/"+name)), -1) {
			used[m[1]] = true
			if !slices.Contains(defined, m[1]) {
				t.Errorf("%s uses {{%s}}, which apim.bicep does not define (defined: %v)", name, m[1], defined)
			}
		}
	}
	for _, d := range defined {
		if !used[d] {
			t.Errorf("named value %s is defined but no policy uses it", d)
		}
	}
	if !used["function-host-key"] {
		t.Error("no policy sends the function key")
	}
}

// TestPolicyMCPMatchesHandler: the /mcp policy of each mode validates what the
// handler issues or accepts, and its 401 is byte-for-byte the handler's
// challenge (internal/resource.Challenge.Header), with error= only when a
// token was sent.
func TestPolicyMCPMatchesHandler(t *testing.T) {
	nvSetting, _ := namedValueSettings(t)
	_, f := apimOperations(t)
	for _, mode := range []config.Mode{config.ModeProxy, config.ModeEntra} {
		t.Run(string(mode), func(t *testing.T) {
			cfg := loadInfraConfig(t, mode)
			env := infraFakeEnv(mode)
			render := func(s string) string {
				return namedValueRE.ReplaceAllStringFunc(s, func(m string) string {
					nv := m[2 : len(m)-2]
					setting, ok := nvSetting[nv]
					if !ok {
						t.Errorf("{{%s}} carries no app setting value, cannot compare with the handler", nv)
						return m
					}
					return env[setting]
				})
			}
			file := policyFiles(t, f, string(mode))["mcp"]
			root := parsePolicy(t, file)

			jwts := root.find("validate-jwt")
			if len(jwts) != 1 {
				t.Fatalf("%s: want exactly one validate-jwt, got %d", file, len(jwts))
			}
			v := jwts[0]
			for attr, want := range map[string]string{
				"header-name": "Authorization", "require-scheme": "Bearer", "require-expiration-time": "true",
				"require-signed-tokens": "true", "failed-validation-httpcode": "401", "output-token-variable-name": "jwt",
			} {
				if v.Attr[attr] != want {
					t.Errorf("validate-jwt %s=%q, want %q", attr, v.Attr[attr], want)
				}
			}
			oc := v.find("openid-config")
			if len(oc) != 1 {
				t.Fatal("validate-jwt needs one openid-config")
			}
			ocURL := render(oc[0].Attr["url"])
			var issuers, audiences []string
			for _, e := range v.find("issuer") {
				issuers = append(issuers, render(strings.TrimSpace(e.Text)))
			}
			for _, e := range v.find("audience") {
				audiences = append(audiences, render(strings.TrimSpace(e.Text)))
			}
			switch mode {
			case config.ModeProxy:
				path, ok := strings.CutPrefix(ocURL, cfg.PublicBaseURL)
				if !ok || !slices.ContainsFunc(surface(t), func(e endpoint) bool { return e.Path == path && slices.Contains(e.Methods, "GET") }) {
					t.Errorf("openid-config %s is not a GET endpoint the handler serves under PUBLIC_BASE_URL", ocURL)
				}
				if path != "/.well-known/openid-configuration" {
					t.Errorf("openid-config path %s, want /.well-known/openid-configuration", path)
				}
				if !slices.Equal(issuers, []string{cfg.PublicBaseURL}) {
					t.Errorf("issuers %v, want [%s] (our issuer = PUBLIC_BASE_URL)", issuers, cfg.PublicBaseURL)
				}
				if !slices.Equal(audiences, []string{cfg.ResourceURL()}) {
					t.Errorf("audiences %v, want [%s] (our tokens' aud)", audiences, cfg.ResourceURL())
				}
			case config.ModeEntra:
				if ocURL != cfg.EntraIssuer()+"/.well-known/openid-configuration" {
					t.Errorf("openid-config %s, want the tenant's v2 discovery document", ocURL)
				}
				if !slices.Equal(issuers, []string{cfg.EntraIssuer()}) {
					t.Errorf("issuers %v, want [%s]", issuers, cfg.EntraIssuer())
				}
				if !slices.Contains(audiences, cfg.ClientID) || !slices.Contains(audiences, cfg.AppIDURI) {
					t.Errorf("audiences %v, want the client id %s and the app id URI %s", audiences, cfg.ClientID, cfg.AppIDURI)
				}
			}

			// The 401 challenges.
			ch := resource.Challenge{ResourceMetadataURL: cfg.ResourceMetadataURL(), Scopes: cfg.RequiredScopes()}
			whens := root.Children[3].find("when")
			if len(whens) != 2 {
				t.Fatalf("on-error: want two <when> (no token / bad token), got %d", len(whens))
			}
			for i, w := range whens {
				cond := w.Attr["condition"]
				if !strings.Contains(cond, `context.LastError.Source == "validate-jwt"`) {
					t.Errorf("when %d: condition %q does not check the validate-jwt source", i, cond)
				}
				noToken := strings.Contains(cond, `context.LastError.Reason == "TokenNotPresent"`)
				if noToken != (i == 0) {
					t.Errorf("when %d: condition %q; the first branch must be TokenNotPresent, the second any other failure", i, cond)
				}
				want := ch.Header("invalid_token")
				if noToken {
					want = ch.Header("")
				}
				var got []string
				statusOK := false
				for _, rr := range w.find("return-response") {
					for _, s := range rr.find("set-status") {
						statusOK = s.Attr["code"] == "401"
					}
					for _, h := range rr.find("set-header") {
						if strings.EqualFold(h.Attr["name"], "WWW-Authenticate") {
							for _, val := range h.find("value") {
								got = append(got, render(strings.TrimSpace(val.Text)))
							}
						}
					}
				}
				if !statusOK {
					t.Errorf("when %d: return-response must set status 401", i)
				}
				if !slices.Equal(got, []string{want}) {
					t.Errorf("when %d: WWW-Authenticate\n got %q\nwant %q (handler's challenge)", i, got, want)
				}
			}

			fwd := root.Children[1].find("forward-request")
			if len(fwd) != 1 || fwd[0].Attr["buffer-response"] != "false" {
				t.Error(`/mcp backend must forward with buffer-response="false" (streaming)`)
			}
			if len(fwd) == 1 && fwd[0].Attr["fail-on-error-status-code"] == "true" {
				t.Error("fail-on-error-status-code would replace the handler's own 401/403 challenges")
			}
			if len(root.Children[1].find("base")) != 0 {
				t.Error("/mcp backend must not include <base/>: the default forward-request buffers")
			}
		})
	}
}

// --- (d) azure.yaml, parameters, scripts -------------------------------------------

// TestStandInNamedValues: the APIM stand-in gives each named value the app
// setting Bicep feeds from the same parameter, so the policies run locally
// with the values they would have in Azure.
func TestStandInNamedValues(t *testing.T) {
	nvSetting, defined := namedValueSettings(t)
	env := infraFakeEnv("proxy")
	got := apimemu.NamedValues(env, "key")
	for _, name := range defined {
		if _, ok := got[name]; !ok {
			t.Errorf("apim.bicep defines named value %s; apimemu.NamedValues does not set it", name)
		}
	}
	for name, setting := range nvSetting {
		if got[name] != env[setting] {
			t.Errorf("named value %s = %q, want app setting %s = %q", name, got[name], setting, env[setting])
		}
	}
}
