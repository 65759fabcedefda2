package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Options configure a run.
type Options struct {
	// MCPURL is the URL clients are given (azd output MCP_URL).
	MCPURL string
	// Timeout bounds every request; default 15 s.
	Timeout time.Duration
	// HTTPClient sends every request; its Timeout is set from Timeout when
	// zero. Default: a client with no proxy quirks, redirects not followed.
	HTTPClient *http.Client
	// SignIn runs the interactive sign-in after the anonymous checks.
	SignIn bool
	// SignInTimeout bounds the wait for the browser; default 5 minutes.
	SignInTimeout time.Duration
	// ClientID is a public client registered in Entra, for sign-in in mode
	// entra (Entra has no dynamic registration).
	ClientID string
	// OpenBrowser opens the authorization URL; default: $BROWSER, then
	// xdg-open, and never an error when neither exists.
	OpenBrowser func(url string) error
	// Report receives every result.
	Report *Reporter
}

// Doctor runs the checks against one deployment.
type Doctor struct {
	opts   Options
	mcp    *url.URL
	base   string // the MCP URL without "/mcp": what PUBLIC_BASE_URL must be
	origin string // scheme://host[:port] of the MCP URL
	rep    *Reporter
	hc     *http.Client

	// What earlier checks learned.
	prm       *prmDoc
	mode      string // "proxy" or "entra"
	as        *asMetadata
	apimSeen  string // why API Management is known to be in front ("" = not known)
	reg       *registration
	challenge answer // the anonymous POST /mcp
	// originRefused: /mcp answered browserOrigin 403 (not in
	// ALLOWED_ORIGINS); the browser-only checks are skipped.
	originRefused bool
}

// ErrUsage marks a problem with the arguments (exit code 2).
var ErrUsage = errors.New("usage")

// New checks the options.
func New(opts Options) (*Doctor, error) {
	u, err := url.Parse(opts.MCPURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%w: %q is not an http(s) URL without query or fragment, such as https://apim-x.azure-api.net/mcp", ErrUsage, opts.MCPURL)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Second
	}
	if opts.SignInTimeout <= 0 {
		opts.SignInTimeout = 5 * time.Minute
	}
	if opts.Report == nil {
		opts.Report = &Reporter{}
	}
	if opts.OpenBrowser == nil {
		opts.OpenBrowser = openBrowser
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	c := *hc
	if c.Timeout == 0 {
		c.Timeout = opts.Timeout
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	d := &Doctor{opts: opts, mcp: u, rep: opts.Report, hc: &c}
	d.origin = u.Scheme + "://" + u.Host
	d.base = strings.TrimSuffix(strings.TrimSuffix(opts.MCPURL, "/"), "/mcp")
	if strings.HasSuffix(strings.ToLower(u.Hostname()), ".azure-api.net") {
		d.apimSeen = "the host name is an API Management gateway (*.azure-api.net)"
	}
	return d, nil
}

func (d *Doctor) client() *http.Client { return d.hc }

// Run runs every check and reports whether all passed. Sign-in runs only
// when the anonymous checks it depends on passed.
func (d *Doctor) Run(ctx context.Context) bool {
	d.rep.Print("Checking %s", d.opts.MCPURL)
	if d.mcp.Scheme == "http" && !isLoopback(d.mcp.Hostname()) {
		d.rep.Add(Result{Name: "MCP URL", Status: Fail, Layer: LayerURL,
			Detail: "plain http on a non-loopback host", Fix: "use the https URL of the API Management gateway (`azd env get-value MCP_URL`)"})
	}
	d.checkHealth(ctx)
	d.checkPRM(ctx)
	switch d.mode {
	case "proxy":
		d.checkASMetadata(ctx)
		d.checkOpenIDConfiguration(ctx)
		d.checkJWKS(ctx)
	case "entra":
		d.checkEntra(ctx)
	}
	d.checkChallenge(ctx)
	d.checkPreflight(ctx)
	d.checkFrontDoor(ctx)
	if d.mode == "proxy" {
		d.checkRegistration(ctx)
	}
	if d.opts.SignIn {
		d.signIn(ctx)
	}
	d.rep.Print("%s", d.rep.Summary())
	return !d.rep.Failed()
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// noteAPIM records evidence that API Management answered something.
func (d *Doctor) noteAPIM(a answer) {
	if d.apimSeen != "" {
		return
	}
	switch a.from() {
	case fromAPIM:
		d.apimSeen = fmt.Sprintf("API Management itself answered %s %s", a.Method, pathOf(a.URL))
	case fromEdge:
		d.apimSeen = fmt.Sprintf("API Management's policy answered %s %s", a.Method, pathOf(a.URL))
	}
}
