package main

// Packaging tests: the Functions app around the binary (host.json,
// functions/*/function.json, scripts/build.sh) against the URL table in
// routes.go. They read the files through funchost.LoadApp, the same loader
// the local stand-in host uses, so what is tested here is what runs.

import (
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/funchost"
)

// repoRoot is where host.json and functions/ live; go test runs in handler/.
const repoRoot = ".."

func loadRepoApp(t *testing.T) *funchost.App {
	t.Helper()
	app, err := funchost.LoadApp(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// TestFunctionsCoverEndpoints: every public path has exactly one trigger
// that accepts all its methods, and every trigger serves some public path.
// A trigger missing a method makes the host answer 404 for it; a path with
// no trigger never reaches the handler.
func TestFunctionsCoverEndpoints(t *testing.T) {
	app := loadRepoApp(t)
	routes := app.Routes()
	used := map[string]bool{}
	for _, ep := range surface() {
		var matched []funchost.Route
		for _, r := range routes {
			if r.MatchPath(ep.Path) {
				matched = append(matched, r)
			}
		}
		if len(matched) != 1 {
			t.Errorf("%s is matched by %d function routes, want exactly 1: %v", ep.Path, len(matched), names(matched))
			continue
		}
		r := matched[0]
		used[r.Function] = true
		for _, m := range ep.Methods {
			if !r.Allows(m) {
				t.Errorf("%s %s: function %s (route %q) does not allow %s; methods %v", m, ep.Path, r.Function, r.Template, m, r.Methods)
			}
			if got, ok := app.Match(m, ep.Path); !ok || got.Function != r.Function {
				t.Errorf("Match(%s %s) = %q, %v; want %s", m, ep.Path, got.Function, ok, r.Function)
			}
		}
	}
	for _, r := range routes {
		if !used[r.Function] {
			t.Errorf("function %s (route %q) matches no path in endpoints: a dead trigger", r.Function, r.Template)
		}
	}
}

func names(rs []funchost.Route) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Function)
	}
	return out
}

// TestHostJSON checks the settings docs/architecture.md §10.1 depends on, on
// the raw file so that a key spelled wrongly cannot hide behind defaults.
func TestHostJSON(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Version       string `json:"version"`
		CustomHandler struct {
			Description struct {
				DefaultExecutablePath string `json:"defaultExecutablePath"`
			} `json:"description"`
			EnableProxyingHTTPRequest *bool           `json:"enableProxyingHttpRequest"`
			HTTP                      json.RawMessage `json:"http"`
		} `json:"customHandler"`
		Extensions struct {
			HTTP struct {
				RoutePrefix *string `json:"routePrefix"`
			} `json:"http"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	ch := h.CustomHandler
	if h.Version != "2.0" {
		t.Errorf("version = %q, want 2.0", h.Version)
	}
	if ch.Description.DefaultExecutablePath != "handler" {
		t.Errorf("defaultExecutablePath = %q, want handler (the name scripts/build.sh builds)", ch.Description.DefaultExecutablePath)
	}
	// Proxying, not forwarding: forwarding buffers the response, so no SSE
	// (docs/architecture.md §10.1;
	// learn.microsoft.com/azure/azure-functions/functions-custom-handlers).
	if ch.EnableProxyingHTTPRequest == nil || !*ch.EnableProxyingHTTPRequest {
		t.Error("customHandler.enableProxyingHttpRequest must be true")
	}
	if p := h.Extensions.HTTP.RoutePrefix; p == nil || *p != "" {
		t.Error(`extensions.http.routePrefix must be "" (public paths have no /api prefix)`)
	}
	// The host refuses to start with both function.json files and
	// customHandler.http.routes.
	if len(ch.HTTP) > 0 && strings.Contains(string(ch.HTTP), `"routes"`) {
		t.Error("customHandler.http.routes must not be set: function.json files define the routes")
	}
	if app := loadRepoApp(t); app.RoutePrefix != "" {
		t.Errorf("LoadApp routePrefix = %q", app.RoutePrefix)
	}
}

// TestFunctionsJSON holds every function.json to the house style on top of
// what LoadApp already enforces (bindings shape, authLevel, known methods,
// route syntax).
func TestFunctionsJSON(t *testing.T) {
	app := loadRepoApp(t)
	if len(app.Functions) == 0 {
		t.Fatal("no functions")
	}
	for _, f := range app.Functions {
		tr := f.Trigger()
		if tr.Name != "req" {
			t.Errorf("%s: trigger name %q, want req", f.Name, tr.Name)
		}
		if tr.Route == nil || strings.HasPrefix(*tr.Route, "/") {
			t.Errorf("%s: route must be set and have no leading slash", f.Name)
		}
		if !slices.Contains([]string{"anonymous", "function"}, tr.AuthLevel) {
			t.Errorf("%s: authLevel %q, want anonymous or function (APIM sends the function key)", f.Name, tr.AuthLevel)
		}
		if len(tr.Methods) == 0 {
			t.Errorf("%s: list the methods; none means all", f.Name)
		}
		for _, m := range tr.Methods {
			if m != strings.ToLower(m) {
				t.Errorf("%s: method %q should be lowercase", f.Name, m)
			}
		}
		for _, b := range f.Bindings {
			if b.Type == "http" && b.Name != "res" {
				t.Errorf("%s: http output name %q, want res", f.Name, b.Name)
			}
		}
	}
}

// TestBuildStagesApp runs scripts/build.sh from another directory and checks
// the staged app is what the host and `func azure functionapp publish` need.
func TestBuildStagesApp(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the handler")
	}
	script, err := filepath.Abs(filepath.Join(repoRoot, "scripts", "build.sh"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "app")
	cmd := exec.Command("bash", script, out)
	cmd.Dir = t.TempDir() // the script must not depend on the caller's cwd
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, b)
	} else if !strings.Contains(string(b), "func azure functionapp publish") {
		t.Errorf("build.sh output does not say how to publish:\n%s", b)
	}

	staged, err := funchost.LoadApp(out)
	if err != nil {
		t.Fatal(err)
	}
	if staged.FunctionsDir != staged.Dir {
		t.Errorf("function folders must sit beside host.json, found them in %s", staged.FunctionsDir)
	}
	if got, want := names(staged.Routes()), names(loadRepoApp(t).Routes()); !slices.Equal(got, want) {
		t.Errorf("staged functions %v, want %v", got, want)
	}
	for _, f := range []string{".funcignore", "host.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}

	exe := filepath.Join(out, staged.Host.CustomHandler.Description.DefaultExecutablePath)
	fi, err := os.Stat(exe)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o111 != 0o111 {
		t.Errorf("%s mode %v, want executable by all", exe, fi.Mode())
	}
	bin, err := elf.Open(exe)
	if err != nil {
		t.Fatalf("%s is not an ELF binary: %v", exe, err)
	}
	defer bin.Close()
	if bin.Class != elf.ELFCLASS64 || bin.Machine != elf.EM_X86_64 || bin.Type != elf.ET_EXEC {
		t.Errorf("binary is %v %v %v, want ELFCLASS64 EM_X86_64 ET_EXEC (static linux/amd64)", bin.Class, bin.Machine, bin.Type)
	}
	if bin.Section(".interp") != nil {
		t.Error("binary has an ELF interpreter; want a static build (CGO_ENABLED=0)")
	}
}
