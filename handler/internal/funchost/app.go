package funchost

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// App is a Functions app folder as the host reads it.
type App struct {
	// Dir holds host.json; the executable and workingDirectory are
	// resolved against it.
	Dir string
	// FunctionsDir holds the function folders: Dir itself in a staged app,
	// or Dir/functions when LoadApp is pointed at the repository.
	FunctionsDir string
	Host         HostConfig
	// RoutePrefix is extensions.http.routePrefix without slashes; the host's
	// default is "api" when host.json does not set it.
	RoutePrefix string
	Functions   []Function

	routes []Route
}

// HostConfig is the part of host.json the stand-in reads. encoding/json
// matches keys case-insensitively, like the host's configuration binder.
type HostConfig struct {
	Version string `json:"version"`
	// TelemetryMode "OpenTelemetry" makes the host export its logs and
	// traces over OpenTelemetry (Flex Consumption; to Application Insights
	// with APPLICATIONINSIGHTS_CONNECTION_STRING, to OTEL_EXPORTER_OTLP_ENDPOINT
	// when set: learn.microsoft.com/azure/azure-functions/opentelemetry-howto).
	TelemetryMode string         `json:"telemetryMode"`
	CustomHandler *CustomHandler `json:"customHandler"`
	Extensions    struct {
		HTTP struct {
			RoutePrefix *string `json:"routePrefix"`
		} `json:"http"`
	} `json:"extensions"`
}

// CustomHandler is host.json "customHandler" (HttpWorkerOptions in the host).
type CustomHandler struct {
	Description struct {
		DefaultExecutablePath string   `json:"defaultExecutablePath"`
		WorkingDirectory      string   `json:"workingDirectory"`
		Arguments             []string `json:"arguments"`
	} `json:"description"`
	EnableProxyingHTTPRequest   bool `json:"enableProxyingHttpRequest"`
	EnableForwardingHTTPRequest bool `json:"enableForwardingHttpRequest"`
	HTTP                        *struct {
		Routes []json.RawMessage `json:"routes"`
	} `json:"http"`
}

// Function is one function folder.
type Function struct {
	Name     string    `json:"-"` // the folder name
	Dir      string    `json:"-"`
	Bindings []Binding `json:"bindings"`
	Disabled bool      `json:"disabled"`
}

// Binding is one entry of function.json "bindings", as written.
type Binding struct {
	Type      string   `json:"type"`
	Direction string   `json:"direction"`
	Name      string   `json:"name"`
	AuthLevel string   `json:"authLevel"`
	Methods   []string `json:"methods"`
	Route     *string  `json:"route"`
}

// Trigger returns the httpTrigger binding (LoadApp guarantees there is one).
func (f Function) Trigger() Binding {
	for _, b := range f.Bindings {
		if strings.EqualFold(b.Type, "httpTrigger") {
			return b
		}
	}
	return Binding{}
}

// allMethods is what a trigger without "methods" accepts (the HttpMethod
// values the WebJobs HTTP extension knows).
var allMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"}

// functionName is the host's rule for function names (Utility.IsValidFunctionName).
var functionName = regexp.MustCompile(`(?i)^[a-z][a-z0-9_\-]{0,127}$`)

// LoadApp reads dir/host.json and the function.json files in dir/*/ (or,
// when dir has none, in dir/functions/*/) and validates them against the
// host's rules. All problems are reported in one error.
func LoadApp(dir string) (*App, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	app := &App{Dir: abs, FunctionsDir: abs}
	raw, err := os.ReadFile(filepath.Join(abs, "host.json"))
	if err != nil {
		return nil, fmt.Errorf("funchost: %w", err)
	}
	if err := json.Unmarshal(raw, &app.Host); err != nil {
		return nil, fmt.Errorf("funchost: host.json: %w", err)
	}
	files, _ := filepath.Glob(filepath.Join(abs, "*", "function.json"))
	if len(files) == 0 {
		app.FunctionsDir = filepath.Join(abs, "functions")
		files, _ = filepath.Glob(filepath.Join(app.FunctionsDir, "*", "function.json"))
	}
	sort.Strings(files)

	var errs []error
	errs = append(errs, app.checkHost(len(files) > 0)...)
	for _, file := range files {
		f, ferrs := loadFunction(file)
		errs = append(errs, ferrs...)
		if len(ferrs) == 0 && !f.Disabled {
			app.Functions = append(app.Functions, f)
		}
	}
	if len(files) == 0 {
		errs = append(errs, fmt.Errorf("no */function.json in %s or %s", abs, app.FunctionsDir))
	}
	errs = append(errs, app.buildRoutes()...)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("funchost: invalid app %s:\n%w", abs, err)
	}
	return app, nil
}

func (a *App) checkHost(haveFunctionJSON bool) []error {
	var errs []error
	h := a.Host
	if h.Version != "2.0" {
		errs = append(errs, fmt.Errorf(`host.json: "version" must be "2.0", got %q`, h.Version))
	}
	a.RoutePrefix = "api" // WebJobs HttpOptions default
	if p := h.Extensions.HTTP.RoutePrefix; p != nil {
		a.RoutePrefix = strings.Trim(*p, "/")
	}
	ch := h.CustomHandler
	if ch == nil {
		return append(errs, errors.New(`host.json: no "customHandler" section (funchost only runs custom handlers)`))
	}
	if ch.Description.DefaultExecutablePath == "" {
		errs = append(errs, errors.New("host.json: customHandler.description.defaultExecutablePath is empty"))
	}
	// Only the proxying mode is emulated; forwarding buffers responses and
	// the default mode wraps requests in a JSON envelope
	// (learn.microsoft.com/azure/azure-functions/functions-custom-handlers;
	// docs/architecture.md §10.1).
	if !ch.EnableProxyingHTTPRequest {
		errs = append(errs, errors.New("host.json: customHandler.enableProxyingHttpRequest must be true"))
	}
	if ch.HTTP != nil && len(ch.HTTP.Routes) > 0 && haveFunctionJSON {
		// The host's exact complaint (HttpWorkerFunctionProvider).
		errs = append(errs, errors.New("host.json: Detected both function.json files and custom handler HTTP route configuration (customHandler.http.routes). Only one configuration source is supported"))
	}
	return errs
}

