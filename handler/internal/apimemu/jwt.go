package apimemu

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// validateJWTStep is the validate-jwt policy
// (learn.microsoft.com/azure/api-management/validate-jwt-policy) with the
// token in a header and keys from openid-config. A failure is a policy
// error with Source "validate-jwt" and one of the documented reasons
// (learn.microsoft.com/azure/api-management/api-management-error-handling-policies):
// TokenNotPresent, TokenSignatureInvalid, TokenSignatureKeyNotFound,
// TokenExpired, TokenAudienceNotAllowed, TokenIssuerNotAllowed, JwtInvalid.
type validateJWTStep struct {
	headerName        string
	scheme            string // "" when not required or ignored
	failStatus        int
	requireExpiration bool
	requireSigned     bool
	clockSkew         time.Duration
	outputVar         string
	sources           []*keySource
	audiences         []string
	issuers           []string
}

func compileValidateJWT(cp *compiler, n *node, sec section) step {
	a := cp.attrs(n)
	s := &validateJWTStep{
		headerName:        a.literal("header-name", false, ""),
		scheme:            a.literal("require-scheme", false, ""),
		failStatus:        a.integer("failed-validation-httpcode", 401, 100, 599),
		requireExpiration: a.boolean("require-expiration-time", true),
		requireSigned:     a.boolean("require-signed-tokens", true),
		clockSkew:         time.Duration(a.integer("clock-skew", 0, 0, 86400)) * time.Second,
		outputVar:         a.literal("output-token-variable-name", false, ""),
	}
	a.done()
	if s.headerName == "" {
		cp.fail(n, "header-name is required (query-parameter-name and token-value are not modelled)")
	}
	// "When using a custom header (header-name), the configured required
	// scheme (require-scheme) will be ignored."
	if !strings.EqualFold(s.headerName, "Authorization") {
		s.scheme = ""
	}
	k := cp.kids(n, "openid-config", "audiences", "issuers")
	for _, oc := range k["openid-config"] {
		a := cp.attrs(oc)
		u := a.literal("url", true, "")
		a.done()
		cp.noKids(oc)
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			cp.fail(oc, "url %q is not an http(s) URL", u)
			continue
		}
		s.sources = append(s.sources, cp.g.keySource(u))
	}
	if len(s.sources) == 0 {
		cp.fail(n, "needs <openid-config> (issuer-signing-keys are not modelled)")
	}
	if au := k["audiences"]; len(au) != 1 {
		cp.fail(n, "needs exactly one <audiences> (validation without an audience is not modelled)")
	} else {
		cp.attrs(au[0]).done()
		s.audiences = cp.textList(cp.kids(au[0], "audience")["audience"])
		if len(s.audiences) == 0 {
			cp.fail(au[0], "at least one audience must be specified")
		}
	}
	if is := k["issuers"]; len(is) > 1 {
		cp.fail(is[1], "only one <issuers>")
	} else if len(is) == 1 {
		cp.attrs(is[0]).done()
		s.issuers = cp.textList(cp.kids(is[0], "issuer")["issuer"])
	}
	return s
}

// jwtFailure is a validation failure: reason and message.
type jwtFailure struct{ reason, message string }

func (s *validateJWTStep) run(c *call) error {
	token, f := s.extract(c.in.Header)
	var jwt *Jwt
	if f == nil {
		jwt, f = s.validate(c, token)
	}
	if f != nil {
		msg := f.message + " Access denied."
		if f.reason == "TokenNotPresent" {
			msg = "JWT not present."
		}
		return &PolicyError{Source: "validate-jwt", Reason: f.reason, Message: msg, status: s.failStatus}
	}
	if s.outputVar != "" {
		c.vars[s.outputVar] = jwt
	}
	return nil
}

// extract reads the token from the header. With require-scheme the header
// must be "<scheme> <token>" (scheme compared case-insensitively, RFC 9110
// §11.1); a header without it carries no token of that scheme.
func (s *validateJWTStep) extract(h http.Header) (string, *jwtFailure) {
	v := strings.TrimSpace(h.Get(s.headerName))
	if s.scheme != "" {
		scheme, rest, ok := strings.Cut(v, " ")
		if !ok || !strings.EqualFold(scheme, s.scheme) {
			return "", &jwtFailure{"TokenNotPresent", ""}
		}
		v = strings.TrimSpace(rest)
	}
	if v == "" {
		return "", &jwtFailure{"TokenNotPresent", ""}
	}
	return v, nil
}

