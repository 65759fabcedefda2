package doctor

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// runChecks runs the anonymous checks against mcpURL and returns the report.
func runChecks(t *testing.T, mcpURL string) (*Reporter, bool) {
	t.Helper()
	var out bytes.Buffer
	rep := &Reporter{Out: &out}
	d, err := New(Options{MCPURL: mcpURL, Timeout: 5 * time.Second, Report: rep})
	if err != nil {
		t.Fatal(err)
	}
	ok := d.Run(context.Background())
	t.Logf("doctor output:\n%s", out.String())
	return rep, ok
}

// find returns the first result whose name starts with prefix.
func find(rep *Reporter, prefix string) (Result, bool) {
	for _, r := range rep.Results() {
		if strings.HasPrefix(r.Name, prefix) {
			return r, true
		}
	}
	return Result{}, false
}

func TestHealthyChains(t *testing.T) {
	for _, withAPIM := range []bool{false, true} {
		t.Run(fmt.Sprintf("apim=%t", withAPIM), func(t *testing.T) {
			c := newChain(t, withAPIM, nil)
			rep, ok := runChecks(t, c.URL)
			if !ok {
				t.Fatalf("a check failed")
			}
			ch, _ := find(rep, "401 challenge")
			want := string(fromHandler)
			if withAPIM {
				want = string(fromEdge)
				if r, found := find(rep, "API Management's /mcp policy"); !found || r.Status != Pass {
					t.Errorf("policy check = %+v", r)
				}
			}
			if !strings.Contains(ch.Detail, "answered by "+want) {
				t.Errorf("challenge detail %q, want answered by %s", ch.Detail, want)
			}
			if r, _ := find(rep, "dynamic client registration"); !strings.Contains(r.Detail, "created a throwaway client registration client-1") {
				t.Errorf("registration detail %q", r.Detail)
			}
		})
	}
}

// TestBrokenChains: each layer broken the way it breaks in Azure, and the
// check that must catch it, with the layer it must blame.
func TestBrokenChains(t *testing.T) {
	ecKey := `{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"e1","x":"AA","y":"AA"}]}`
	tests := []struct {
		name     string
		apim     bool
		mutate   func(*chain)
		url      func(c *chain) string
		check    string
		layer    Layer
		inDetail string
	}{
		{"function key stale", true, func(c *chain) { c.apim.key = "old-key" },
			nil, "protected resource metadata", LayerHost, "refused the function key"},
		{"function not deployed", false, func(c *chain) { c.host.missing["/.well-known/oauth-protected-resource/mcp"] = true },
			nil, "protected resource metadata (GET /.well-known/oauth-protected-resource/mcp)", LayerHost, "no function serves"},
		{"operation missing", true, func(c *chain) { c.apim.noOperation["POST /mcp"] = true },
			nil, "401 challenge", LayerAPIM, "no operation"},
		{"preflight for a missing operation", true, func(c *chain) { c.apim.noOperation["POST /mcp"] = true },
			nil, "CORS preflight", LayerAPIM, "no API Management operation with a cors policy"},
		{"policy missing", true, func(c *chain) { c.apim.noMCPPolicy = true },
			nil, "API Management's /mcp policy", LayerAPIM, "validate-jwt did not run"},
		{"policy missing: the preflight is unmatched too", true, func(c *chain) { c.apim.noMCPPolicy = true },
			nil, "CORS preflight", LayerAPIM, "no API Management operation with a cors policy"},
		{"subscription required", true, func(c *chain) { c.apim.subscription = true },
			nil, "handler reachable", LayerAPIM, "subscription key"},
		{"edge 401 hides WWW-Authenticate", true, func(c *chain) { c.apim.noExposeOnEdge = true },
			nil, "cross-origin 401 exposes", LayerAPIM, "answered by API Management's policy"},
		{"wrong PUBLIC_BASE_URL", false, func(c *chain) { c.handler.base = "https://mcp.contoso.example" },
			nil, "PRM resource is the MCP URL", LayerConfig, "resource is https://mcp.contoso.example/mcp"},
		{"base URL given", false, nil,
			func(c *chain) string { return strings.TrimSuffix(c.URL, "/mcp") }, "PRM resource is the MCP URL", LayerURL, "ending in /mcp"},
		{"ES256 key", false, func(c *chain) { c.handler.jwks = ecKey },
			nil, "JWKS usable", LayerConfig, "ES256, not RSA"},
		{"challenge points elsewhere", false, func(c *chain) { c.handler.challengeRM = "https://elsewhere.example/prm" },
			nil, "401 challenge", LayerConfig, `resource_metadata is "https://elsewhere.example/prm"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChain(t, tt.apim, tt.mutate)
			u := c.URL
			if tt.url != nil {
				u = tt.url(c)
			}
			rep, ok := runChecks(t, u)
			if ok {
				t.Fatal("every check passed")
			}
			r, found := find(rep, tt.check)
			if !found {
				t.Fatalf("no check %q", tt.check)
			}
			if r.Status != Fail || r.Layer != tt.layer || !strings.Contains(r.Detail+" "+r.Fix, tt.inDetail) {
				t.Errorf("%s = %+v, want a failure of layer %q mentioning %q", tt.check, r, tt.layer, tt.inDetail)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	rep, ok := runChecks(t, "http://"+addr+"/mcp")
	if ok {
		t.Fatal("passed against a closed port")
	}
	if r, _ := find(rep, "handler reachable"); r.Layer != LayerNetwork {
		t.Errorf("healthz = %+v, want a network failure", r)
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "apim.azure-api.net/mcp", "ftp://x/mcp", "https://x/mcp?code=1", "https://u:p@x/mcp", "https:///mcp"} {
		if _, err := New(Options{MCPURL: u}); err == nil {
			t.Errorf("New(%q) accepted it", u)
		}
	}
}

func TestAPIMHostNameIsEvidence(t *testing.T) {
	d, err := New(Options{MCPURL: "https://apim-x.azure-api.net/mcp"})
	if err != nil || d.apimSeen == "" {
		t.Fatalf("apimSeen %q, err %v", d.apimSeen, err)
	}
}
