package infra

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// infraRoot is the repository root; go test runs in handler/infra.
const infraRoot = "../.."

// --- Bicep model (the JSON printed by check-bicep.mjs --json) --------------

// bicepNode is one expression: an object (Props), an array (Items), a plain
// string (S), an if/for wrapper (Cond/Body, Vars/Iter/Body) or any other
// expression as source Text with its sub-expressions in Kids.
type bicepNode struct {
	K     string                `json:"k"`
	Props map[string]*bicepNode `json:"props"`
	Items []*bicepNode          `json:"items"`
	S     *string               `json:"s"`
	Text  string                `json:"text"`
	Kids  []*bicepNode          `json:"kids"`
	Cond  string                `json:"cond"`
	Body  *bicepNode            `json:"body"`
	Vars  string                `json:"vars"`
	Iter  *bicepNode            `json:"iter"`
}

type bicepResource struct {
	Symbol   string     `json:"symbol"`
	Type     string     `json:"type"`
	Existing bool       `json:"existing"`
	Value    *bicepNode `json:"value"`
}

type bicepModule struct {
	Symbol string     `json:"symbol"`
	Path   string     `json:"path"`
	Value  *bicepNode `json:"value"`
}

type bicepFile struct {
	TargetScope string `json:"targetScope"`
	Params      map[string]struct {
		Type    string     `json:"type"`
		Default *bicepNode `json:"default"`
	} `json:"params"`
	Vars      map[string]*bicepNode `json:"vars"`
	Resources []bicepResource       `json:"resources"`
	Modules   []bicepModule         `json:"modules"`
	Outputs   map[string]*bicepNode `json:"outputs"`
}

// str is the value of a plain string literal, "" otherwise.
func (n *bicepNode) str() string {
	if n == nil || n.S == nil {
		return ""
	}
	return *n.S
}

// src is the node's source text as far as the model keeps it.
func (n *bicepNode) src() string {
	switch {
	case n == nil:
		return ""
	case n.S != nil:
		return "'" + *n.S + "'"
	case n.Text != "":
		return n.Text
	}
	b, _ := json.Marshal(n)
	return string(b)
}

// prop follows a path of object keys.
func (n *bicepNode) prop(path ...string) *bicepNode {
	for _, k := range path {
		if n == nil || n.K != "object" {
			return nil
		}
		n = n.Props[k]
	}
	return n
}

// unwrap strips `if (...)` and `[for ...]` wrappers down to the object.
func (n *bicepNode) unwrap() *bicepNode {
	for n != nil && (n.K == "if" || n.K == "for") {
		n = n.Body
	}
	return n
}

// objects lists every object inside n, following identifiers that name
// variables of f (so objects built with concat() or ?: stay visible).
func (f *bicepFile) objects(n *bicepNode) []*bicepNode {
	var out []*bicepNode
	seen := map[string]bool{}
	var walk func(*bicepNode)
	walk = func(n *bicepNode) {
		if n == nil {
			return
		}
		if n.K == "identifier" {
			if v, ok := f.Vars[n.Text]; ok && !seen[n.Text] {
				seen[n.Text] = true
				walk(v)
			}
			return
		}
		if n.K == "object" {
			out = append(out, n)
		}
		keys := make([]string, 0, len(n.Props))
		for k := range n.Props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walk(n.Props[k])
		}
		for _, c := range n.Items {
			walk(c)
		}
		for _, c := range n.Kids {
			walk(c)
		}
		walk(n.Body)
		walk(n.Iter)
	}
	walk(n)
	return out
}

// resourcesOf returns the non-existing resources of the given type (no API version).
func (f *bicepFile) resourcesOf(typ string) []bicepResource {
	var out []bicepResource
	for _, r := range f.Resources {
		if !r.Existing && strings.EqualFold(strings.SplitN(r.Type, "@", 2)[0], typ) {
			out = append(out, r)
		}
	}
	return out
}

func (f *bicepFile) module(path string) *bicepModule {
	for i := range f.Modules {
		if f.Modules[i].Path == path {
			return &f.Modules[i]
		}
	}
	return nil
}

var (
	bicepOnce   sync.Once
	bicepModels map[string]*bicepFile
	bicepErr    error
	bicepSkip   string
)