func (s *validateJWTStep) validate(c *call, token string) (*Jwt, *jwtFailure) {
	t, err := parseJWS(token)
	if err != nil {
		return nil, &jwtFailure{"JwtInvalid", "JWT is malformed: " + err.Error() + "."}
	}
	if f := s.checkSignature(c, t); f != nil {
		return nil, f
	}
	jwt, err := t.toJwt()
	if err != nil {
		return nil, &jwtFailure{"JwtInvalid", err.Error() + "."}
	}
	now := c.g.now()
	switch {
	case jwt.ExpirationTime == nil && s.requireExpiration:
		return nil, &jwtFailure{"JwtInvalid", "Lifetime validation failed: the token has no expiration time."}
	case jwt.ExpirationTime != nil && !now.Before(jwt.ExpirationTime.Add(s.clockSkew)):
		return nil, &jwtFailure{"TokenExpired", fmt.Sprintf("Lifetime validation failed: the token expired at %s.", jwt.ExpirationTime.Format(time.RFC3339))}
	case jwt.NotBefore != nil && now.Add(s.clockSkew).Before(*jwt.NotBefore):
		return nil, &jwtFailure{"JwtInvalid", fmt.Sprintf("Lifetime validation failed: the token is not valid before %s.", jwt.NotBefore.Format(time.RFC3339))}
	}
	if !slices.ContainsFunc(jwt.Audiences, func(a string) bool { return slices.Contains(s.audiences, a) }) {
		return nil, &jwtFailure{"TokenAudienceNotAllowed", fmt.Sprintf("Audience validation failed: %q did not match.", jwt.Audiences)}
	}
	issuers := s.issuers
	if len(issuers) == 0 {
		// Without <issuers>, the issuer comes from the openid-config
		// documents ("signing keys and issuer can be obtained").
		for _, src := range s.sources {
			if _, iss, err := src.get(c.in.Context(), ""); err == nil && iss != "" {
				issuers = append(issuers, iss)
			}
		}
	}
	if !slices.Contains(issuers, jwt.Issuer) {
		return nil, &jwtFailure{"TokenIssuerNotAllowed", fmt.Sprintf("Issuer validation failed: %q did not match.", jwt.Issuer)}
	}
	return jwt, nil
}

// checkSignature enforces the algorithm list, finds the key by kid (or
// tries every key when the token names none) and verifies.
func (s *validateJWTStep) checkSignature(c *call, t *jws) *jwtFailure {
	alg := t.header.Alg
	if alg == "none" || alg == "" {
		if s.requireSigned {
			return &jwtFailure{"TokenSignatureInvalid", "The token is not signed and require-signed-tokens is true."}
		}
		return nil
	}
	if _, ok := acceptedAlgs[alg]; !ok {
		return &jwtFailure{"TokenSignatureInvalid", fmt.Sprintf("Signature validation failed: algorithm %q is not supported (PS256, RS256, RS512).", alg)}
	}
	var candidates []jwk
	var lastErr error
	for _, src := range s.sources {
		keys, _, err := src.get(c.in.Context(), t.header.Kid)
		if err != nil {
			lastErr = err
			continue
		}
		for _, k := range keys {
			if (t.header.Kid == "" || k.Kid == t.header.Kid) && (k.Alg == "" || k.Alg == alg) {
				candidates = append(candidates, k)
			}
		}
	}
	if len(candidates) == 0 {
		if lastErr != nil && t.header.Kid == "" {
			return &jwtFailure{"JwtInvalid", lastErr.Error() + "."}
		}
		return &jwtFailure{"TokenSignatureKeyNotFound", fmt.Sprintf("Signature validation failed: no key for kid %q and %s.", t.header.Kid, alg)}
	}
	for _, k := range candidates {
		if t.verify(k.key) {
			return nil
		}
	}
	return &jwtFailure{"TokenSignatureInvalid", "Signature validation failed."}
}
