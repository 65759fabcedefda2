package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// browserOrigin is MCP Inspector's origin, the browser client that needs
// CORS most.
const browserOrigin = "http://localhost:6274"

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"entra-mcp-doctor","version":"1"}}}`

// checkChallenge sends what an MCP client sends first: initialize without a
// token, cross-origin like a browser client. MCP authorization requires a
// 401 whose WWW-Authenticate names the PRM (RFC 9728 §5.1). A deployment
// whose ALLOWED_ORIGINS does not list browserOrigin answers that 403 (MCP
// transports: an Origin present and invalid); that is a choice, noted, and
// the challenge is then checked as a non-browser client sees it.
func (d *Doctor) checkChallenge(ctx context.Context) {
	const name = "401 challenge on POST /mcp without a token"
	header := http.Header{
		"Content-Type": {"application/json"}, "Accept": {"application/json, text/event-stream"},
		"Origin": {browserOrigin}, "Mcp-Protocol-Version": {"2025-06-18"},
	}
	a := d.send(ctx, http.MethodPost, d.opts.MCPURL, request{Body: initializeBody, Header: header})
	if refusedOrigin(a) {
		d.originRefused = true
		d.rep.Add(Result{Name: "browser origin " + browserOrigin, Status: Note,
			Detail: "refused with 403 by " + string(a.from()) + ": not in ALLOWED_ORIGINS, so MCP Inspector's web UI cannot call /mcp; clients without an Origin header are not affected. " +
				"To allow it, deploy with the Bicep parameter allowedOrigins = ['" + browserOrigin + "']"})
		header.Del("Origin")
		a = d.send(ctx, http.MethodPost, d.opts.MCPURL, request{Body: initializeBody, Header: header})
	}
	d.challenge = a
	d.noteAPIM(a)
	scheme, params := parseChallenge(a.Header.Get("WWW-Authenticate"))
	if a.Status != http.StatusUnauthorized || !strings.EqualFold(scheme, "Bearer") {
		d.rep.Add(d.unexpected(name, a, "401 with a Bearer challenge"))
		return
	}
	who := a.from()
	rm := params["resource_metadata"]
	want := d.origin + "/.well-known/oauth-protected-resource" + strings.TrimSuffix(d.mcp.Path, "/")
	if rm != want && rm != d.origin+"/.well-known/oauth-protected-resource" {
		layer, fix := LayerConfig, "the handler builds it from PUBLIC_BASE_URL: set the app setting to "+d.base
		if who != fromHandler {
			layer, fix = LayerAPIM, "API Management's /mcp policy builds it from the named value `public-base-url`: set it to "+d.base
		}
		detail := fmt.Sprintf("resource_metadata is %q, want %s (answered by %s)", rm, want, who)
		d.rep.Add(Result{Name: name, Status: Fail, Layer: layer, Detail: detail, Fix: fix})
	} else {
		d.rep.Add(Result{Name: name, Status: Pass, Detail: fmt.Sprintf("resource_metadata=%q, answered by %s", rm, who)})
	}
	if !d.originRefused {
		d.checkExposed(a)
	}
}

// refusedOrigin: the 403 the handler (mcpserver.RefuseOrigin) and the /mcp
// policies answer to a browser origin ALLOWED_ORIGINS does not list.
func refusedOrigin(a answer) bool {
	var e struct {
		JSONRPC string `json:"jsonrpc"`
		Error   struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	return a.Status == http.StatusForbidden && json.Unmarshal(a.Body, &e) == nil && e.JSONRPC == "2.0" && e.Error.Code == -32600
}

// checkExposed: a browser client reads WWW-Authenticate of a cross-origin
// 401 only when the answer allows the origin and exposes the header
// (Fetch standard, CORS protocol).
func (d *Doctor) checkExposed(a answer) {
	const name = "cross-origin 401 exposes WWW-Authenticate"
	acao := a.Header.Get("Access-Control-Allow-Origin")
	exposed := headerList(a.Header.Get("Access-Control-Expose-Headers"))
	if (acao == "*" || acao == browserOrigin) && (slices.Contains(exposed, "www-authenticate") || slices.Contains(exposed, "*")) {
		d.rep.Add(Result{Name: name, Status: Pass, Detail: "Access-Control-Expose-Headers: " + a.Header.Get("Access-Control-Expose-Headers")})
		return
	}
	layer, fix := LayerAPIM, "the on-error branch of infra/policies/mcp-proxy.xml sets Access-Control-Allow-Origin and Access-Control-Expose-Headers on its 401 (return-response skips outbound); deploy it with `azd provision`"
	if a.from() == fromHandler {
		layer, fix = LayerHandler, "the handler's bearer middleware sets these headers; a proxy in between dropped them"
	}
	d.rep.Add(Result{Name: name, Status: Fail, Layer: layer, Fix: fix,
		Detail: fmt.Sprintf("Access-Control-Allow-Origin %q, Access-Control-Expose-Headers %q (answered by %s)", acao, a.Header.Get("Access-Control-Expose-Headers"), a.from())})
}

// checkPreflight sends the CORS preflight a browser sends before the
// authenticated POST, unless the origin is not allowed anyway. API
// Management forwards it to the handler, which answers from
// ALLOWED_ORIGINS; older deployments answered it with a cors policy.
func (d *Doctor) checkPreflight(ctx context.Context) {
	const name = "CORS preflight OPTIONS /mcp from " + browserOrigin
	if d.originRefused {
		d.rep.Add(Result{Name: name, Status: Skip, Detail: browserOrigin + " is not in ALLOWED_ORIGINS"})
		return
	}
	requested := []string{"authorization", "content-type", "mcp-protocol-version"}
	a := d.send(ctx, http.MethodOptions, d.opts.MCPURL, request{Header: http.Header{
		"Origin": {browserOrigin}, "Access-Control-Request-Method": {"POST"},
		"Access-Control-Request-Headers": {strings.Join(requested, ", ")},
	}})
	d.noteAPIM(a)
	if a.Status < 200 || a.Status > 299 {
		d.rep.Add(d.unexpected(name, a, "2xx allowing the request"))
		return
	}
	who := "the handler"
	if a.from() != fromHandler {
		who = "API Management's cors policy"
		if d.apimSeen == "" {
			d.apimSeen = "a CORS preflight was answered without reaching the handler"
		}
	}
	var problems []string
	if acao := a.Header.Get("Access-Control-Allow-Origin"); acao != "*" && acao != browserOrigin {
		problems = append(problems, fmt.Sprintf("Access-Control-Allow-Origin is %q", acao))
	}
	if m := headerList(a.Header.Get("Access-Control-Allow-Methods")); !slices.Contains(m, "post") && !slices.Contains(m, "*") {
		problems = append(problems, "Access-Control-Allow-Methods lacks POST")
	}
	allowed := headerList(a.Header.Get("Access-Control-Allow-Headers"))
	for _, h := range requested {
		// "*" never covers Authorization (Fetch standard, CORS-safelisted
		// request-header rules).
		if !slices.Contains(allowed, h) && (h == "authorization" || !slices.Contains(allowed, "*")) {
			problems = append(problems, "Access-Control-Allow-Headers lacks "+h)
		}
	}
	if len(problems) > 0 {
		layer, fix := LayerAPIM, "API Management forwards the /mcp preflight to the handler (the options-mcp operation of infra/apim-operations.json); deploy it with `azd provision`"
		if a.from() == fromHandler {
			layer, fix = LayerHandler, "the handler answers /mcp's preflight from ALLOWED_ORIGINS (handler/internal/cors, Listed)"
		}
		d.rep.Add(Result{Name: name, Status: Fail, Layer: layer, Fix: fix, Detail: strings.Join(problems, "; ") + " (answered by " + who + ")"})
		return
	}
	d.rep.Add(Result{Name: name, Status: Pass, Detail: fmt.Sprintf("%d, answered by %s", a.Status, who)})
}

// checkFrontDoor: with API Management in front, its /mcp policy answers an
// anonymous request itself. If the handler answered, validate-jwt and the
// per-user rate limit are not running. Whether API Management is in front
// is known from the host name, or from an answer only it gives; failing
// those, a path no operation matches tells (its 404 is API Management's
// own, {"statusCode":404,…}).
func (d *Doctor) checkFrontDoor(ctx context.Context) {
	const name = "API Management's /mcp policy"
	if d.apimSeen == "" {
		d.noteAPIM(d.get(ctx, d.base+"/.well-known/entra-mcp-doctor-probe"))
	}
	a := d.challenge
	switch {
	case d.apimSeen == "":
		d.rep.Add(Result{Name: "front door", Status: Note, Detail: "no sign of API Management: the handler is reached directly (a local stack or func start)"})
	case a.Status == http.StatusUnauthorized && a.from() == fromHandler:
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerAPIM,
			Detail: "API Management is in front (" + d.apimSeen + "), but the handler, not the policy, answered POST /mcp without a token: validate-jwt did not run",
			Fix:    "the post-mcp (and get-mcp, delete-mcp) operation must carry infra/policies/mcp-proxy.xml (mcp-entra.xml in mode entra); run `azd provision`. Until then tokens are checked only by the handler and there is no per-user rate limit"})
	case a.from() == fromEdge:
		d.rep.Add(Result{Name: name, Status: Pass, Detail: "validate-jwt answered at the edge (" + d.apimSeen + ")"})
	}
}

// parseChallenge splits a WWW-Authenticate value with one challenge into
// its scheme and auth-params (RFC 9110 §11.2), unquoting quoted strings.
func parseChallenge(h string) (string, map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	params := map[string]string{}
	for rest = strings.TrimSpace(rest); rest != ""; {
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimLeft(v, " ")
		if strings.HasPrefix(v, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(v) && v[i] != '"'; i++ {
				if v[i] == '\\' && i+1 < len(v) {
					i++
				}
				b.WriteByte(v[i])
			}
			params[k] = b.String()
			rest = v[min(i+1, len(v)):]
		} else {
			end := strings.IndexByte(v, ',')
			if end < 0 {
				end = len(v)
			}
			params[k] = strings.TrimSpace(v[:end])
			rest = v[end:]
		}
		rest = strings.TrimLeft(rest, ", ")
	}
	return scheme, params
}

// headerList lower-cases and splits a comma-separated header value.
func headerList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			out = append(out, p)
		}
	}
	return out
}