func loadFunction(file string) (Function, []error) {
	dir := filepath.Dir(file)
	f := Function{Name: filepath.Base(dir), Dir: dir}
	raw, err := os.ReadFile(file)
	if err != nil {
		return f, []error{err}
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return f, []error{fmt.Errorf("%s: %w", file, err)}
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("function %s: "+format, append([]any{f.Name}, args...)...))
	}
	if !functionName.MatchString(f.Name) {
		bad("folder name is not a valid function name (%s)", functionName)
	}
	var in, out int
	for _, b := range f.Bindings {
		switch {
		case strings.EqualFold(b.Type, "httpTrigger") && strings.EqualFold(b.Direction, "in"):
			in++
			if b.Name == "" {
				bad("httpTrigger has no name")
			}
			switch strings.ToLower(b.AuthLevel) {
			case "", "anonymous", "function", "admin":
			default:
				bad("authLevel %q is not anonymous, function or admin", b.AuthLevel)
			}
			for _, m := range b.Methods {
				if !slices.Contains(allMethods, strings.ToUpper(m)) {
					bad("unknown method %q", m)
				}
			}
		case strings.EqualFold(b.Type, "http") && strings.EqualFold(b.Direction, "out"):
			out++
			if b.Name == "" {
				bad("http output has no name (use \"res\" or \"$return\")")
			}
		default:
			// The host proxies only functions whose bindings are exactly
			// http in + http out (FunctionMetadata.IsHttpInAndOutFunction).
			bad("binding %q/%q: only one httpTrigger (in) and one http (out) are supported", b.Type, b.Direction)
		}
	}
	if in != 1 || out != 1 {
		bad("needs exactly one httpTrigger (in) and one http (out) binding, has %d and %d", in, out)
	}
	return f, errs
}

// buildRoutes turns functions into routes and rejects what the host would:
// reserved routes and two triggers on one template with a shared method.
func (a *App) buildRoutes() []error {
	var errs []error
	for _, f := range a.Functions {
		t := f.Trigger()
		r := Route{Function: f.Name, Template: f.Name, AuthLevel: strings.ToLower(t.AuthLevel)}
		if t.Route != nil {
			r.Template = *t.Route
		}
		if r.AuthLevel == "" {
			r.AuthLevel = "function" // function.json default
		}
		for _, m := range t.Methods {
			r.Methods = append(r.Methods, strings.ToUpper(m))
		}
		if len(r.Methods) == 0 {
			r.Methods = slices.Clone(allMethods)
		}
		r.Pattern = strings.Trim(a.RoutePrefix+"/"+r.Template, "/")
		segs, err := parseTemplate(r.Template)
		if err == nil {
			segs, err = parseTemplate(r.Pattern)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("function %s: %w", f.Name, err))
			continue
		}
		r.segments = segs
		// The host keeps admin/* and runtime/webhooks/* for itself.
		if lp := strings.ToLower(r.Pattern) + "/"; strings.HasPrefix(lp, "admin/") || strings.HasPrefix(lp, "runtime/webhooks/") {
			errs = append(errs, fmt.Errorf("function %s: the specified route conflicts with one or more built in routes", f.Name))
		}
		for _, o := range a.routes {
			if strings.EqualFold(o.Pattern, r.Pattern) && slices.ContainsFunc(r.Methods, o.Allows) {
				errs = append(errs, fmt.Errorf("function %s: the route specified conflicts with the route defined by function %s", f.Name, o.Function))
			}
		}
		a.routes = append(a.routes, r)
	}
	return errs
}

// Routes returns the routes in function-name order.
func (a *App) Routes() []Route { return slices.Clone(a.routes) }

// Match finds the route the host would run for method and path (the URL
// path, decoded). Routes whose method list lacks method do not match.
func (a *App) Match(method, path string) (Route, bool) {
	var best Route
	found := false
	for _, r := range a.routes {
		if r.Allows(method) && r.MatchPath(path) && (!found || morePrecise(r, best)) {
			best, found = r, true
		}
	}
	return best, found
}

// Executable is defaultExecutablePath resolved the way the host does:
// relative to the app folder when that file exists, else looked up as a
// command.
func (a *App) Executable() string {
	p := a.Host.CustomHandler.Description.DefaultExecutablePath
	if filepath.IsAbs(p) {
		return p
	}
	if full := filepath.Join(a.Dir, p); fileExists(full) {
		return full
	}
	return p
}

// WorkingDir is customHandler.description.workingDirectory resolved against
// the app folder (HttpWorkerOptionsSetup); empty means the app folder.
func (a *App) WorkingDir() string {
	w := a.Host.CustomHandler.Description.WorkingDirectory
	if filepath.IsAbs(w) {
		return w
	}
	return filepath.Join(a.Dir, w)
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
