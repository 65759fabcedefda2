package doctor

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// prmDoc is the part of RFC 9728 §2 metadata the doctor reads.
type prmDoc struct {
	Resource             string   `json:"resource"`
	AuthorizationServers []string `json:"authorization_servers"`
	ScopesSupported      []string `json:"scopes_supported"`
}

// asMetadata is the part of RFC 8414 §2 metadata the doctor reads.
type asMetadata struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	RegistrationEndpoint          string   `json:"registration_endpoint"`
	RevocationEndpoint            string   `json:"revocation_endpoint"`
	JWKSURI                       string   `json:"jwks_uri"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
	ResponseTypesSupported        []string `json:"response_types_supported"`
	ScopesSupported               []string `json:"scopes_supported"`
	ISSParameterSupported         bool     `json:"authorization_response_iss_parameter_supported"`
}

// checkHealth asks the handler's /healthz through the whole chain. The
// trigger is anonymous, so this proves the handler runs and is routed to
// even when the function key is wrong; the metadata checks, whose triggers
// need the key, then tell the two apart.
func (d *Doctor) checkHealth(ctx context.Context) {
	const name = "handler reachable (GET /healthz)"
	a := d.get(ctx, d.base+"/healthz")
	d.noteAPIM(a)
	var h struct{ Status, Mode, Version string }
	if a.Status != http.StatusOK || a.from() != fromHandler || a.decode(&h) != nil || h.Status != "ok" {
		d.rep.Add(d.unexpected(name, a, `200 {"status":"ok"} from the handler`))
		return
	}
	d.rep.Add(Result{Name: name, Status: Pass, Detail: fmt.Sprintf("mode %s, version %s", h.Mode, h.Version)})
}

// checkPRM fetches the metadata at the path-inserted URL (RFC 9728 §3.1,
// what our challenge points at) and at the root (what clients of MCP
// 2025-03-26 and some SDKs try), then holds "resource" to the URL given.
func (d *Doctor) checkPRM(ctx context.Context) {
	var docs []prmDoc
	paths := []string{"/.well-known/oauth-protected-resource" + strings.TrimSuffix(d.mcp.Path, "/"), "/.well-known/oauth-protected-resource"}
	if paths[0] == paths[1] {
		paths = paths[1:] // the URL given has no path
	}
	for _, path := range paths {
		name := "protected resource metadata (GET " + path + ")"
		a := d.get(ctx, d.origin+path)
		d.noteAPIM(a)
		var doc prmDoc
		if a.Status != http.StatusOK || a.from() == fromAPIM || a.from() == fromHost {
			d.rep.Add(d.unexpected(name, a, "200 with RFC 9728 metadata"))
			continue
		}
		if err := a.decode(&doc); err != nil || doc.Resource == "" || len(doc.AuthorizationServers) == 0 {
			d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerHandler, Detail: fmt.Sprintf("not RFC 9728 metadata with resource and authorization_servers: %s", a.snippet()),
				Fix: "this path must be served by the handler's metadata endpoint; check the wellknown function (functions/wellknown/function.json) and the APIM operation for it"})
			continue
		}
		d.rep.Add(Result{Name: name, Status: Pass, Detail: "resource " + doc.Resource})
		docs = append(docs, doc)
	}
	if len(docs) == 0 {
		return
	}
	d.prm = &docs[0]
	d.checkResource()
	d.detectMode()
}

func (d *Doctor) checkResource() {
	const name = "PRM resource is the MCP URL"
	got, want := d.prm.Resource, d.opts.MCPURL
	switch {
	case got == want:
		d.rep.Add(Result{Name: name, Status: Pass, Detail: got})
	case got == strings.TrimSuffix(want, "/")+"/mcp":
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerURL, Detail: fmt.Sprintf("you gave %s, the server's MCP URL is %s", want, got),
			Fix: "give MCP clients (and the doctor) the URL ending in /mcp: " + got})
	default:
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerConfig, Detail: fmt.Sprintf("resource is %s, but you gave %s", got, want),
			Fix: fmt.Sprintf("clients compare the two (RFC 9728 §3.3) and refuse to sign in: set the Function App's app setting PUBLIC_BASE_URL and API Management's named value `public-base-url` both to %s (main.bicep sets both from the gateway URL; with a custom domain change both), then restart the Function App", d.base)})
	}
}

// entraIssuer matches an Entra v2 issuer: https://<authority>/<tenant>/v2.0.
var entraIssuer = regexp.MustCompile(`^https://[^/]+/[0-9A-Za-z.-]+/v2\.0/?$`)

