package apimemu

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// step is one compiled policy statement.
type step interface {
	run(c *call) error
}

// document is a compiled policy document: the steps of each section, with
// <base/> already bound to the parent scope's section.
type document struct {
	sections [4][]step
}

// element describes one policy element the stand-in executes: the sections
// its reference page allows ("Policy sections") and how to compile it.
type element struct {
	sections []section
	compile  func(cp *compiler, n *node, sec section) step
}

var all = []section{inbound, backend, outbound, onError}

// elements is every policy element the stand-in knows. Children of these
// (allowed-origins, openid-config, set-status, when, …) are read by their
// parent's compile function.
var elements map[string]element

func init() {
	elements = map[string]element{
		"base":                {all, compileBase},
		"choose":              {all, compileChoose},
		"cors":                {[]section{inbound}, compileCORS},
		"validate-jwt":        {[]section{inbound}, compileValidateJWT},
		"rate-limit-by-key":   {[]section{inbound}, compileRateLimit},
		"set-header":          {all, compileSetHeader},
		"set-backend-service": {[]section{inbound, backend}, compileSetBackend},
		"forward-request":     {[]section{backend}, compileForward},
		"return-response":     {all, compileReturnResponse},
	}
}

// compiler compiles one policy document of one scope.
type compiler struct {
	g      *Gateway
	file   string
	scope  string // "operation", "api" or "global"
	parent *document
	errs   []error
	// once counts elements the reference allows once per section.
	once map[string]bool
}

func (cp *compiler) fail(n *node, format string, args ...any) {
	cp.errs = append(cp.errs, fmt.Errorf("%s: <%s>: %s", n.Where, n.Name, fmt.Sprintf(format, args...)))
}

// compileDocument checks the root and the four sections, in order, and
// compiles each.
func (cp *compiler) compileDocument(root *node) (*document, error) {
	if root.Name != "policies" {
		cp.fail(root, "the root element must be <policies>")
		return nil, errors.Join(cp.errs...)
	}
	cp.attrs(root).done()
	cp.noText(root)
	var names []string
	for _, k := range root.Kids {
		names = append(names, k.Name)
	}
	if !slices.Equal(names, sectionNames[:]) {
		cp.fail(root, "sections %v: want exactly inbound, backend, outbound, on-error in that order", names)
		return nil, errors.Join(cp.errs...)
	}
	doc := &document{}
	for i, sn := range root.Kids {
		cp.attrs(sn).done()
		cp.once = map[string]bool{}
		doc.sections[i] = cp.steps(sn, section(i))
	}
	if err := errors.Join(cp.errs...); err != nil {
		return nil, err
	}
	return doc, nil
}

// steps compiles the policy statements that are children of n.
func (cp *compiler) steps(n *node, sec section) []step {
	cp.noText(n)
	var out []step
	for _, k := range n.Kids {
		el, ok := elements[k.Name]
		if !ok {
			cp.fail(k, "not an element the stand-in implements (known: %s)", strings.Join(elementNames(), ", "))
			continue
		}
		if !slices.Contains(el.sections, sec) {
			cp.fail(k, "not allowed in the %s section", sec)
			continue
		}
		if s := el.compile(cp, k, sec); s != nil {
			out = append(out, located{s, k.Name, cp.scope, sec})
		}
	}
	return out
}

