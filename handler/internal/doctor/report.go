package doctor

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// Layer is the part of the request path a failure is blamed on.
type Layer string

// The layers of a deployment, from the client inwards.
const (
	LayerNetwork Layer = "network"               // DNS, TCP, TLS before anything answered
	LayerURL     Layer = "MCP URL"               // the URL the user gave is not the server's
	LayerAPIM    Layer = "API Management"        // operations, policies, named values
	LayerHost    Layer = "Functions host"        // function keys, triggers, the host process
	LayerConfig  Layer = "handler configuration" // app settings of the Function App
	LayerEntra   Layer = "Entra ID"              // the app registration and the tenant
	LayerHandler Layer = "handler"               // the handler itself misbehaved
	LayerUnknown Layer = "unknown"               // nothing recognisable answered
)

// Status is the outcome of one check.
type Status int

// Check outcomes. Note lines carry information (what was created, which
// layer answered) and never fail the run.
const (
	Pass Status = iota
	Fail
	Skip
	Note
)

// Result is one check's outcome, printed as one line (plus, for a failure,
// one line naming the layer and the fix).
type Result struct {
	Name   string
	Status Status
	Detail string
	Layer  Layer  // failures only
	Fix    string // failures only
}

// Reporter prints results as they come, so a user watching a sign-in sees
// the checks before it.
type Reporter struct {
	Out   io.Writer
	Color bool // ANSI colours and ✓/✗ marks; plain PASS/FAIL words otherwise

	mu      sync.Mutex
	results []Result
	fixes   map[string]bool // printed already: repeats say "as above"
}

// Add records and prints r.
func (p *Reporter) Add(r Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.results = append(p.results, r)
	if p.Out == nil {
		return
	}
	line := r.Name
	if r.Detail != "" {
		line += ": " + r.Detail
	}
	// The report goes to a terminal or a pipe: a failed write has nowhere
	// better to be reported, and the results are kept either way.
	_, _ = fmt.Fprintf(p.Out, "%s %s\n", p.mark(r.Status), line)
	if r.Status == Fail {
		indent := strings.Repeat(" ", len(p.plainMark(r.Status))+1)
		fix := r.Fix
		if p.fixes[fix] {
			fix = "as above."
		}
		if p.fixes == nil {
			p.fixes = map[string]bool{}
		}
		p.fixes[r.Fix] = true
		_, _ = fmt.Fprintf(p.Out, "%slayer: %s. Fix: %s\n", indent, r.Layer, fix)
	}
}

// Print writes a line of text that is not a check (instructions, URLs).
func (p *Reporter) Print(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Out != nil {
		_, _ = fmt.Fprintf(p.Out, format+"\n", args...) // see Add
	}
}

// Results returns what was recorded so far.
func (p *Reporter) Results() []Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Result(nil), p.results...)
}

// Failed reports whether any check failed.
func (p *Reporter) Failed() bool {
	for _, r := range p.Results() {
		if r.Status == Fail {
			return true
		}
	}
	return false
}

// Summary is the closing line: counts of each outcome.
func (p *Reporter) Summary() string {
	var pass, fail, skip int
	for _, r := range p.Results() {
		switch r.Status {
		case Pass:
			pass++
		case Fail:
			fail++
		case Skip:
			skip++
		}
	}
	return fmt.Sprintf("%d passed, %d failed, %d skipped", pass, fail, skip)
}

func (p *Reporter) plainMark(s Status) string {
	return [...]string{"PASS", "FAIL", "SKIP", "NOTE"}[s]
}

func (p *Reporter) mark(s Status) string {
	if !p.Color {
		return p.plainMark(s)
	}
	// The width of the plain words keeps detail lines aligned either way.
	return [...]string{"\x1b[32m  ✓ \x1b[0m", "\x1b[31m  ✗ \x1b[0m", "\x1b[33m  – \x1b[0m", "\x1b[36m  i \x1b[0m"}[s]
}
