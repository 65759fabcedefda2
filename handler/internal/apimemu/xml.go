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
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var root *node
	var stack []*node
	var errs []error
	for {
		// The position before the token is where its start tag begins:
		// the whitespace before it is a token of its own.
		line, _ := dec.InputPos()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		where := fmt.Sprintf("%s:%d", file, line)
		if err != nil {
			return nil, fmt.Errorf("%s: not well-formed XML: %w", file, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != "" {
				errs = append(errs, fmt.Errorf("%s: namespaced element %s:%s is not modelled", where, t.Name.Space, t.Name.Local))
			}
			n := &node{Name: t.Name.Local, Where: where}
			for _, a := range t.Attr {
				if a.Name.Space != "" {
					errs = append(errs, fmt.Errorf("%s: <%s>: namespaced attribute %s:%s is not modelled", where, n.Name, a.Name.Space, a.Name.Local))
					continue
				}
				v, err := substitute(a.Value, namedValues)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: <%s %s>: %w", where, n.Name, a.Name.Local, err))
				}
				n.Attrs = append(n.Attrs, xml.Attr{Name: a.Name, Value: v})
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("%s: more than one root element", where)
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Kids = append(p.Kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if strings.TrimSpace(n.Text) != "" && len(n.Kids) > 0 {
				errs = append(errs, fmt.Errorf("%s: mixed text and elements are not modelled", n))
			}
			v, err := substitute(n.Text, namedValues)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", n, err))
			}
			n.Text = v
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			} else if strings.TrimSpace(string(t)) != "" {
				errs = append(errs, fmt.Errorf("%s: text outside the root element", where))
			}
		case xml.Comment:
		case xml.ProcInst:
			if t.Target != "xml" {
				errs = append(errs, fmt.Errorf("%s: processing instruction <?%s?> is not modelled", where, t.Target))
			}
		case xml.Directive:
			errs = append(errs, fmt.Errorf("%s: <!%s> is not modelled", where, strings.Fields(string(t) + " x")[0]))
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%s: no root element", file)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return root, nil
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
