package apimemu

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// documentedReasons are validate-jwt's reasons
// (learn.microsoft.com/azure/api-management/api-management-error-handling-policies).
var documentedReasons = []string{"TokenNotPresent", "TokenSignatureInvalid", "TokenAudienceNotAllowed", "TokenIssuerNotAllowed",
	"TokenExpired", "TokenSignatureKeyNotFound", "TokenClaimNotFound", "TokenClaimValueNotAllowed", "JwtInvalid"}

// FuzzAuthorizationHeader feeds arbitrary Authorization headers to
// validate-jwt: it never panics, fails only with a documented reason, and
// accepts only a token whose header and payload were signed by the issuer.
func FuzzAuthorizationHeader(f *testing.F) {
	fx := newJWTFixture(f)
	var signed []string
	for _, alg := range []string{"RS256", "PS256", "RS512", "ES256", "HS256", "none"} {
		tok := fx.token(f, alg, nil, nil)
		if alg == "RS256" || alg == "PS256" || alg == "RS512" {
			signed = append(signed, tok[:strings.LastIndex(tok, ".")])
		}
		f.Add("Bearer " + tok)
	}
	for _, s := range []string{"", "Bearer", "Bearer ", "bearer a.b.c", "Basic x", "Bearer a.b.c.d.e", "Bearer ..", "Bearer e30.e30.", "Bearer \x00.\xff."} {
		f.Add(s)
	}
	var step *validateJWTStep
	var op *operation
	for _, o := range fx.g.ops {
		if o.Name == "strict" {
			op = o
			for _, s := range o.doc.sections[inbound] {
				if v, ok := s.(located).step.(*validateJWTStep); ok {
					step = v
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, authorization string) {
		req := httptest.NewRequest("GET", "/strict", nil)
		req.Header["Authorization"] = []string{authorization}
		err := step.run(fx.g.newCall(req, op))
		if err == nil {
			token := strings.TrimSpace(authorization)
			token = strings.TrimSpace(token[strings.Index(token, " ")+1:])
			if !slices.Contains(signed, token[:strings.LastIndex(token, ".")]) {
				t.Fatalf("accepted a token the issuer never signed: %q", authorization)
			}
			return
		}
		pe, ok := err.(*PolicyError)
		if !ok || !slices.Contains(documentedReasons, pe.Reason) || pe.Source != "validate-jwt" {
			t.Fatalf("%q: error %v is not a documented validate-jwt failure", authorization, err)
		}
	})
}

// FuzzJWKS: a key set from the network never panics the parser and yields
// only usable RSA keys.
func FuzzJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":""},{"kty":"RSA","use":"enc"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := parseJWKS(b)
		if err != nil {
			return
		}
		for _, k := range keys {
			if k.key == nil || k.key.N.BitLen() < 1024 || k.key.E < 3 {
				t.Fatalf("unusable key accepted: %+v", k)
			}
		}
	})
}
