package doctor

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// checkEntra: in mode entra the PRM's authorization server is Entra's v2
// issuer. Entra serves OpenID discovery there (it has no RFC 8414 document,
// no dynamic registration and no revocation endpoint); its keys are RSA,
// which validate-jwt accepts.
func (d *Doctor) checkEntra(ctx context.Context) {
	issuer := strings.TrimSuffix(d.prm.AuthorizationServers[0], "/")
	name := "Entra discovery (GET " + issuer + "/.well-known/openid-configuration)"
	a := d.get(ctx, issuer+"/.well-known/openid-configuration")
	var m asMetadata
	if a.Err != nil || a.Status != http.StatusOK || a.decode(&m) != nil {
		detail := fmt.Sprintf("%d: %s", a.Status, a.snippet())
		if a.Err != nil {
			detail = a.Err.Error()
		}
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerEntra, Detail: detail,
			Fix: "the tenant id in PRM's authorization server is wrong or the authority is unreachable: check ENTRA_TENANT_ID and ENTRA_AUTHORITY_HOST (AADSTS90002: tenant not found, see infra/README.md)"})
		return
	}
	if m.Issuer != issuer {
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerConfig, Detail: fmt.Sprintf("Entra's issuer is %s, PRM says %s", m.Issuer, issuer),
			Fix: "use the tenant GUID (not a domain name) in ENTRA_TENANT_ID: tokens carry the GUID issuer"})
		return
	}
	d.as = &m
	d.rep.Add(Result{Name: name, Status: Pass, Detail: "issuer " + m.Issuer})

	const jname = "Entra JWKS usable by APIM's validate-jwt"
	j := d.get(ctx, m.JWKSURI)
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if j.Err != nil || j.Status != http.StatusOK || j.decode(&set) != nil {
		d.rep.Add(Result{Name: jname, Status: Fail, Layer: LayerEntra, Detail: fmt.Sprintf("%s: %d %s", m.JWKSURI, j.Status, j.snippet()), Fix: "Entra's key set must be reachable; retry later"})
		return
	}
	if p := jwksProblems(set.Keys, false); len(p) > 0 {
		d.rep.Add(Result{Name: jname, Status: Fail, Layer: LayerEntra, Detail: strings.Join(p, "; "), Fix: "the authority is not serving Entra's RSA keys; check ENTRA_AUTHORITY_HOST"})
		return
	}
	d.rep.Add(Result{Name: jname, Status: Pass, Detail: fmt.Sprintf("%d RSA key(s)", len(set.Keys))})
}
