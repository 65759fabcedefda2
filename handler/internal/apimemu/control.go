package apimemu

import (
	"io"
	"net/http"
	"strconv"
	"strings"
)

// --- base ------------------------------------------------------------------

// baseStep runs the parent scope's steps of the same section: "<base />
// ... inherit[s] policies at the parent scopes"
// (learn.microsoft.com/azure/api-management/set-edit-policies#use-base-element-to-set-policy-evaluation-order).
type baseStep struct{ steps []step }

func (b baseStep) run(c *call) error { return runSteps(c, b.steps) }

func compileBase(cp *compiler, n *node, sec section) step {
	cp.attrs(n).done()
	cp.noKids(n)
	cp.noText(n)
	cp.onlyOnce(n)
	if cp.parent == nil {
		cp.fail(n, "the %s scope has no parent scope", cp.scope)
		return nil
	}
	return baseStep{cp.parent.sections[sec]}
}

// --- choose ----------------------------------------------------------------

// chooseStep runs the first <when> whose condition is true, else
// <otherwise> (learn.microsoft.com/azure/api-management/choose-policy).
type chooseStep struct {
	whens     []whenBranch
	otherwise []step
}

type whenBranch struct {
	cond  value
	steps []step
}

func (s chooseStep) run(c *call) error {
	for _, w := range s.whens {
		ok, err := w.cond.boolean(c)
		if err != nil {
			return exprError{err}
		}
		if ok {
			return runSteps(c, w.steps)
		}
	}
	return runSteps(c, s.otherwise)
}

func compileChoose(cp *compiler, n *node, sec section) step {
	cp.attrs(n).done()
	var s chooseStep
	for i, k := range n.Kids {
		switch {
		case k.Name == "when":
			a := cp.attrs(k)
			cond := a.value("condition", kindBool, true, "")
			a.done()
			s.whens = append(s.whens, whenBranch{cond, cp.steps(k, sec)})
		case k.Name == "otherwise" && i == len(n.Kids)-1 && i > 0:
			cp.attrs(k).done()
			s.otherwise = cp.steps(k, sec)
		default:
			cp.fail(k, "inside <choose>: want one or more <when> and an optional last <otherwise>")
		}
	}
	if len(s.whens) == 0 {
		cp.fail(n, "needs at least one <when>")
	}
	cp.noText(n)
	return s
}

// --- set-header ------------------------------------------------------------

// setHeaderStep is learn.microsoft.com/azure/api-management/set-header-policy.
// In inbound and backend it changes the request that will be forwarded; in
// outbound and on-error (and inside return-response) the response.
type setHeaderStep struct {
	name   string
	action string
	values []value
	onResp bool
}

// unmodifiable headers: "Connection, ContentLength, KeepAlive,
// TransferEncoding cannot be modified or deleted" (set-header-policy).
var unmodifiable = []string{"Connection", "Content-Length", "Keep-Alive", "Transfer-Encoding"}

// uncombined headers keep one line per value; other multiple values "are
// concatenated to a CSV string" (set-header-policy usage notes).
var uncombined = []string{"User-Agent", "Www-Authenticate", "Proxy-Authenticate", "Cookie", "Set-Cookie", "Warning",
	"Date", "Expires", "If-Modified-Since", "If-Unmodified-Since", "Last-Modified", "Retry-After"}

func compileSetHeader(cp *compiler, n *node, sec section) step {
	a := cp.attrs(n)
	s := setHeaderStep{
		name:   a.literal("name", true, ""),
		action: a.literal("exists-action", false, "override"),
		onResp: sec == outbound || sec == onError,
	}
	a.done()
	switch s.action {
	case "override", "skip", "append", "delete":
	default:
		cp.fail(n, "exists-action=%q: want override, skip, append or delete", s.action)
	}
	for _, h := range unmodifiable {
		if strings.EqualFold(h, s.name) {
			cp.fail(n, "header %s cannot be modified or deleted", s.name)
		}
	}
	for _, v := range cp.kids(n, "value")["value"] {
		cp.attrs(v).done()
		cp.noKids(v)
		val, err := parseValue(strings.TrimSpace(v.Text), kindString, true)
		if err != nil {
			cp.fail(v, "%v", err)
		}
		s.values = append(s.values, val)
	}
	if s.action != "delete" && len(s.values) == 0 {
		cp.fail(n, "needs a <value> unless exists-action is delete")
	}
	return s
}

