package apimemu

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Policy expressions are C# (learn.microsoft.com/azure/api-management/
// api-management-policy-expressions): "@(expression)" for a single
// expression, "@{ statements }" for a block. The stand-in does not evaluate
// C#. It knows the exact expressions the policy files use, whitespace
// normalised, each with a Go implementation of what the C# does; any other
// expression refuses to start, so a policy change needs an entry here (and
// a test) before it runs anywhere.

type exprKind int

const (
	kindString exprKind = iota
	kindBool
)

func (k exprKind) String() string { return [...]string{"string", "bool"}[k] }

type expression struct {
	kind exprKind
	eval func(c *call) (any, error)
}

// expressions is the table of known expressions, keyed by their normalised
// text (normalizeExpr).
var expressions = map[string]expression{
	// rate-limit-by-key counter per operation and client address.
	// context.Operation.Id is the operation's identifier (its resource name);
	// context.Request.IpAddress is the caller's address as the gateway sees it.
	`context.Operation.Id+":"+context.Request.IpAddress`: {kindString, func(c *call) (any, error) {
		if c.op == nil {
			return nil, fmt.Errorf("context.Operation is null: no operation matched")
		}
		return c.op.Name + ":" + c.clientIP, nil
	}},
	// rate-limit-by-key counter per token subject, after validate-jwt put
	// the token in the variable "jwt". The cast of a missing variable
	// throws (KeyNotFoundException); C# string concatenation turns a null
	// Subject into "".
	`"mcp:"+((Jwt)context.Variables["jwt"]).Subject`: {kindString, func(c *call) (any, error) {
		v, ok := c.vars["jwt"]
		if !ok {
			return nil, fmt.Errorf(`context.Variables["jwt"]: the given key was not present in the dictionary`)
		}
		jwt, ok := v.(*Jwt)
		if !ok {
			return nil, fmt.Errorf(`context.Variables["jwt"] is not a Jwt`)
		}
		return "mcp:" + jwt.Subject, nil
	}},
	// on-error branches on the failing policy and its reason
	// (learn.microsoft.com/azure/api-management/api-management-error-handling-policies).
	`context.LastError.Source=="validate-jwt"&&context.LastError.Reason=="TokenNotPresent"`: {kindBool, func(c *call) (any, error) {
		e, err := c.lastError()
		if err != nil {
			return nil, err
		}
		return e.Source == "validate-jwt" && e.Reason == "TokenNotPresent", nil
	}},
	`context.LastError.Source=="validate-jwt"`: {kindBool, func(c *call) (any, error) {
		e, err := c.lastError()
		if err != nil {
			return nil, err
		}
		return e.Source == "validate-jwt", nil
	}},
	// The /mcp policies' CORS on the 401s they make: the request's Origin
	// (inbound let only listed ones through), or "*" without one.
	`context.Request.Headers.GetValueOrDefault("Origin","*")`: {kindString, func(c *call) (any, error) {
		return headerOrDefault(c, "Origin", "*"), nil
	}},
}

// templates are expressions with one C# string literal that a named value
// fills in, so their text depends on the deployment: the text before and
// after the literal is fixed, the literal (without '"' or '\\') is
// passed to build.
var templates = []struct {
	before, after string
	kind          exprKind
	build         func(lit string) func(c *call) (any, error)
}{
	// /mcp's Origin check: present and not one of the comma-separated
	// entries of {{mcp-allowed-origins}}. C#'s Split keeps empty entries and
	// Contains compares ordinally, exactly: so does this.
	{
		before: `context.Request.Headers.GetValueOrDefault("Origin","")!=""&&!`,
		after:  `.Split(",".ToCharArray()).Contains(context.Request.Headers.GetValueOrDefault("Origin",""))`,
		kind:   kindBool,
		build: func(list string) func(c *call) (any, error) {
			entries := strings.Split(list, ",")
			return func(c *call) (any, error) {
				origin := headerOrDefault(c, "Origin", "")
				return origin != "" && !slices.Contains(entries, origin), nil
			}
		},
	},
}

