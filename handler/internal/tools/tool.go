package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/mark3labs/mcp-go/mcp"
)

// Tool describes one MCP tool whose arguments decode into In and whose
// result is Out (a struct: MCP output schemas are objects).
type Tool[In, Out any] struct {
	// Name is what clients call: letters, digits, '_', '-' and '.', 1 to
	// 128 characters (MCP 2025-11-25 tool names).
	Name        string
	Title       string // human-readable name; defaults to Name
	Description string // what the model reads to decide when to call it
	Hints       Hints
	// Scopes are the scopes of ours the tool needs besides the base scope
	// every token for /mcp carries (MCP_SCOPE), e.g. "mail.read". Each must
	// be defined in TOOL_SCOPES.
	Scopes []string
	// InputSchema, when set, replaces the schema derived from In, to add
	// what Go types cannot say (minimum, maximum, default). Its properties
	// must be In's JSON fields.
	InputSchema string
	// Run does the work. Its error becomes a tool execution error result;
	// return the error OnBehalfOf gave unchanged so consent and sign-in
	// problems reach the user in words (see Errorf for your own).
	Run func(ctx context.Context, c *Call, in In) (Out, error)
}

// Hints are the tool annotations of MCP 2025-11-25 (ToolAnnotations). All
// four are always sent, so none falls back to the spec's defaults
// (readOnlyHint false, destructiveHint true, idempotentHint false,
// openWorldHint true). A read-only tool is neither destructive nor anything
// but idempotent; New refuses other combinations.
type Hints struct {
	ReadOnly    bool // does not modify its environment
	Destructive bool // may delete or overwrite (meaningful when not ReadOnly)
	Idempotent  bool // calling again with the same arguments changes nothing more
	OpenWorld   bool // reaches outside this server (Microsoft Graph, an API)
}

// Def is a tool ready for Register. Problems found by New are reported by
// Register, all at once, so a tool file needs no error handling.
type Def struct {
	tool   mcp.Tool
	scopes []string
	run    func(ctx context.Context, c *Call, req mcp.CallToolRequest) (json.RawMessage, error)
	err    error
}

// Name is the tool's name.
func (d Def) Name() string { return d.tool.Name }

// MCPTool is the tool as tools/list shows it.
func (d Def) MCPTool() mcp.Tool { return d.tool }

// Scopes are the scopes the tool declared (without the base scope).
func (d Def) Scopes() []string { return slices.Clone(d.scopes) }

var toolName = regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,128}$`)

// New checks t and derives its JSON Schemas.
func New[In, Out any](t Tool[In, Out]) Def {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("tool %q: "+format, append([]any{t.Name}, args...)...))
	}
	if !toolName.MatchString(t.Name) {
		bad("the name must be 1 to 128 of A-Z a-z 0-9 _ - .")
	}
	if t.Description == "" {
		bad("no description: the model decides from it when to call the tool")
	}
	if t.Run == nil {
		bad("no Run function")
	}
	h := t.Hints
	if h.ReadOnly && (h.Destructive || !h.Idempotent) {
		bad("hints contradict each other: a read-only tool is neither destructive nor non-idempotent")
	}
	in, err := inputSchema[In](t.InputSchema)
	if err != nil {
		bad("input schema: %v", err)
	}
	out, err := outputSchema[Out]()
	if err != nil {
		bad("output schema: %v", err)
	}
	title := t.Title
	if title == "" {
		title = t.Name
	}
	d := Def{
		tool: mcp.Tool{
			Name: t.Name, Title: title, Description: t.Description,
			RawInputSchema: in, RawOutputSchema: out,
			Annotations: mcp.ToolAnnotation{
				Title: title, ReadOnlyHint: &h.ReadOnly, DestructiveHint: &h.Destructive,
				IdempotentHint: &h.Idempotent, OpenWorldHint: &h.OpenWorld,
			},
		},
		scopes: slices.Clone(t.Scopes),
		err:    errors.Join(errs...),
	}
	d.run = func(ctx context.Context, c *Call, req mcp.CallToolRequest) (json.RawMessage, error) {
		var args In
		if err := req.BindArguments(&args); err != nil {
			return nil, Errorf("The arguments are not valid: %v", err)
		}
		res, err := t.Run(ctx, c, args)
		if err != nil {
			return nil, err
		}
		return json.Marshal(res)
	}
	return d
}

// schemaOptions describe time.Time as RFC 3339 text, which is how
// encoding/json writes it.
var schemaOptions = &jsonschema.ForOptions{TypeSchemas: map[reflect.Type]*jsonschema.Schema{
	reflect.TypeFor[time.Time](): {Type: "string", Format: "date-time"},
}}

func outputSchema[Out any]() (json.RawMessage, error) {
	s, err := jsonschema.For[Out](schemaOptions)
	if err != nil {
		return nil, err
	}
	if s.Type != "object" {
		return nil, fmt.Errorf("%s is not a struct: MCP output schemas describe objects", reflect.TypeFor[Out]())
	}
	return json.Marshal(plainTypes(s))
}

func inputSchema[In any](raw string) (json.RawMessage, error) {
	derived, err := jsonschema.For[In](schemaOptions)
	if err != nil {
		return nil, err
	}
	if derived.Type != "object" {
		return nil, fmt.Errorf("%s is not a struct: MCP input schemas describe objects", reflect.TypeFor[In]())
	}
	if raw == "" {
		return json.Marshal(plainTypes(derived))
	}
	var s jsonschema.Schema
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return nil, fmt.Errorf("InputSchema is not JSON Schema: %w", err)
	}
	if _, err := s.Resolve(nil); err != nil {
		return nil, fmt.Errorf("InputSchema: %w", err)
	}
	if s.Type != "object" {
		return nil, errors.New(`InputSchema must have "type": "object"`)
	}
	if got, want := sortedKeys(s.Properties), sortedKeys(derived.Properties); !slices.Equal(got, want) {
		return nil, fmt.Errorf("InputSchema has properties %q but %s has JSON fields %q", got, reflect.TypeFor[In](), want)
	}
	return json.Marshal(&s)
}

// plainTypes replaces jsonschema-go's ["null", T] (for slices and
// pointers) with T: a null type is a portability problem for clients
// (MCP Inspector warns), and results never carry null. Tools return empty
// slices and omit absent pointers (omitempty) instead.
func plainTypes(s *jsonschema.Schema) *jsonschema.Schema {
	if s == nil {
		return nil
	}
	if len(s.Types) == 2 && s.Types[0] == "null" {
		s.Type, s.Types = s.Types[1], nil
	}
	for _, p := range s.Properties {
		plainTypes(p)
	}
	plainTypes(s.Items)
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
