// Package infra holds the tests of the deployment: infra/ (the Bicep
// modules, infra/apim-operations.json and the APIM policy files),
// azure.yaml and the deployment scripts, held against the handler: its
// routes (handler/testdata/routes.json, which a test in package main keeps
// equal to routes.go), its settings (internal/config), its 401 challenge
// (internal/resource) and its CORS answers (internal/cors). Nothing here
// talks to Azure. Bicep is parsed with tree-sitter-bicep
// (scripts/check-bicep.mjs), not compiled: these tests catch drift between
// the pieces, not ARM validation errors. The package has no code of its
// own; it exists so the tests sit apart from the handler's and link
// nothing of package main.
//
// Run them: go test ./handler/infra
package infra
