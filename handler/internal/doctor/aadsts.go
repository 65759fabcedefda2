package doctor

import (
	"fmt"
	"regexp"
	"sort"
)

// entraError is what the doctor says about one Entra error code. Every code
// here has a row in infra/README.md ("Sign-in errors the doctor names"),
// which a test checks.
type entraError struct {
	Meaning string
	Fix     string
}

// entraErrors are the AADSTS codes a sign-in to this server can meet
// (learn.microsoft.com/entra/identity-platform/reference-error-codes).
var entraErrors = map[string]entraError{
	"50011": {"the redirect URI is not registered on the app registration",
		"the app registration must list <APIM URL>/callback as a web redirect URI; PUBLIC_BASE_URL must be that APIM URL (run `azd provision`)"},
	"50020":   {"the user's account is not in this tenant", "sign in with an account of the tenant, or invite the user as a guest"},
	"50076":   {"multi-factor authentication is required", "complete MFA in the browser; the doctor cannot do it for you"},
	"50105":   {"the user is not assigned to the app, and assignment is required", "assign the user (or a group) to the enterprise application, or turn off 'Assignment required'"},
	"53003":   {"a Conditional Access policy blocked the sign-in", "ask the tenant's administrator which policy applies to this app"},
	"65001":   {"nobody consented to the app's permissions", "redeploy with GRANT_ADMIN_CONSENT=true or have an administrator grant consent on the app registration's API permissions page"},
	"70008":   {"the authorization code or refresh token expired", "sign in again"},
	"70021":   {"no federated credential matches the managed identity's assertion", "the app registration's federated credential must trust the Function App's user-assigned identity (infra/modules/entra-app.bicep); run `azd provision`"},
	"90002":   {"the tenant does not exist", "ENTRA_TENANT_ID must be the tenant GUID of the app registration"},
	"700016":  {"the app (client id) is not in this tenant", "ENTRA_CLIENT_ID and ENTRA_TENANT_ID must name the app registration and its tenant; right after deployment, wait a minute for replication"},
	"700082":  {"the refresh token expired from inactivity", "sign in again"},
	"7000215": {"the client secret is wrong or expired", "locally: ENTRA_CLIENT_SECRET must be a current secret of the app; in Azure no secret is used (MANAGED_IDENTITY_CLIENT_ID)"},
	"9002327": {"the redirect URI is registered as a single-page application", "register <APIM URL>/callback on the web platform, not SPA"},
	"9010010": {"the resource parameter does not match the requested scopes", "use mode proxy, or a client that sends no resource to Entra"},
	"28000":   {"one request asked for scopes of two resources", "keep GRAPH_SCOPES out of the sign-in request (the handler gets Graph tokens by On-Behalf-Of)"},
	"500011":  {"the resource (app ID URI) is not found in the tenant", "ENTRA_APP_ID_URI must be the app's identifier URI; right after deployment, wait a minute for replication"},
}

var aadstsRE = regexp.MustCompile(`AADSTS(\d+)`)

// entraFailure turns text holding an AADSTS code into a failure naming the
// row of infra/README.md. ok is false when the text holds no code.
func entraFailure(name, text string) (Result, bool) {
	m := aadstsRE.FindStringSubmatch(text)
	if m == nil {
		return Result{}, false
	}
	r := Result{Name: name, Status: Fail, Layer: LayerEntra}
	if e, known := entraErrors[m[1]]; known {
		r.Detail = fmt.Sprintf("Entra answered AADSTS%s: %s", m[1], e.Meaning)
		r.Fix = e.Fix + " (infra/README.md, Troubleshooting, AADSTS" + m[1] + ")"
	} else {
		r.Detail = "Entra answered " + m[0] + ": " + text
		r.Fix = "look the code up at https://login.microsoftonline.com/error?code=" + m[1]
	}
	return r, true
}

// EntraCodes lists the AADSTS codes the doctor explains, for the README test.
func EntraCodes() []string {
	var codes []string
	for c := range entraErrors {
		codes = append(codes, "AADSTS"+c)
	}
	sort.Strings(codes)
	return codes
}
