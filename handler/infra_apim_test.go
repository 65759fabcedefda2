package main

import (
	"strings"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/funchost"
)

type apimOperation struct {
	Name, Method, URLTemplate, Policy string
}

func apimOperations(t *testing.T) ([]apimOperation, *bicepFile) {
	t.Helper()
	f := bicepFileOf(t, "modules/apim.bicep")
	ops := f.resourcesOf("Microsoft.ApiManagement/service/apis/operations")
	if len(ops) != 1 || ops[0].Value.K != "for" || ops[0].Value.Iter.src() != "operations" {
		t.Fatalf("apim.bicep: want one operations resource looping over var operations")
	}
	var out []apimOperation
	for _, o := range f.Vars["operations"].Items {
		out = append(out, apimOperation{
			Name:        o.prop("name").str(),
			Method:      o.prop("method").str(),
			URLTemplate: o.prop("urlTemplate").str(),
			Policy:      o.prop("policy").str(),
		})
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
	want := map[key]bool{}
	for _, ep := range endpoints {
		for _, m := range ep.Methods {
			want[key{m, ep.Path}] = true
			if _, ok := have[key{m, ep.Path}]; !ok {
				t.Errorf("handler serves %s %s but APIM has no operation for it", m, ep.Path)
			}
		}
	}
	for k, op := range have {
		if !want[k] {
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
}
