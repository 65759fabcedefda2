package infra

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// endpoint is one path of the handler's URL surface with the methods
// routed to it; ProxyOnly paths belong to the authorization server and
// have no route in mode entra.
type endpoint struct {
	Path      string   `json:"path"`
	Methods   []string `json:"methods"`
	ProxyOnly bool     `json:"proxy_only"`
}

var readSurface = sync.OnceValues(func() ([]endpoint, error) {
	b, err := os.ReadFile(filepath.Join(infraRoot, "handler/testdata/routes.json"))
	if err != nil {
		return nil, err
	}
	var out []endpoint
	err = json.Unmarshal(b, &out)
	return out, err
})

// surface is the handler's URL surface as routes.go mounts it, from
// handler/testdata/routes.json (TestRoutesFile in package main fails when
// the file and routes.go differ).
func surface(t *testing.T) []endpoint {
	t.Helper()
	s, err := readSurface()
	if err != nil || len(s) == 0 {
		t.Fatalf("handler/testdata/routes.json: %v (%d endpoints)", err, len(s))
	}
	return s
}
