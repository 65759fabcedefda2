package apimemu

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// realNamedValues are values for every named value the real policies use.
func realNamedValues(base string) map[string]string {
	return map[string]string{
		"public-base-url": base, "mcp-scope": "mcp:tools", "function-host-key": "the-host-key",
		"entra-tenant-id": "11111111-1111-4111-8111-111111111111", "entra-client-id": "22222222-2222-4222-8222-222222222222",
		"entra-app-id-uri": "api://22222222-2222-4222-8222-222222222222", "entra-api-scope": "user_impersonation",
		"entra-authority-host": "https://login.example",
		"mcp-allowed-origins":  ",https://inspector.example,http://localhost:6274,",
	}
}

// TestRealInfraLoads: the repository's operation list, apim.bicep mapping
// and policy files load in both modes, with every operation bound.
func TestRealInfraLoads(t *testing.T) {
	for _, mode := range []string{"proxy", "entra"} {
		g, err := New(Config{InfraDir: realInfra, AuthMode: mode, NamedValues: realNamedValues("https://apim.example"),
			Backends: map[string]string{"function-app": "http://127.0.0.1:1"}})
		if err != nil {
			t.Fatalf("[%s] %v", mode, err)
		}
		ops, _ := ReadOperations(realInfra)
		if len(g.Operations()) != len(ops) || len(ops) == 0 {
			t.Fatalf("[%s] %d operations loaded, file has %d", mode, len(g.Operations()), len(ops))
		}
	}
}

// TestReadBicepPolicies: the mapping and the proxy/entra choice.
func TestReadBicepPolicies(t *testing.T) {
	for mode, want := range map[string]string{"proxy": "mcp-proxy.xml", "entra": "mcp-entra.xml"} {
		b, err := ReadBicep(realInfra, mode)
		if err != nil {
			t.Fatal(err)
		}
		if b.Policies["mcp"] != want || b.Policies["cors"] != "cors.xml" || b.APIPolicy != "api.xml" {
			t.Errorf("[%s] policies %v, API policy %s", mode, b.Policies, b.APIPolicy)
		}
		if strings.Join(b.Backends, ",") != "function-app" {
			t.Errorf("backends %v", b.Backends)
		}
	}
	if _, err := ReadBicep(realInfra, "other"); err == nil {
		t.Error("auth mode other accepted")
	}
}

// TestReadBicepRefuses: any other shape of `var policies` (or of the
// operations variable) refuses to start, naming the line.
func TestReadBicepRefuses(t *testing.T) {
	for _, tt := range []struct{ name, lines, want string }{
		{"other function", "  cors: loadJsonContent('../policies/cors.xml')", "apim.bicep:7: policies entry"},
		{"other condition", "  mcp: authMode == 'entra' ? loadTextContent('../policies/a.xml') : loadTextContent('../policies/b.xml')", "apim.bicep:7: policies entry"},
		{"other folder", "  cors: loadTextContent('../other/cors.xml')", "apim.bicep:7"},
		{"variable", "  cors: corsXml", "apim.bicep:7"},
		{"duplicate", "  cors: loadTextContent('../policies/a.xml')\n  cors: loadTextContent('../policies/b.xml')", "apim.bicep:8: policies key cors declared twice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := testInfra{}.write(t)
			os.WriteFile(filepath.Join(dir, BicepFile), []byte(testBicep(tt.lines)), 0o644)
			_, err := ReadBicep(dir, "proxy")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("operations not from the JSON file", func(t *testing.T) {
		dir := testInfra{}.write(t)
		src := strings.Replace(testBicep("  cors: loadTextContent('../policies/cors.xml')"), "loadJsonContent('../apim-operations.json')", "[]", 1)
		os.WriteFile(filepath.Join(dir, BicepFile), []byte(src), 0o644)
		if _, err := ReadBicep(dir, "proxy"); err == nil || !strings.Contains(err.Error(), "apim.bicep:10: var operations must be loadJsonContent") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestReadOperationsRefuses: template parameters, duplicates, bad methods.
func TestReadOperationsRefuses(t *testing.T) {
	for _, tt := range []struct {
		name string
		ops  []Operation
		want string
	}{
		{"template parameter", []Operation{{Name: "a", Method: "GET", URLTemplate: "/items/{id}"}}, "only literal paths"},
		{"duplicate name", []Operation{{Name: "a", Method: "GET", URLTemplate: "/a"}, {Name: "a", Method: "POST", URLTemplate: "/a"}}, "name used twice"},
		{"duplicate route", []Operation{{Name: "a", Method: "GET", URLTemplate: "/a"}, {Name: "b", Method: "GET", URLTemplate: "/A"}}, "declared twice"},
		{"method", []Operation{{Name: "a", Method: "get", URLTemplate: "/a"}}, `method "get"`},
		{"no slash", []Operation{{Name: "a", Method: "GET", URLTemplate: "a"}}, "only literal paths"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := testInfra{ops: tt.ops}.write(t)
			if _, err := ReadOperations(dir); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	dir := testInfra{}.write(t)
	os.WriteFile(filepath.Join(dir, OperationsFile), []byte(`[{"name":"a","method":"GET","urlTemplate":"/a","policy":"","extra":1}]`), 0o644)
	if _, err := ReadOperations(dir); err == nil || !strings.Contains(err.Error(), "extra") {
		t.Errorf("unknown field accepted: %v", err)
	}
}

// TestUnknownPolicyKey: an operation naming a key the mapping lacks.
func TestUnknownPolicyKey(t *testing.T) {
	dir := testInfra{
		ops:      []Operation{{Name: "a", Method: "GET", URLTemplate: "/a", Policy: "nope"}},
		policies: map[string]string{"other": testPolicy("<base />", "<base />", "<base />", "<base />")},
	}.write(t)
	_, err := New(Config{InfraDir: dir, AuthMode: "proxy", NamedValues: map[string]string{"function-host-key": "k"}, Backends: map[string]string{"function-app": "http://127.0.0.1:1"}})
	if err == nil || !strings.Contains(err.Error(), `operation a: policy "nope" is not a key of var policies`) {
		t.Fatalf("err = %v", err)
	}
}
