package apimemu

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// node is one element of a policy document, with named values already
// substituted in its attributes and text.
type node struct {
	Name  string
	Attrs []xml.Attr
	// Text is the element's character data; an element has text or child
	// elements, never both.
	Text string
	Kids []*node
	// Where is "file:line" for messages.
	Where string
}

func (n *node) String() string { return n.Where + ": <" + n.Name + ">" }

// namedValueRef is the {{name}} syntax of named values
// (learn.microsoft.com/azure/api-management/api-management-howto-properties).
var namedValueRef = regexp.MustCompile(`\{\{([^{}]*)\}\}`)

// parsePolicyXML parses one policy document strictly (well-formed, no
// namespaces, no DOCTYPE or processing instructions, no mixed content) and
// substitutes named values. Every problem carries file:line.
func parsePolicyXML(file string, data []byte, namedValues map[string]string) (*node, error) {
	p := &xmlParser{file: file, namedValues: namedValues}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	for {
		// The position before the token is where its start tag begins:
		// the whitespace before it is a token of its own.
		line, _ := dec.InputPos()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: not well-formed XML: %w", file, err)
		}
		if err := p.token(tok, fmt.Sprintf("%s:%d", file, line)); err != nil {
			return nil, err
		}
	}
	if p.root == nil {
		return nil, fmt.Errorf("%s: no root element", file)
	}
	if err := errors.Join(p.errs...); err != nil {
		return nil, err
	}
	return p.root, nil
}

type xmlParser struct {
	file        string
	namedValues map[string]string
	root        *node
	stack       []*node
	errs        []error
}

func (p *xmlParser) fail(format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

// token adds one token to the tree; the error is for what cannot go on.
func (p *xmlParser) token(tok xml.Token, where string) error {
	switch t := tok.(type) {
	case xml.StartElement:
		n := p.start(t, where)
		if len(p.stack) == 0 {
			if p.root != nil {
				return fmt.Errorf("%s: more than one root element", where)
			}
			p.root = n
		} else {
			parent := p.stack[len(p.stack)-1]
			parent.Kids = append(parent.Kids, n)
		}
		p.stack = append(p.stack, n)
	case xml.EndElement:
		n := p.stack[len(p.stack)-1]
		p.stack = p.stack[:len(p.stack)-1]
		if strings.TrimSpace(n.Text) != "" && len(n.Kids) > 0 {
			p.fail("%s: mixed text and elements are not modelled", n)
		}
		v, err := substitute(n.Text, p.namedValues)
		if err != nil {
			p.fail("%s: %w", n, err)
		}
		n.Text = v
	case xml.CharData:
		if len(p.stack) > 0 {
			p.stack[len(p.stack)-1].Text += string(t)
		} else if strings.TrimSpace(string(t)) != "" {
			p.fail("%s: text outside the root element", where)
		}
	case xml.ProcInst:
		if t.Target != "xml" {
			p.fail("%s: processing instruction <?%s?> is not modelled", where, t.Target)
		}
	case xml.Directive:
		p.fail("%s: <!%s> is not modelled", where, strings.Fields(string(t) + " x")[0])
	}
	return nil
}

// start makes the node of a start tag, substituting named values in its
// attributes.
func (p *xmlParser) start(t xml.StartElement, where string) *node {
	if t.Name.Space != "" {
		p.fail("%s: namespaced element %s:%s is not modelled", where, t.Name.Space, t.Name.Local)
	}
	n := &node{Name: t.Name.Local, Where: where}
	for _, a := range t.Attr {
		if a.Name.Space != "" {
			p.fail("%s: <%s>: namespaced attribute %s:%s is not modelled", where, n.Name, a.Name.Space, a.Name.Local)
			continue
		}
		v, err := substitute(a.Value, p.namedValues)
		if err != nil {
			p.fail("%s: <%s %s>: %w", where, n.Name, a.Name.Local, err)
		}
		n.Attrs = append(n.Attrs, xml.Attr{Name: a.Name, Value: v})
	}
	return n
}

// substitute replaces {{name}} with the named value; an unknown name is an
// error (API Management refuses to save a policy that references a named
// value that does not exist).
func substitute(s string, namedValues map[string]string) (string, error) {
	var missing []string
	out := namedValueRef.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-2]
		v, ok := namedValues[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("unknown named value {{%s}}", strings.Join(missing, "}}, {{"))
	}
	return out, nil
}
