package doctor

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

// jwk is the part of an RFC 7517 key the doctor reads.
type jwk struct {
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	Crv string `json:"crv"`
}

// apimAlgs are the asymmetric algorithms API Management's validate-jwt
// accepts (learn.microsoft.com/azure/api-management/validate-jwt-policy:
// "RS256, PS256, RS512" for asymmetric keys; no ES256).
var apimAlgs = map[string]bool{"RS256": true, "PS256": true, "RS512": true}

// checkJWKS holds our keys to what the edge can use.
func (d *Doctor) checkJWKS(ctx context.Context) {
	const name = "JWKS usable by APIM's validate-jwt"
	if d.as == nil || d.as.JWKSURI == "" {
		d.rep.Add(Result{Name: name, Status: Skip, Detail: "no jwks_uri (authorization server metadata failed)"})
		return
	}
	a := d.get(ctx, d.as.JWKSURI)
	d.noteAPIM(a)
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if a.Status != http.StatusOK || a.from() == fromAPIM || a.from() == fromHost || a.decode(&set) != nil {
		d.rep.Add(d.unexpected(name, a, "200 with a JWK set"))
		return
	}
	if problems := jwksProblems(set.Keys, true); len(problems) > 0 {
		d.rep.Add(Result{Name: name, Status: Fail, Layer: LayerConfig, Detail: strings.Join(problems, "; "),
			Fix: "API Management's validate-jwt accepts only RS256, PS256 and RS512 keys, so it refuses every token this server issues. The deployed handler is an older build that signs ES256: redeploy with `azd up` (the current build signs RS256, and infra/scripts/keys.sh replaces an EC signing-key with an RSA one)"})
		return
	}
	d.rep.Add(Result{Name: name, Status: Pass, Detail: fmt.Sprintf("%d RSA key(s), RS256, kids %s", len(set.Keys), kids(set.Keys))})
}

// jwksProblems lists what makes a key set unusable at the edge. requireAlg
// is false for Entra's keys, which carry no "alg" (validate-jwt uses RS256
// for them).
func jwksProblems(keys []jwk, requireAlg bool) []string {
	if len(keys) == 0 {
		return []string{"the key set is empty"}
	}
	var problems []string
	seen := map[string]bool{}
	for i, k := range keys {
		id := fmt.Sprintf("key %d (kid %q)", i+1, k.Kid)
		switch {
		case k.Kty != "RSA":
			alg := k.Alg
			if alg == "" {
				alg = k.Kty + " " + k.Crv
			}
			problems = append(problems, fmt.Sprintf("%s is %s, not RSA", id, alg))
		case k.Alg == "" && requireAlg:
			problems = append(problems, id+" has no alg")
		case k.Alg != "" && !apimAlgs[k.Alg]:
			problems = append(problems, fmt.Sprintf("%s has alg %s", id, k.Alg))
		case rsaBits(k.N) < 2048:
			problems = append(problems, fmt.Sprintf("%s has a %d-bit modulus (2048 or more needed)", id, rsaBits(k.N)))
		}
		if k.Use != "" && k.Use != "sig" {
			problems = append(problems, fmt.Sprintf("%s has use %q, not sig", id, k.Use))
		}
		switch {
		case k.Kid == "":
			problems = append(problems, id+" has no kid")
		case seen[k.Kid]:
			problems = append(problems, fmt.Sprintf("kid %q appears twice", k.Kid))
		}
		seen[k.Kid] = true
	}
	return problems
}

func rsaBits(n string) int {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(n, "="))
	if err != nil || len(b) == 0 {
		return 0
	}
	bits := len(b) * 8
	for x := b[0]; x&0x80 == 0 && bits > 0; x <<= 1 {
		bits--
	}
	return bits
}

func kids(keys []jwk) string {
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.Kid)
	}
	return strings.Join(ids, ", ")
}