func elementNames() []string {
	var out []string
	for k := range elements {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// located fills in where a policy error happened (context.LastError.Scope,
// .Section) and turns a failed expression into the documented
// ExpressionValueEvaluationFailure error.
type located struct {
	step
	name    string
	scope   string
	section section
}

func (l located) run(c *call) error {
	err := l.step.run(c)
	var pe *PolicyError
	var ee exprError
	switch {
	case err == nil, errors.Is(err, errReturned):
		return err
	case errors.As(err, &pe):
	case errors.As(err, &ee):
		pe = &PolicyError{Source: l.name, Reason: "ExpressionValueEvaluationFailure", Message: ee.Error(), status: 500}
	default:
		pe = &PolicyError{Source: l.name, Message: err.Error(), status: 500}
	}
	if pe.Scope == "" {
		pe.Scope, pe.Section = l.scope, l.section.String()
	}
	return pe
}

// exprError marks a failure while evaluating a policy expression.
type exprError struct{ error }

func runSteps(c *call, steps []step) error {
	for _, s := range steps {
		if err := s.run(c); err != nil {
			return err
		}
	}
	return nil
}

// --- attributes and content ------------------------------------------------

type attrReader struct {
	cp   *compiler
	n    *node
	used map[string]bool
}

func (cp *compiler) attrs(n *node) *attrReader {
	return &attrReader{cp: cp, n: n, used: map[string]bool{}}
}

func (a *attrReader) raw(name string) (string, bool) {
	a.used[name] = true
	for _, at := range a.n.Attrs {
		if at.Name.Local == name {
			return at.Value, true
		}
	}
	return "", false
}

// value reads an attribute that may hold a policy expression.
func (a *attrReader) value(name string, kind exprKind, required bool, def string) value {
	s, ok := a.raw(name)
	if !ok {
		if required {
			a.cp.fail(a.n, "attribute %s is required", name)
		}
		s = def
	}
	v, err := parseValue(s, kind, true)
	if err != nil {
		a.cp.fail(a.n, "%s: %v", name, err)
	}
	return v
}

// literal reads an attribute that must be a plain value. The files use
// only literals for these; expressions there are refused, not evaluated.
func (a *attrReader) literal(name string, required bool, def string) string {
	s, ok := a.raw(name)
	if !ok {
		if required {
			a.cp.fail(a.n, "attribute %s is required", name)
		}
		return def
	}
	if strings.HasPrefix(s, "@") {
		a.cp.fail(a.n, "%s: policy expressions are not modelled for this attribute (%q)", name, s)
	}
	return s
}

func (a *attrReader) integer(name string, def, min, max int) int {
	s := a.literal(name, false, strconv.Itoa(def))
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		a.cp.fail(a.n, "%s=%q: want an integer from %d to %d", name, s, min, max)
	}
	return n
}

func (a *attrReader) boolean(name string, def bool) bool {
	s := a.literal(name, false, strconv.FormatBool(def))
	if s != "true" && s != "false" {
		a.cp.fail(a.n, "%s=%q: want true or false", name, s)
	}
	return s == "true"
}

// done reports every attribute nobody asked for.
func (a *attrReader) done() {
	for _, at := range a.n.Attrs {
		if !a.used[at.Name.Local] {
			a.cp.fail(a.n, "attribute %s is not one the stand-in implements", at.Name.Local)
		}
	}
}

func (cp *compiler) noText(n *node) {
	if strings.TrimSpace(n.Text) != "" && len(n.Kids) == 0 {
		cp.fail(n, "unexpected text %q", strings.TrimSpace(n.Text))
	}
}

func (cp *compiler) noKids(n *node) {
	for _, k := range n.Kids {
		cp.fail(k, "not allowed inside <%s>", n.Name)
	}
}

// kids checks that n has only the named child elements and returns them
// grouped by name.
func (cp *compiler) kids(n *node, allowed ...string) map[string][]*node {
	cp.noText(n)
	out := map[string][]*node{}
	for _, k := range n.Kids {
		if !slices.Contains(allowed, k.Name) {
			cp.fail(k, "not allowed inside <%s> (the stand-in implements: %s)", n.Name, strings.Join(allowed, ", "))
			continue
		}
		out[k.Name] = append(out[k.Name], k)
	}
	return out
}

// textList reads the text of simple children such as <origin>…</origin>.
func (cp *compiler) textList(nodes []*node) []string {
	var out []string
	for _, n := range nodes {
		cp.attrs(n).done()
		cp.noKids(n)
		out = append(out, strings.TrimSpace(n.Text))
	}
	return out
}

// onlyOnce refuses a second occurrence of an element the reference allows
// once per policy document section.
func (cp *compiler) onlyOnce(n *node) {
	if cp.once[n.Name] {
		cp.fail(n, "used twice in one section; the reference allows it once")
	}
	cp.once[n.Name] = true
}
