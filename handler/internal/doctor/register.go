package doctor

import (
	"context"
	"encoding/json"
	"net/http"
)

// registration is the part of an RFC 7591 §3.2.1 answer the doctor keeps.
type registration struct {
	ClientID string `json:"client_id"`
}

// loopbackRedirect is registered without a port: RFC 8252 §7.3 lets a
// native client use any port on the loopback address at run time, and the
// authorization server matches loopback redirect URIs that way.
const loopbackRedirect = "http://127.0.0.1/callback"

// checkRegistration registers a throwaway public client, as every MCP
// client that has no client ID metadata document does.
func (d *Doctor) checkRegistration(ctx context.Context) {
	const name = "dynamic client registration (POST /register)"
	if d.as == nil || d.as.RegistrationEndpoint == "" {
		d.rep.Add(Result{Name: name, Status: Skip, Detail: "no registration_endpoint (authorization server metadata failed)"})
		return
	}
	body, _ := json.Marshal(map[string]any{
		"client_name":                "entra-mcp doctor (throwaway)",
		"redirect_uris":              []string{loopbackRedirect},
		"token_endpoint_auth_method": "none",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"application_type":           "native",
	})
	a := d.send(ctx, http.MethodPost, d.as.RegistrationEndpoint, request{Body: string(body), Header: http.Header{
		"Content-Type": {"application/json"}, "Accept": {"application/json"},
	}})
	d.noteAPIM(a)
	var reg registration
	if a.Status != http.StatusCreated || a.from() == fromAPIM || a.decode(&reg) != nil || reg.ClientID == "" {
		d.rep.Add(d.unexpected(name, a, "201 with a client_id"))
		return
	}
	d.reg = &reg
	d.rep.Add(Result{Name: name, Status: Pass, Detail: "created a throwaway client registration " + reg.ClientID + " (redirect " + loopbackRedirect + "; it grants nothing by itself and expires unused after REGISTRATION_IDLE_TTL)"})
}