// headerOrDefault is context.Request.Headers.GetValueOrDefault: the
// request header's values joined by commas, or def when it is absent.
func headerOrDefault(c *call, name, def string) string {
	if v := c.header.Values(name); len(v) > 0 {
		return strings.Join(v, ",")
	}
	return def
}

// lookupTemplate finds the template key is an instance of.
func lookupTemplate(key string) (expression, bool) {
	for _, t := range templates {
		lit, ok := strings.CutPrefix(key, t.before)
		if !ok {
			continue
		}
		if lit, ok = strings.CutSuffix(lit, t.after); !ok || len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' ||
			strings.ContainsAny(lit[1:len(lit)-1], `"\`) {
			continue
		}
		return expression{kind: t.kind, eval: t.build(lit[1 : len(lit)-1])}, true
	}
	return expression{}, false
}

// KnownExpressions lists the normalised expressions the stand-in
// implements, sorted.
func KnownExpressions() []string {
	out := make([]string, 0, len(expressions))
	for k := range expressions {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// value is an attribute or text value: a literal or a known expression.
type value struct {
	lit  string
	expr *expression
}

// parseValue reads s: "@(…)" is an expression that must be in the table and
// of the wanted kind; "@{…}" blocks are not modelled; anything else is a
// literal. A literal bool must be "true" or "false".
func parseValue(s string, kind exprKind, exprAllowed bool) (value, error) {
	if !strings.HasPrefix(s, "@") {
		if kind == kindBool && s != "true" && s != "false" {
			return value{}, fmt.Errorf("%q is not true or false", s)
		}
		return value{lit: s}, nil
	}
	if !exprAllowed {
		return value{}, fmt.Errorf("policy expressions are not allowed here (%q)", s)
	}
	if !strings.HasPrefix(s, "@(") || !strings.HasSuffix(s, ")") {
		return value{}, fmt.Errorf("expression %q: only @(…) single expressions are modelled", s)
	}
	key := normalizeExpr(s[2 : len(s)-1])
	e, ok := expressions[key]
	if !ok {
		e, ok = lookupTemplate(key)
	}
	if !ok {
		return value{}, fmt.Errorf("expression %q (normalised %q) is not one the stand-in implements; add it to the table in handler/internal/apimemu/expr.go", s, key)
	}
	if e.kind != kind {
		return value{}, fmt.Errorf("expression %q is %s, want %s", s, e.kind, kind)
	}
	return value{expr: &e}, nil
}

func (v value) str(c *call) (string, error) {
	if v.expr == nil {
		return v.lit, nil
	}
	r, err := v.expr.eval(c)
	if err != nil {
		return "", err
	}
	return r.(string), nil
}

func (v value) boolean(c *call) (bool, error) {
	if v.expr == nil {
		return v.lit == "true", nil
	}
	r, err := v.expr.eval(c)
	if err != nil {
		return false, err
	}
	return r.(bool), nil
}

// normalizeExpr removes whitespace outside string and character literals,
// keeping one space where it separates two identifier characters (so
// `new Foo` stays two tokens).
func normalizeExpr(s string) string {
	var b strings.Builder
	pendingSpace := false
	ident := func(r byte) bool {
		return r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"' || ch == '\'':
			if pendingSpace && b.Len() > 0 && ident(b.String()[b.Len()-1]) {
				b.WriteByte(' ')
			}
			pendingSpace = false
			j := i + 1
			for j < len(s) && s[j] != ch {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				j = len(s) - 1
			}
			b.WriteString(s[i : j+1])
			i = j
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			pendingSpace = true
		default:
			if pendingSpace && b.Len() > 0 && ident(b.String()[b.Len()-1]) && ident(ch) {
				b.WriteByte(' ')
			}
			pendingSpace = false
			b.WriteByte(ch)
		}
	}
	return b.String()
}
