package infra

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/funchost"
)

type apimOperation struct {
	Name        string `json:"name"`
	Method      string `json:"method"`
	URLTemplate string `json:"urlTemplate"`
	Policy      string `json:"policy"`
}

// apimOperations reads infra/apim-operations.json, the one operation list
// that apim.bicep deploys (loadJsonContent) and the APIM stand-in serves,
// and checks that apim.bicep really loads it.
func apimOperations(t *testing.T) ([]apimOperation, *bicepFile) {
	t.Helper()
	f := bicepFileOf(t, "modules/apim.bicep")
	if got := f.Vars["operations"].src(); got != "loadJsonContent('../apim-operations.json')" {
		t.Fatalf("apim.bicep: var operations = %s, want loadJsonContent('../apim-operations.json')", got)
	}
	ops := f.resourcesOf("Microsoft.ApiManagement/service/apis/operations")
	if len(ops) != 1 || ops[0].Value.K != "for" || ops[0].Value.Iter.src() != "operations" {
		t.Fatalf("apim.bicep: want one operations resource looping over var operations")
	}
	var out []apimOperation
	dec := json.NewDecoder(bytes.NewReader(mustRead(t, "infra/apim-operations.json")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("infra/apim-operations.json: %v", err)
	}
	return out, f
}

// TestAPIMOperationsMatchEndpoints: APIM operations <-> handler endpoints <->
// function.json routes, in both directions.
func TestAPIMOperationsMatchEndpoints(t *testing.T) {
	ops, f := apimOperations(t)
	type key struct{ method, path string }
	have := map[key]apimOperation{}
	names := map[string]bool{}
	for _, op := range ops {
		k := key{op.Method, op.URLTemplate}
		if _, dup := have[k]; dup {
			t.Errorf("operation %s %s declared twice", op.Method, op.URLTemplate)
		}
		have[k] = op
		if names[op.Name] {
			t.Errorf("operation name %s used twice", op.Name)
		}
		names[op.Name] = true
	}
	// OPTIONS is the one exception: the handler answers preflights when it
	// runs alone, behind APIM the operations' cors policies do
	// (TestPolicyPreflightByCORS), and an OPTIONS operation would switch
	// that off (learn.microsoft.com/azure/api-management/cors-policy).
	// Except on /mcp, whose origins come from ALLOWED_ORIGINS: its OPTIONS
	// operation forwards the preflight to the handler (cors.Listed).
	want := map[key]bool{}
	for _, ep := range surface(t) {
		for _, m := range ep.Methods {
			want[key{m, ep.Path}] = true
			if _, ok := have[key{m, ep.Path}]; !ok && m != http.MethodOptions {
				t.Errorf("handler serves %s %s but APIM has no operation for it", m, ep.Path)
			}
		}
	}
	for k, op := range have {
		switch {
		case k.method == http.MethodOptions && k.path != "/mcp":
			t.Errorf("APIM operation %s is an OPTIONS operation: it would stop the cors policy from answering preflights", op.Name)
		case !want[k]:
			t.Errorf("APIM operation %s (%s %s) matches no handler endpoint", op.Name, k.method, k.path)
		}
	}

	app, err := funchost.LoadApp(infraRoot)
	if err != nil {
		t.Fatalf("loading functions/*/function.json: %v", err)
	}
	for k, op := range have {
		if _, ok := app.Match(k.method, k.path); !ok {
			t.Errorf("APIM operation %s (%s %s) reaches no function.json trigger", op.Name, k.method, k.path)
		}
	}

	apis := f.resourcesOf("Microsoft.ApiManagement/service/apis")
	if len(apis) != 1 {
		t.Fatalf("%d APIs", len(apis))
	}
	ap := apis[0].Value.prop("properties")
	if ap.prop("path").str() != "" || ap.prop("path") == nil || ap.prop("subscriptionRequired").src() != "false" {
		t.Errorf("API must sit at the root path with subscriptionRequired false: path %s, subscriptionRequired %s",
			ap.prop("path").src(), ap.prop("subscriptionRequired").src())
	}
	svc := f.resourcesOf("Microsoft.ApiManagement/service")
	if len(svc) != 1 || svc[0].Value.prop("sku", "name").str() != "BasicV2" {
		t.Error("APIM must be one BasicV2 service (Consumption lacks rate-limit-by-key and streaming)")
	}
	backends := f.resourcesOf("Microsoft.ApiManagement/service/backends")
	if len(backends) != 1 || !strings.Contains(backends[0].Value.prop("properties", "url").src(), "defaultHostName") {
		t.Error("want one backend pointing at the function app's default host name")
	}

	// Operations without a policy: the resource is skipped by its `if`, and
	// the value must not index policies with '' either (ARM may evaluate it).
	pols := f.resourcesOf("Microsoft.ApiManagement/service/apis/operations/policies")
	if len(pols) != 1 || pols[0].Value.K != "for" || pols[0].Value.Iter.src() != "operations" || pols[0].Value.Body.K != "if" {
		t.Fatal("want one operation-policy resource: [for (op, i) in operations: if (...) {...}]")
	}
	if c := pols[0].Value.Body.Cond; c != "(!empty(op.policy))" {
		t.Errorf("operation policies condition %s, want (!empty(op.policy))", c)
	}
	if v := pols[0].Value.unwrap().prop("properties", "value").src(); v != "empty(op.policy) ? '' : (policies[op.policy])" {
		t.Errorf("operation policy value %s, want empty(op.policy) ? '' : (policies[op.policy])", v)
	}
}
