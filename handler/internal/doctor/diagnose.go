package doctor

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// unexpected turns an answer that a check did not want into a failure
// naming the layer that produced it and what to do about it. want says
// what the check expected, for the detail.
func (d *Doctor) unexpected(name string, a answer, want string) (r Result) {
	r = Result{Name: name, Status: Fail}
	what := a.Method + " " + pathOf(a.URL)
	defer func() {
		// The check's name often says what was requested already.
		if strings.Contains(name, what) {
			r.Detail = strings.TrimPrefix(r.Detail, what+": ")
		}
	}()
	switch a.from() {
	case fromTransport:
		r.Layer = LayerNetwork
		r.Detail = fmt.Sprintf("%s: no answer: %v", what, a.Err)
		r.Fix = "check the URL (`azd env get-value MCP_URL`) and that the API Management gateway exists and is reachable from this machine"
	case fromAPIM:
		r.Layer = LayerAPIM
		r.Detail, r.Fix = apimAdvice(a, what)
	case fromHost:
		r.Layer = LayerHost
		r.Detail, r.Fix = hostAdvice(a, what)
	case fromHandler:
		r.Layer, r.Detail, r.Fix = handlerAdvice(a, what, want)
	case fromEdge:
		r.Layer = LayerAPIM
		r.Detail = fmt.Sprintf("%s: API Management's 401 challenge, but %s was expected", what, want)
		r.Fix = "the operation carries the /mcp policy (validate-jwt) although it must not; compare the operation policies with infra/modules/apim.bicep and run `azd provision`"
	default:
		r.Layer = LayerUnknown
		r.Detail = fmt.Sprintf("%s: %d from %s, expected %s: %s", what, a.Status, fromUnknown, want, a.snippet())
		r.Fix = "neither the handler, API Management nor the Functions host wrote this answer; check that the URL is the API Management gateway (`azd env get-value MCP_URL`) and nothing else (a proxy, a custom domain) sits in front"
	}
	return r
}

func apimAdvice(a answer, what string) (detail, fix string) {
	e, _ := a.apimError()
	detail = fmt.Sprintf("%s: API Management answered %d %q itself", what, a.Status, e.Message)
	switch {
	case a.Status == http.StatusNotFound && a.Method == http.MethodOptions:
		// API Management answers a preflight with the cors policy of the
		// operation the preflight is for (Access-Control-Request-Method);
		// without one it treats it as an unmatched request.
		return fmt.Sprintf("%s: no API Management operation with a cors policy answers this preflight (404 %q)", what, e.Message),
			"the operation for the real request (POST " + pathOf(a.URL) + ") is missing or lacks its policy, which holds the cors element (infra/policies/*.xml); run `azd provision`"
	case a.Status == http.StatusNotFound:
		return fmt.Sprintf("%s: API Management has no operation for it (404 %q)", what, e.Message),
			"the API's operations are listed in infra/apim-operations.json (one per handler route and method, deployed by infra/modules/apim.bicep); run `azd provision` so the deployed API has all of them"
	case a.Status == http.StatusUnauthorized && strings.Contains(strings.ToLower(e.Message), "subscription key"):
		return fmt.Sprintf("%s: API Management requires a subscription key (401 %q)", what, e.Message),
			"MCP clients cannot send an APIM subscription key: the API must have subscriptionRequired: false (infra/modules/apim.bicep); run `azd provision`, and check no product requiring a subscription was added to the API"
	case a.Status == http.StatusTooManyRequests:
		return detail, "a rate limit of infra/policies/*.xml was reached (Retry-After: " + a.Header.Get("Retry-After") + "); wait and run the doctor again"
	case a.Status >= 500:
		return detail, "API Management could not get an answer from the Function App backend: check the backend `function-app` URL (https://<app>.azurewebsites.net), that the Function App is running, and APIM's request trace in the portal"
	}
	return detail, "look up the operation's policy in the portal (API Management → APIs → MCP server) and compare it with infra/policies/*.xml"
}

func hostAdvice(a answer, what string) (detail, fix string) {
	switch a.Status {
	case http.StatusUnauthorized:
		return what + ": the Functions host refused the function key (an empty 401 without a challenge)",
			"API Management sends the host key from its named value `function-host-key` as x-functions-key (infra/policies/api.xml); it is missing or stale. Run `azd provision` to read the current key again, or compare the named value with `az functionapp keys list -g <resource group> -n <function app>`"
	case http.StatusNotFound:
		return what + ": no function serves this route (an empty 404 from the Functions host)",
			"the deployed package lacks the function.json for it, or no code is deployed: run `azd deploy` (scripts/build.sh stages host.json, functions/*/function.json and the binary into one folder)"
	}
	return what + ": Function host is not running (503)",
		"the handler did not start: it names every configuration problem in one error at start. Read the Function App's log stream or its Application Insights traces, fix the app setting it names, and restart the app"
}

func handlerAdvice(a answer, what, want string) (Layer, string, string) {
	id := a.Header.Get("X-Request-Id")
	detail := fmt.Sprintf("%s: the handler answered %d, expected %s: %s", what, a.Status, want, a.snippet())
	switch a.Status {
	case http.StatusServiceUnavailable:
		return LayerConfig, detail, "the handler could not reach its state store or Entra in time: check STORAGE_TABLE_ENDPOINT and the managed identity's role on the table (infra/modules/rbac.bicep), then the handler's log for request id " + id
	case http.StatusNotFound:
		return LayerConfig, detail, "the handler does not serve this path in its AUTH_MODE (mode entra answers 404 on the authorization-server endpoints); check the AUTH_MODE app setting"
	}
	return LayerHandler, detail, "read the handler's log line for request id " + id + " (Application Insights traces)"
}

func pathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Path == "" {
		return raw
	}
	return u.Path
}