func (s setHeaderStep) run(c *call) error {
	h := c.header
	if s.onResp {
		h = c.resp.header
	}
	return s.apply(c, h)
}

func (s setHeaderStep) apply(c *call, h http.Header) error {
	var vals []string
	for _, v := range s.values {
		str, err := v.str(c)
		if err != nil {
			return exprError{err}
		}
		vals = append(vals, str)
	}
	exists := len(h.Values(s.name)) > 0
	switch s.action {
	case "delete":
		h.Del(s.name)
		return nil
	case "skip":
		if exists {
			return nil
		}
	case "override":
		h.Del(s.name)
	}
	key := http.CanonicalHeaderKey(s.name)
	for _, u := range uncombined {
		if key == u {
			for _, v := range vals {
				h.Add(key, v)
			}
			return nil
		}
	}
	if old := h.Values(key); len(old) > 0 {
		vals = append(append([]string(nil), old...), vals...)
	}
	h.Set(key, strings.Join(vals, ","))
	return nil
}

// --- return-response -------------------------------------------------------

// returnStep builds a new response and ends the pipeline: "Default response
// is 200 OK with no body" and the policy "cancels pipeline execution"
// (learn.microsoft.com/azure/api-management/return-response-policy).
type returnStep struct {
	status  int
	headers []setHeaderStep
	body    *value
}

func compileReturnResponse(cp *compiler, n *node, sec section) step {
	cp.attrs(n).done()
	s := returnStep{status: http.StatusOK}
	for _, k := range n.Kids {
		switch k.Name {
		case "set-status":
			a := cp.attrs(k)
			s.status = a.integer("code", 200, 100, 599)
			// Go's net/http writes the standard reason phrase and no other,
			// so only that one is accepted.
			if r := a.literal("reason", false, ""); r != "" && r != http.StatusText(s.status) {
				cp.fail(k, "reason %q: only the standard phrase %q is modelled", r, http.StatusText(s.status))
			}
			a.done()
			cp.noKids(k)
		case "set-header":
			hs := compileSetHeader(cp, k, sec).(setHeaderStep)
			hs.onResp = true
			s.headers = append(s.headers, hs)
		case "set-body":
			cp.attrs(k).done()
			cp.noKids(k)
			v, err := parseValue(k.Text, kindString, true)
			if err != nil {
				cp.fail(k, "%v", err)
			}
			s.body = &v
		default:
			cp.fail(k, "inside <return-response> the stand-in implements set-status, set-header and set-body")
		}
	}
	cp.noText(n)
	return s
}

func (s returnStep) run(c *call) error {
	r := &response{status: s.status, header: http.Header{}}
	for _, h := range s.headers {
		if err := h.apply(c, r.header); err != nil {
			return err
		}
	}
	if s.body != nil {
		b, err := s.body.str(c)
		if err != nil {
			return exprError{err}
		}
		r.body = io.NopCloser(strings.NewReader(b))
		r.header.Set("Content-Length", strconv.Itoa(len(b)))
	}
	c.setResponse(r)
	return errReturned
}

// --- set-backend-service ---------------------------------------------------

// setBackendStep selects a backend entity by name
// (learn.microsoft.com/azure/api-management/set-backend-service-policy).
// Only backend-id is modelled; its URL comes from the stand-in's
// configuration, since the real one is the Function App's host name.
type setBackendStep struct{ id string }

func compileSetBackend(cp *compiler, n *node, sec section) step {
	a := cp.attrs(n)
	id := a.literal("backend-id", true, "")
	a.done()
	cp.noKids(n)
	if _, ok := cp.g.backends[id]; !ok && id != "" {
		cp.fail(n, "backend-id %q has no URL (give it with -backend / Config.Backends)", id)
	}
	if len(cp.g.bicepBackends) > 0 && !containsString(cp.g.bicepBackends, id) {
		cp.fail(n, "backend-id %q is not a backend apim.bicep declares (%v)", id, cp.g.bicepBackends)
	}
	return setBackendStep{id}
}

func (s setBackendStep) run(c *call) error {
	c.backend = c.g.backends[s.id]
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