// loadBicep runs check-bicep.mjs --json once. It skips (never fails) only
// when node or the npm packages are missing; `npm ci` installs them.
func loadBicep(t *testing.T) map[string]*bicepFile {
	t.Helper()
	bicepOnce.Do(func() {
		if msg := nodeMissing(); msg != "" {
			bicepSkip = msg
			return
		}
		cmd := exec.Command("node", "scripts/check-bicep.mjs", "--json")
		cmd.Dir = infraRoot
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			bicepErr = fmt.Errorf("check-bicep.mjs --json: %v\n%s", err, stderr.String())
			return
		}
		var doc struct {
			Files map[string]*bicepFile `json:"files"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			bicepErr = err
			return
		}
		bicepModels = doc.Files
	})
	if bicepSkip != "" {
		t.Skip(bicepSkip)
	}
	if bicepErr != nil {
		t.Fatal(bicepErr)
	}
	return bicepModels
}

func nodeMissing() string {
	if _, err := exec.LookPath("node"); err != nil {
		return "node is not installed: Bicep checks skipped (install Node.js and run `npm ci`)"
	}
	for _, pkg := range []string{"tree-sitter", "tree-sitter-bicep"} {
		if _, err := os.Stat(filepath.Join(infraRoot, "node_modules", pkg, "package.json")); err != nil {
			return "node_modules/" + pkg + " is missing: Bicep checks skipped (run `npm ci`)"
		}
	}
	return ""
}

func bicepFileOf(t *testing.T, name string) *bicepFile {
	t.Helper()
	f, ok := loadBicep(t)[name]
	if !ok {
		t.Fatalf("infra/%s not found by check-bicep.mjs", name)
	}
	return f
}

// --- (a) syntax -------------------------------------------------------------

// TestBicepParses: every .bicep file under infra/ parses with tree-sitter-bicep.
func TestBicepParses(t *testing.T) {
	if msg := nodeMissing(); msg != "" {
		t.Skip(msg)
	}
	cmd := exec.Command("node", "scripts/check-bicep.mjs")
	cmd.Dir = infraRoot
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/check-bicep.mjs failed: %v\n%s", err, out)
	}
	t.Log(strings.TrimSpace(string(out)))
}

// TestBicepMainConventions: the azd conventions and the outputs the README
// and scripts rely on; no output carries key material.
func TestBicepMainConventions(t *testing.T) {
	m := bicepFileOf(t, "main.bicep")
	if m.TargetScope != "subscription" {
		t.Errorf("main.bicep targetScope = %q, want subscription", m.TargetScope)
	}
	for _, p := range []string{"environmentName", "location", "principalId", "authMode"} {
		if _, ok := m.Params[p]; !ok {
			t.Errorf("main.bicep has no param %s", p)
		}
	}
	if tok := m.Vars["resourceToken"].src(); !strings.Contains(tok, "uniqueString(subscription().id, environmentName, location)") {
		t.Errorf("resourceToken = %s, want uniqueString(subscription().id, environmentName, location)", tok)
	}
	rgs := m.resourcesOf("Microsoft.Resources/resourceGroups")
	if len(rgs) != 1 {
		t.Fatalf("main.bicep declares %d resource groups, want 1", len(rgs))
	}
	if tags := m.Vars["tags"]; tags.prop("azd-env-name").src() != "environmentName" {
		t.Errorf("tags var does not set azd-env-name: environmentName: %s", tags.src())
	}
	for _, mod := range m.Modules {
		if _, err := os.Stat(filepath.Join(infraRoot, "infra", mod.Path)); err != nil {
			t.Errorf("module %s: %v", mod.Symbol, err)
			continue
		}
		// Bicep refuses an argument the module does not declare, and a
		// missing one without a default.
		args := mod.Value.unwrap().prop("params")
		declared := bicepFileOf(t, mod.Path).Params
		for arg := range args.Props {
			if _, ok := declared[arg]; !ok {
				t.Errorf("module %s passes %s, which %s does not declare", mod.Symbol, arg, mod.Path)
			}
		}
		for p, d := range declared {
			if _, ok := args.Props[p]; !ok && d.Default == nil {
				t.Errorf("module %s does not pass %s, which %s requires", mod.Symbol, p, mod.Path)
			}
		}
	}
	upper := regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	for name, v := range m.Outputs {
		if !upper.MatchString(name) {
			t.Errorf("output %s is not UPPER_SNAKE (azd maps outputs to environment values)", name)
		}
		if secretish.MatchString(name) || secretish.MatchString(v.src()) {
			t.Errorf("output %s = %s looks like key material; outputs are stored in deployment history", name, v.src())
		}
	}
	for _, want := range []string{"MCP_URL", "MCP_PRM_URL", "ENTRA_CLIENT_ID", "AZURE_FUNCTION_APP_NAME", "AZURE_RESOURCE_GROUP", "AZURE_KEY_VAULT_NAME"} {
		if _, ok := m.Outputs[want]; !ok {
			t.Errorf("main.bicep has no output %s", want)
		}
	}
	if got := m.Outputs["MCP_URL"].src(); got != "'${publicBaseUrl}/mcp'" {
		t.Errorf("MCP_URL = %s, want '${publicBaseUrl}/mcp'", got)
	}
	if got := m.Outputs["MCP_PRM_URL"].src(); got != "'${publicBaseUrl}/.well-known/oauth-protected-resource/mcp'" {
		t.Errorf("MCP_PRM_URL = %s", got)
	}
	// The APIM name is computed up front, and PUBLIC_BASE_URL is its gateway URL.
	if got := m.Vars["names"].prop("apim").src(); got != "'apim-${resourceToken}'" {
		t.Errorf("APIM name = %s, want 'apim-${resourceToken}'", got)
	}
	if got := m.Vars["publicBaseUrl"].src(); !strings.HasPrefix(got, "'https://${names.apim}.") {
		t.Errorf("publicBaseUrl = %s, want https://${names.apim}.<gateway domain>", got)
	}
	fa := bicepFileOf(t, "modules/functionapp.bicep")
	for _, site := range fa.resourcesOf("Microsoft.Web/sites") {
		if tags := site.Value.unwrap().prop("tags").src(); !strings.Contains(tags, "'azd-service-name': 'api'") {
			t.Errorf("function app tags = %s, want azd-service-name api (azure.yaml service)", tags)
		}
	}
}