func (d *Doctor) detectMode() {
	as := d.prm.AuthorizationServers[0]
	switch {
	case as == d.base || strings.TrimSuffix(as, "/") == strings.TrimSuffix(strings.TrimSuffix(d.prm.Resource, "/"), "/mcp"):
		d.mode = "proxy"
		d.rep.Add(Result{Name: "mode", Status: Note, Detail: "proxy: this server is the authorization server (" + as + ")"})
	case entraIssuer.MatchString(as):
		d.mode = "entra"
		where := "Microsoft Entra ID"
		if !strings.HasPrefix(as, "https://login.microsoftonline.com/") {
			where = "an Entra-shaped authority (not login.microsoftonline.com)"
		}
		d.rep.Add(Result{Name: "mode", Status: Note, Detail: "entra: clients sign in at " + where + " directly (" + as + "); dynamic registration and revocation do not apply"})
	default:
		d.rep.Add(Result{Name: "authorization server", Status: Fail, Layer: LayerConfig,
			Detail: fmt.Sprintf("PRM names %s, which is neither this deployment (%s) nor an Entra issuer", as, d.base),
			Fix:    "PUBLIC_BASE_URL (and the APIM named value `public-base-url`) must be " + d.base})
		d.mode = "proxy" // our handler still serves its metadata at this origin
	}
}

// checkASMetadata reads RFC 8414 metadata where our handler serves it.
func (d *Doctor) checkASMetadata(ctx context.Context) {
	const name = "authorization server metadata (GET /.well-known/oauth-authorization-server)"
	a := d.get(ctx, d.base+"/.well-known/oauth-authorization-server")
	d.noteAPIM(a)
	var m asMetadata
	if a.Status != http.StatusOK || a.from() == fromAPIM || a.from() == fromHost {
		d.rep.Add(d.unexpected(name, a, "200 with RFC 8414 metadata"))
		return
	}
	if err := a.decode(&m); err != nil {
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerHandler, Detail: err.Error(), Fix: "this path must reach the handler's metadata endpoint"})
		return
	}
	var problems []string
	if m.Issuer != d.base {
		problems = append(problems, fmt.Sprintf("issuer is %s, not %s", m.Issuer, d.base))
	}
	if !slices.Contains(m.CodeChallengeMethodsSupported, "S256") {
		problems = append(problems, "code_challenge_methods_supported lacks S256 (MCP clients refuse an authorization server that does not advertise PKCE)")
	}
	for field, u := range map[string]string{"authorization_endpoint": m.AuthorizationEndpoint, "token_endpoint": m.TokenEndpoint,
		"registration_endpoint": m.RegistrationEndpoint, "revocation_endpoint": m.RevocationEndpoint, "jwks_uri": m.JWKSURI} {
		if !strings.HasPrefix(u, d.base+"/") {
			problems = append(problems, fmt.Sprintf("%s %q is not under %s", field, u, d.base))
		}
	}
	if len(problems) > 0 {
		// The checks that follow these URLs are skipped: they would only
		// repeat this failure, or reach a host that is not this deployment.
		slices.Sort(problems)
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerConfig, Detail: strings.Join(problems, "; "),
			Fix: "every URL is built from PUBLIC_BASE_URL: set it (and the APIM named value `public-base-url`) to " + d.base})
		return
	}
	d.as = &m
	d.rep.Add(Result{Name: name, Status: Pass, Detail: "issuer " + m.Issuer + ", PKCE S256, endpoints on the same origin"})
}

// checkOpenIDConfiguration: APIM's validate-jwt on /mcp reads this document
// (openid-config in infra/policies/mcp-proxy.xml) to find the keys; if it
// is unreachable every token is refused at the edge.
func (d *Doctor) checkOpenIDConfiguration(ctx context.Context) {
	const name = "OpenID configuration for APIM's validate-jwt (GET /.well-known/openid-configuration)"
	a := d.get(ctx, d.base+"/.well-known/openid-configuration")
	d.noteAPIM(a)
	var m asMetadata
	if a.Status != http.StatusOK || a.from() == fromAPIM || a.from() == fromHost || a.decode(&m) != nil {
		d.rep.Add(d.unexpected(name, a, "200 with the OpenID configuration"))
		return
	}
	if m.Issuer != d.base || m.JWKSURI == "" || (d.as != nil && m.JWKSURI != d.as.JWKSURI) {
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerConfig, Detail: fmt.Sprintf("issuer %s, jwks_uri %s", m.Issuer, m.JWKSURI),
			Fix: "validate-jwt requires issuer " + d.base + " (the APIM named value `public-base-url`); set PUBLIC_BASE_URL to the same value"})
		return
	}
	d.rep.Add(Result{Name: name, Status: Pass, Detail: "jwks_uri " + m.JWKSURI})
}
