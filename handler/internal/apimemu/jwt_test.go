package apimemu

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
)

// jwtFixture is a gateway whose operations validate tokens from iss, plus
// the step of each, to run directly and read the failure reason.
type jwtFixture struct {
	is    *issuer
	clock *testutil.Clock
	g     *Gateway
	aud   string
}

func newJWTFixture(t testing.TB) *jwtFixture {
	t.Helper()
	is := newIssuer(t)
	mux := http.NewServeMux()
	idp := httptest.NewServer(mux)
	t.Cleanup(idp.Close)
	is.serve(mux, idp.URL)
	vj := func(extra string) string {
		return `<base /><validate-jwt header-name="Authorization" require-scheme="Bearer" failed-validation-httpcode="401" clock-skew="60" output-token-variable-name="jwt"` + extra + `>
			<openid-config url="{{idp}}/.well-known/openid-configuration" />
			<audiences><audience>https://api.example/mcp</audience><audience>other</audience></audiences>
			<issuers><issuer>{{idp}}</issuer></issuers>
		</validate-jwt>`
	}
	dir := testInfra{
		ops: []Operation{
			{Name: "strict", Method: "GET", URLTemplate: "/strict", Policy: "strict"},
			{Name: "noexp", Method: "GET", URLTemplate: "/noexp", Policy: "noexp"},
		},
		policies: map[string]string{
			"strict": testPolicy(vj(""), "<base />", "<base />", "<base />"),
			"noexp":  testPolicy(vj(` require-expiration-time="false"`), "<base />", "<base />", "<base />"),
		},
	}.write(t)
	clock := testutil.NewClock(time.Now())
	g, err := New(Config{InfraDir: dir, AuthMode: "proxy", Now: clock.Now,
		NamedValues: map[string]string{"function-host-key": "k", "idp": idp.URL},
		Backends:    map[string]string{"function-app": "http://127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	return &jwtFixture{is: is, clock: clock, g: g, aud: "https://api.example/mcp"}
}

// check runs the named operation's validate-jwt on an Authorization header
// and returns the failure reason ("" on success) and the call.
func (f *jwtFixture) check(t *testing.T, opName, authorization string) (string, *call) {
	t.Helper()
	var op *operation
	for _, o := range f.g.ops {
		if o.Name == opName {
			op = o
		}
	}
	var step *validateJWTStep
	for _, s := range op.doc.sections[inbound] {
		if v, ok := s.(located).step.(*validateJWTStep); ok {
			step = v
		}
	}
	req := httptest.NewRequest("GET", "/"+opName, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	c := f.g.newCall(req, op)
	err := step.run(c)
	if err == nil {
		return "", c
	}
	pe := err.(*PolicyError)
	if pe.Source != "validate-jwt" || pe.status != 401 {
		t.Errorf("policy error %+v: want source validate-jwt and status 401", pe)
	}
	return pe.Reason, c
}

func (f *jwtFixture) token(t testing.TB, alg string, over map[string]any, header map[string]any) string {
	return f.is.sign(t, alg, claims(f.is.base, f.aud, f.clock.Now(), over), header)
}

// TestValidateJWTAlgorithms: only PS256, RS256 and RS512 are accepted, as
// the validate-jwt reference documents; an ES256 token signed by a key in
// the very same JWKS, an HS256 token keyed with the RSA modulus and an
// unsigned token are refused.
func TestValidateJWTAlgorithms(t *testing.T) {
	f := newJWTFixture(t)
	for alg, want := range map[string]string{
		"RS256": "", "PS256": "", "RS512": "",
		"ES256": "TokenSignatureInvalid", "HS256": "TokenSignatureInvalid", "none": "TokenSignatureInvalid",
	} {
		if got, _ := f.check(t, "strict", "Bearer "+f.token(t, alg, nil, nil)); got != want {
			t.Errorf("%s: reason %q, want %q", alg, got, want)
		}
	}
}

// TestValidateJWTFailures: each documented reason.
func TestValidateJWTFailures(t *testing.T) {
	f := newJWTFixture(t)
	now := f.clock.Now()
	good := f.token(t, "RS256", nil, nil)
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + b64([]byte(`{"iss":"`+f.is.base+`","aud":"`+f.aud+`","sub":"admin","exp":9999999999}`)) + "." + parts[2]
	for _, tt := range []struct {
		name, op, auth, want string
	}{
		{"valid", "strict", "Bearer " + good, ""},
		{"scheme is case-insensitive", "strict", "bearer " + good, ""},
		{"no header", "strict", "", "TokenNotPresent"},
		{"other scheme", "strict", "Basic dXNlcjpwYXNz", "TokenNotPresent"},
		{"scheme only", "strict", "Bearer ", "TokenNotPresent"},
		{"token without scheme", "strict", good, "TokenNotPresent"},
		{"garbage", "strict", "Bearer not-a-jwt", "JwtInvalid"},
		{"JWE", "strict", "Bearer a.b.c.d.e", "JwtInvalid"},
		{"tampered payload", "strict", "Bearer " + tampered, "TokenSignatureInvalid"},
		{"expired beyond the clock skew", "strict", "Bearer " + f.token(t, "RS256", map[string]any{"exp": now.Add(-61 * time.Second).Unix()}, nil), "TokenExpired"},
		{"expired within the clock skew", "strict", "Bearer " + f.token(t, "RS256", map[string]any{"exp": now.Add(-59 * time.Second).Unix()}, nil), ""},
		{"not yet valid beyond the skew", "strict", "Bearer " + f.token(t, "RS256", map[string]any{"nbf": now.Add(61 * time.Second).Unix()}, nil), "JwtInvalid"},
		{"not yet valid within the skew", "strict", "Bearer " + f.token(t, "RS256", map[string]any{"nbf": now.Add(59 * time.Second).Unix()}, nil), ""},
		{"no exp", "strict", "Bearer " + f.token(t, "RS256", map[string]any{"exp": nil}, nil), "JwtInvalid"},
		{"no exp, not required", "noexp", "Bearer " + f.token(t, "RS256", map[string]any{"exp": nil}, nil), ""},
		{"exp not a number", "strict", "Bearer " + f.token(t, "RS256", map[string]any{"exp": "tomorrow"}, nil), "JwtInvalid"},
		{"other audience", "strict", "Bearer " + f.token(t, "RS256", map[string]any{"aud": "https://other.example/mcp"}, nil), "TokenAudienceNotAllowed"},
		{"audience list with ours", "strict", "Bearer " + f.token(t, "RS256", map[string]any{"aud": []string{"x", "other"}}, nil), ""},
		{"no audience", "strict", "Bearer " + f.token(t, "RS256", map[string]any{"aud": nil}, nil), "TokenAudienceNotAllowed"},
		{"other issuer", "strict", "Bearer " + f.token(t, "RS256", map[string]any{"iss": "https://evil.example"}, nil), "TokenIssuerNotAllowed"},
		{"unknown kid", "strict", "Bearer " + f.token(t, "RS256", nil, map[string]any{"kid": "rotated-away"}), "TokenSignatureKeyNotFound"},
		{"no kid: every key tried", "strict", "Bearer " + f.token(t, "RS256", nil, map[string]any{"kid": nil}), ""},
		{"critical header", "strict", "Bearer " + f.token(t, "RS256", nil, map[string]any{"crit": []string{"exp"}}), "JwtInvalid"},
	} {
		if got, _ := f.check(t, tt.op, tt.auth); got != tt.want {
			t.Errorf("%s: reason %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestValidateJWTOutputVariable: the validated token lands in the variable
// as a Jwt, which the rate-limit counter key expression reads.
func TestValidateJWTOutputVariable(t *testing.T) {
	f := newJWTFixture(t)
	reason, c := f.check(t, "strict", "Bearer "+f.token(t, "PS256", map[string]any{"sub": "oid-42", "scp": "a b"}, nil))
	if reason != "" {
		t.Fatal(reason)
	}
	jwt := c.vars["jwt"].(*Jwt)
	if jwt.Subject != "oid-42" || jwt.Algorithm != "PS256" || jwt.Issuer != f.is.base || jwt.Claims["scp"][0] != "a b" || jwt.ExpirationTime == nil {
		t.Errorf("Jwt = %+v", jwt)
	}
	key, err := expressions[`"mcp:"+((Jwt)context.Variables["jwt"]).Subject`].eval(c)
	if err != nil || key != "mcp:oid-42" {
		t.Errorf("counter key %v, %v", key, err)
	}
	delete(c.vars, "jwt")
	if _, err := expressions[`"mcp:"+((Jwt)context.Variables["jwt"]).Subject`].eval(c); err == nil {
		t.Error("missing variable: want the KeyNotFoundException C# would throw")
	}
}

// TestOpenIDConfigCache: the key set is fetched once, again after an hour,
// and for an unknown kid at most once per 5 minutes.
func TestOpenIDConfigCache(t *testing.T) {
	f := newJWTFixture(t)
	for i := 0; i < 3; i++ {
		f.check(t, "strict", "Bearer "+f.token(t, "RS256", nil, nil))
	}
	if n := f.is.fetches(); n != 1 {
		t.Fatalf("%d key set fetches for 3 tokens, want 1", n)
	}
	unknown := func() string { return "Bearer " + f.token(t, "RS256", nil, map[string]any{"kid": "new-key"}) }
	f.check(t, "strict", unknown())
	f.check(t, "strict", unknown())
	if n := f.is.fetches(); n != 1 {
		t.Fatalf("unknown kid within 5 min of the last fetch: %d fetches, want still 1", n)
	}
	f.clock.Advance(5 * time.Minute)
	// The issuer rotates: its RSA key is now published as "new-key".
	f.is.mu.Lock()
	f.is.kids = []string{"new-key", "ec-1"}
	f.is.mu.Unlock()
	if reason, _ := f.check(t, "strict", unknown()); reason != "" {
		t.Fatalf("after 5 min the unknown kid is fetched and found; reason %q", reason)
	}
	if n := f.is.fetches(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	f.clock.Advance(time.Hour)
	f.check(t, "strict", unknown())
	if n := f.is.fetches(); n != 3 {
		t.Fatalf("after an hour: %d fetches, want 3", n)
	}
}
