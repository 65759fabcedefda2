package tools_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/server"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tools/toolstest"
)

// README: begin

// OrdersIn are the tool's arguments; OrdersOut is its result.
type OrdersIn struct {
	Status string `json:"status" jsonschema:"open or shipped"`
}
type OrdersOut struct {
	Orders []Order `json:"orders"`
}
type Order struct {
	ID    string `json:"id"`
	Total string `json:"total"`
}

// myOrders lists the user's orders from your own API, called as the user.
// TOOL_SCOPES maps its scope: orders.read=api://contoso-orders/Orders.Read
var myOrders = tools.New(tools.Tool[OrdersIn, OrdersOut]{
	Name:        "my_orders",
	Description: "Lists the signed-in user's orders with a status: open or shipped.",
	Hints:       tools.Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
	Scopes:      []string{"orders.read"},
	Run: func(ctx context.Context, c *tools.Call, in OrdersIn) (OrdersOut, error) {
		token, err := c.OnBehalfOf(ctx) // a token for what orders.read maps to
		if err != nil {
			return OrdersOut{}, err // consent and sign-in problems reach the user in words
		}
		out := OrdersOut{Orders: []Order{}}
		u := "https://orders.contoso.example/me/orders?status=" + url.QueryEscape(in.Status)
		err = c.GetJSON(ctx, u, token, &out)
		return out, err
	},
})

// README: end

// ordersAPI stands in for the developer's API: it wants the token the
// upstream stand-in issues for Orders.Read.
func ordersAPI(t *testing.T) *http.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer obo:api://contoso-orders/Orders.Read" || r.URL.Path != "/me/orders" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_ = json.NewEncoder(w).Encode(OrdersOut{Orders: []Order{{ID: "o-1", Total: "12.00 EUR"}, {ID: "o-" + r.URL.Query().Get("status"), Total: "3.50 EUR"}}})
	}))
	t.Cleanup(srv.Close)
	target, _ := url.Parse(srv.URL)
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = target.Scheme, target.Host
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// oboStandIn issues "obo:<scopes>" for anyone.
type oboStandIn struct{}

func (oboStandIn) Token(_ context.Context, _ *resource.TokenInfo, scopes []string) (string, error) {
	return "obo:" + strings.Join(scopes, " "), nil
}

// TestExampleTool registers and calls the README's example tool.
func TestExampleTool(t *testing.T) {
	s := server.NewMCPServer("t", "1", server.WithInputSchemaValidation())
	_, err := tools.Register(s, tools.Options{
		BaseScope: "mcp:tools",
		Scopes:    []config.ToolScope{{Name: "mcp:tools"}, {Name: "orders.read", Permissions: []string{"api://contoso-orders/Orders.Read"}}},
		Upstream:  oboStandIn{}, HTTPClient: ordersAPI(t),
	}, myOrders)
	if err != nil {
		t.Fatal(err)
	}
	ctx := resource.WithTokenInfo(context.Background(), &resource.TokenInfo{Subject: "u1", Scopes: []string{"mcp:tools", "orders.read"}})
	res, err := toolstest.CallTool(ctx, s, "my_orders", map[string]any{"status": "open"})
	if err != nil {
		t.Fatal(err)
	}
	if err := toolstest.CheckResult(myOrders.MCPTool(), res); err != nil || res.IsError {
		t.Fatalf("result %+v: %v", res, err)
	}
	b, _ := json.Marshal(res.StructuredContent)
	if string(b) != `{"orders":[{"id":"o-1","total":"12.00 EUR"},{"id":"o-open","total":"3.50 EUR"}]}` {
		t.Fatalf("structured content %s", b)
	}
}

// TestREADMEQuotesTheExample keeps the README's "Add your own tool" code
// identical to the example above, which this package compiles and runs.
func TestREADMEQuotesTheExample(t *testing.T) {
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, after, _ := strings.Cut(string(src), "// README: begin\n\n")
	example, _, ok := strings.Cut(after, "\n// README: end")
	if !ok || example == "" {
		t.Fatal("example_test.go has no README: begin/end markers")
	}
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```go\n"+example+"```\n") {
		t.Errorf("README.md does not quote the example of example_test.go verbatim in a ```go block; copy it from there:\n%s", example)
	}
	if !slices.Contains(strings.Split(string(readme), "\n"), "## Add your own tool") {
		t.Error(`README.md has no "## Add your own tool" section`)
	}
}
