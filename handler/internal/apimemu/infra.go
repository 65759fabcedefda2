package apimemu

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Operation is one entry of infra/apim-operations.json, the list apim.bicep
// deploys as Microsoft.ApiManagement/service/apis/operations.
type Operation struct {
	// Name is the operation's resource name; policy expressions read it as
	// context.Operation.Id.
	Name        string `json:"name"`
	Method      string `json:"method"`
	URLTemplate string `json:"urlTemplate"`
	// Policy is a key of `var policies` in apim.bicep; "" means the
	// operation has no policy of its own (the API policy alone).
	Policy string `json:"policy"`
}

// Paths of the files the stand-in reads, relative to the infra folder.
const (
	OperationsFile = "apim-operations.json"
	BicepFile      = "modules/apim.bicep"
	PoliciesDir    = "policies"
)

var operationMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}

// ReadOperations reads and checks infra/apim-operations.json. URL template
// parameters ({id}) are not modelled and are refused.
func ReadOperations(infraDir string) ([]Operation, error) {
	file := filepath.Join(infraDir, OperationsFile)
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("apimemu: %w", err)
	}
	var ops []Operation
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ops); err != nil {
		return nil, fmt.Errorf("apimemu: %s: %w", file, err)
	}
	var errs []error
	names := map[string]bool{}
	routes := map[string]bool{}
	for i, op := range ops {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s: operation %d (%s): "+format, append([]any{file, i, op.Name}, args...)...))
		}
		switch {
		case op.Name == "":
			bad("no name")
		case names[op.Name]:
			bad("name used twice")
		}
		names[op.Name] = true
		if !slices.Contains(operationMethods, op.Method) {
			bad("method %q is not one of %v", op.Method, operationMethods)
		}
		if !strings.HasPrefix(op.URLTemplate, "/") || strings.ContainsAny(op.URLTemplate, "{}?#*") {
			bad("urlTemplate %q: only literal paths are modelled", op.URLTemplate)
		}
		route := op.Method + " " + strings.ToLower(op.URLTemplate)
		if routes[route] {
			bad("%s %s declared twice", op.Method, op.URLTemplate)
		}
		routes[route] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("apimemu: %w", err)
	}
	return ops, nil
}

// Bicep is what the stand-in reads from infra/modules/apim.bicep.
type Bicep struct {
	// Policies maps each key of `var policies` to its file under
	// infra/policies for the auth mode asked for.
	Policies map[string]string
	// APIPolicy is the file the API policy resource loads.
	APIPolicy string
	// Backends are the names of the backend resources.
	Backends []string
}

var (
	loadText      = `loadTextContent\('\.\./policies/([A-Za-z0-9._-]+\.xml)'\)`
	policyOne     = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9]*): ` + loadText + `\s*$`)
	policyChoice  = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9]*): authMode == 'proxy' \? ` + loadText + ` : ` + loadText + `\s*$`)
	apiPolicyRes  = regexp.MustCompile(`^resource \w+ 'Microsoft\.ApiManagement/service/apis/policies@[0-9a-z-]+' = \{$`)
	backendRes    = regexp.MustCompile(`^resource \w+ 'Microsoft\.ApiManagement/service/backends@[0-9a-z-]+' = \{$`)
	apiValue      = regexp.MustCompile(`^\s*value: ` + loadText + `\s*$`)
	nameLine      = regexp.MustCompile(`^  name: '([A-Za-z0-9-]+)'$`)
	operationsVar = regexp.MustCompile(`^var operations = loadJsonContent\('\.\./apim-operations\.json'\)$`)
)

// ReadBicep reads the parts of apim.bicep the stand-in needs. It is a line
// matcher, not a Bicep parser: `var policies` must be an object literal
// whose entries are loadTextContent of one file or the exact
// `authMode == 'proxy' ? <proxy file> : <entra file>` choice; any other
// line inside it is refused with its line number.
func ReadBicep(infraDir, authMode string) (*Bicep, error) {
	if authMode != "proxy" && authMode != "entra" {
		return nil, fmt.Errorf("apimemu: auth mode %q: want proxy or entra (apim.bicep @allowed)", authMode)
	}
	file := filepath.Join(infraDir, BicepFile)
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("apimemu: %w", err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	b := &Bicep{Policies: map[string]string{}}
	var errs []error
	bad := func(i int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: "+format, append([]any{file, i + 1}, args...)...))
	}
	seenOps, seenPolicies := false, false
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case operationsVar.MatchString(line):
			seenOps = true
		case strings.HasPrefix(line, "var operations"):
			bad(i, "var operations must be loadJsonContent('../apim-operations.json'), the file the stand-in reads")
		case line == "var policies = {":
			seenPolicies = true
			i = b.readPolicies(lines, i+1, authMode, bad)
		case strings.HasPrefix(line, "var policies"):
			bad(i, "var policies must be an object literal opened on this line")
		case apiPolicyRes.MatchString(line):
			i = b.readBlock(lines, i+1, func(j int, l string) {
				if m := apiValue.FindStringSubmatch(l); m != nil {
					b.APIPolicy = m[1]
				}
			})
		case backendRes.MatchString(line):
			i = b.readBlock(lines, i+1, func(j int, l string) {
				if m := nameLine.FindStringSubmatch(l); m != nil {
					b.Backends = append(b.Backends, m[1])
				}
			})
		}
	}
	if !seenOps {
		errs = append(errs, fmt.Errorf("%s: no `var operations = loadJsonContent('../apim-operations.json')`", file))
	}
	if !seenPolicies || len(b.Policies) == 0 {
		errs = append(errs, fmt.Errorf("%s: no `var policies = {` with entries", file))
	}
	if b.APIPolicy == "" {
		errs = append(errs, fmt.Errorf("%s: the API policy resource has no `value: loadTextContent('../policies/…')` line", file))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("apimemu: %w", err)
	}
	return b, nil
}

// readPolicies reads the entries of `var policies` from line i up to the
// closing brace and returns the index of that brace.
func (b *Bicep) readPolicies(lines []string, i int, authMode string, bad func(int, string, ...any)) int {
	for ; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		switch {
		case line == "}":
			return i
		case trimmed == "" || strings.HasPrefix(trimmed, "//"):
		case policyOne.MatchString(line):
			m := policyOne.FindStringSubmatch(line)
			b.addPolicy(i, m[1], m[2], bad)
		case policyChoice.MatchString(line):
			m := policyChoice.FindStringSubmatch(line)
			file := m[2]
			if authMode == "entra" {
				file = m[3]
			}
			b.addPolicy(i, m[1], file, bad)
		default:
			bad(i, "policies entry %q: want `key: loadTextContent('../policies/<file>.xml')` or `key: authMode == 'proxy' ? loadTextContent(…) : loadTextContent(…)`", trimmed)
		}
	}
	bad(len(lines)-1, "var policies is not closed")
	return i
}

func (b *Bicep) addPolicy(i int, key, file string, bad func(int, string, ...any)) {
	if _, dup := b.Policies[key]; dup {
		bad(i, "policies key %s declared twice", key)
	}
	b.Policies[key] = file
}

// readBlock calls f for each line of a top-level block from line i up to
// its closing brace (a line "}" at column 0) and returns that line's index.
func (b *Bicep) readBlock(lines []string, i int, f func(int, string)) int {
	for ; i < len(lines) && lines[i] != "}"; i++ {
		f(i, lines[i])
	}
	return i
}
