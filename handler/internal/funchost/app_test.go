package funchost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testHostJSON = `{
  "version": "2.0",
  "customHandler": {
    "description": {"defaultExecutablePath": "handler", "workingDirectory": "", "arguments": []},
    "enableProxyingHttpRequest": true
  },
  "extensions": {"http": {"routePrefix": ""}}
}`

func trigger(auth, route string, methods ...string) string {
	return `{"bindings": [
  {"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "` + auth + `",
   "methods": ["` + strings.Join(methods, `","`) + `"], "route": "` + route + `"},
  {"type": "http", "direction": "out", "name": "res"}]}`
}

// testFunctions is a small app shaped like the real one.
var testFunctions = map[string]string{
	"mcp":       trigger("function", "mcp", "get", "post", "delete"),
	"wellknown": trigger("function", ".well-known/{*path}", "get", "head"),
	"healthz":   trigger("anonymous", "healthz", "get"),
	"item":      trigger("function", "items/{id}", "get"),
	"itemnew":   trigger("function", "items/new", "get"),
}

// writeApp writes host.json and one folder per function into a temp dir.
func writeApp(t *testing.T, hostJSON string, functions map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "host.json"), hostJSON)
	for name, fj := range functions {
		write(t, filepath.Join(dir, name, "function.json"), fj)
	}
	return dir
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadApp(t *testing.T) {
	app, err := LoadApp(writeApp(t, testHostJSON, testFunctions))
	if err != nil {
		t.Fatal(err)
	}
	if len(app.Routes()) != len(testFunctions) {
		t.Fatalf("got %d routes, want %d", len(app.Routes()), len(testFunctions))
	}
	r, ok := app.Match("DELETE", "/mcp")
	if !ok || r.Function != "mcp" || r.AuthLevel != "function" || r.Pattern != "mcp" {
		t.Errorf("Match(DELETE /mcp) = %+v, %v", r, ok)
	}
}

// TestLoadAppRepoLayout: pointed at a repository, the function folders are
// found under functions/.
func TestLoadAppRepoLayout(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "host.json"), testHostJSON)
	write(t, filepath.Join(dir, "functions", "mcp", "function.json"), testFunctions["mcp"])
	app, err := LoadApp(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "functions"); app.FunctionsDir != want {
		t.Errorf("FunctionsDir = %s, want %s", app.FunctionsDir, want)
	}
}

func TestLoadAppDefaults(t *testing.T) {
	host := strings.Replace(testHostJSON, `"extensions": {"http": {"routePrefix": ""}}`, `"extensions": {}`, 1)
	app, err := LoadApp(writeApp(t, host, map[string]string{
		"hello": `{"bindings": [{"type": "httpTrigger", "direction": "in", "name": "req"},
		                        {"type": "http", "direction": "out", "name": "$return"}]}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	r := app.Routes()[0]
	// Host defaults: routePrefix "api", route = function name, all methods,
	// authLevel function.
	if r.Pattern != "api/hello" || r.AuthLevel != "function" || !r.Allows("PATCH") {
		t.Errorf("defaults: %+v", r)
	}
}

func TestLoadAppRejects(t *testing.T) {
	tests := []struct {
		name      string
		host      string
		functions map[string]string
		want      string
	}{
		{"version", strings.Replace(testHostJSON, `"2.0"`, `"1.0"`, 1), testFunctions, `"version" must be "2.0"`},
		{"no proxying", strings.Replace(testHostJSON, `"enableProxyingHttpRequest": true`, `"enableProxyingHttpRequest": false`, 1), testFunctions, "enableProxyingHttpRequest must be true"},
		{"no executable", strings.Replace(testHostJSON, `"handler"`, `""`, 1), testFunctions, "defaultExecutablePath is empty"},
		{"routes and function.json", strings.Replace(testHostJSON, `"enableProxyingHttpRequest": true`,
			`"enableProxyingHttpRequest": true, "http": {"routes": [{"route": "{*route}"}]}`, 1), testFunctions, "Detected both function.json files"},
		{"authLevel", testHostJSON, map[string]string{"f": trigger("user", "f", "get")}, `authLevel "user"`},
		{"method", testHostJSON, map[string]string{"f": trigger("function", "f", "fetch")}, `unknown method "fetch"`},
		{"leading slash", testHostJSON, map[string]string{"f": trigger("function", "/f", "get")}, "must not start with '/'"},
		{"double slash", testHostJSON, map[string]string{"f": trigger("function", "a//b", "get")}, "consecutively"},
		{"catch-all not last", testHostJSON, map[string]string{"f": trigger("function", "{*p}/x", "get")}, "last segment"},
		{"constraint", testHostJSON, map[string]string{"f": trigger("function", "{id:int}", "get")}, "constraint"},
		{"complex segment", testHostJSON, map[string]string{"f": trigger("function", "{a}.{b}", "get")}, "complex segments"},
		{"admin route", testHostJSON, map[string]string{"f": trigger("function", "admin/x", "get")}, "built in routes"},
		{"conflict", testHostJSON, map[string]string{"a": trigger("function", "x", "get", "post"), "b": trigger("function", "X", "post")}, "conflicts with the route defined by function a"},
		{"bad name", testHostJSON, map[string]string{"1f": trigger("function", "f", "get")}, "not a valid function name"},
		{"no out", testHostJSON, map[string]string{"f": `{"bindings": [{"type": "httpTrigger", "direction": "in", "name": "req"}]}`}, "exactly one httpTrigger"},
		{"extra binding", testHostJSON, map[string]string{"f": `{"bindings": [{"type": "httpTrigger", "direction": "in", "name": "req"},
			{"type": "http", "direction": "out", "name": "res"}, {"type": "queue", "direction": "out", "name": "q"}]}`}, `binding "queue"/"out"`},
		{"no functions", testHostJSON, nil, "no */function.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadApp(writeApp(t, tt.host, tt.functions))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadApp error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	app, err := LoadApp(writeApp(t, testHostJSON, testFunctions))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path, want string // want "" = no match
	}{
		{"POST", "/mcp", "mcp"},
		{"post", "/MCP", "mcp"}, // literals are case-insensitive
		{"GET", "/mcp/", "mcp"}, // one trailing slash is ignored
		{"PUT", "/mcp", ""},     // method not in the list: 404
		{"GET", "/mcp/x", ""},   // no trailing segments without a catch-all
		{"GET", "/.well-known/oauth-protected-resource/mcp", "wellknown"},
		{"HEAD", "/.well-known/jwks.json", "wellknown"},
		{"GET", "/.well-known", "wellknown"}, // a catch-all may match nothing
		{"GET", "/items/42", "item"},
		{"GET", "/items/new", "itemnew"}, // a literal beats a parameter
		{"GET", "/items", ""},
		{"GET", "/", ""},
		{"GET", "/healthz", "healthz"},
	}
	for _, tt := range tests {
		r, ok := app.Match(tt.method, tt.path)
		if got := map[bool]string{true: r.Function}[ok]; got != tt.want {
			t.Errorf("Match(%s %s) = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

func TestMergeEnv(t *testing.T) {
	got := MergeEnv([]string{"A=env"}, map[string]string{"A": "file", "B": "file"})
	if strings.Join(got, " ") != "A=env B=file" {
		t.Errorf("MergeEnv = %q", got)
	}
}
