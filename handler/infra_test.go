package main

// Infrastructure tests: infra/ (Bicep modules, APIM policies), azure.yaml and
// the deployment scripts, held against the handler's own tables: the routes
// in routes.go, the settings in internal/config and the 401 challenge of
// internal/resource. Nothing here talks to Azure. Bicep is parsed with
// tree-sitter-bicep (scripts/check-bicep.mjs), not compiled: these tests
// catch drift between the pieces, not ARM validation errors.
//
// Run only these: go test -run 'TestBicep|TestPolicy|TestInfra|TestAPIM' ./handler/

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/funchost"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/resource"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// infraRoot is the repository root; go test runs in handler/.
const infraRoot = ".."

// --- Bicep model (the JSON printed by check-bicep.mjs --json) --------------

// bicepNode is one expression: an object (Props), an array (Items), a plain
// string (S), an if/for wrapper (Cond/Body, Vars/Iter/Body) or any other
// expression as source Text with its sub-expressions in Kids.
type bicepNode struct {
	K     string                `json:"k"`
	Props map[string]*bicepNode `json:"props"`
	Items []*bicepNode          `json:"items"`
	S     *string               `json:"s"`
	Text  string                `json:"text"`
	Kids  []*bicepNode          `json:"kids"`
	Cond  string                `json:"cond"`
	Body  *bicepNode            `json:"body"`
	Vars  string                `json:"vars"`
	Iter  *bicepNode            `json:"iter"`
}

type bicepResource struct {
	Symbol   string     `json:"symbol"`
	Type     string     `json:"type"`
	Existing bool       `json:"existing"`
	Value    *bicepNode `json:"value"`
}

type bicepModule struct {
	Symbol string     `json:"symbol"`
	Path   string     `json:"path"`
	Value  *bicepNode `json:"value"`
}

type bicepFile struct {
	TargetScope string `json:"targetScope"`
	Params      map[string]struct {
		Type    string     `json:"type"`
		Default *bicepNode `json:"default"`
	} `json:"params"`
	Vars      map[string]*bicepNode `json:"vars"`
	Resources []bicepResource       `json:"resources"`
	Modules   []bicepModule         `json:"modules"`
	Outputs   map[string]*bicepNode `json:"outputs"`
}

// str is the value of a plain string literal, "" otherwise.
func (n *bicepNode) str() string {
	if n == nil || n.S == nil {
		return ""
	}
	return *n.S
}

// src is the node's source text as far as the model keeps it.
func (n *bicepNode) src() string {
	switch {
	case n == nil:
		return ""
	case n.S != nil:
		return "'" + *n.S + "'"
	case n.Text != "":
		return n.Text
	}
	b, _ := json.Marshal(n)
	return string(b)
}

// prop follows a path of object keys.
func (n *bicepNode) prop(path ...string) *bicepNode {
	for _, k := range path {
		if n == nil || n.K != "object" {
			return nil
		}
		n = n.Props[k]
	}
	return n
}

// unwrap strips `if (...)` and `[for ...]` wrappers down to the object.
func (n *bicepNode) unwrap() *bicepNode {
	for n != nil && (n.K == "if" || n.K == "for") {
		n = n.Body
	}
	return n
}

// objects lists every object inside n, following identifiers that name
// variables of f (so objects built with concat() or ?: stay visible).
func (f *bicepFile) objects(n *bicepNode) []*bicepNode {
	var out []*bicepNode
	seen := map[string]bool{}
	var walk func(*bicepNode)
	walk = func(n *bicepNode) {
		if n == nil {
			return
		}
		if n.K == "identifier" {
			if v, ok := f.Vars[n.Text]; ok && !seen[n.Text] {
				seen[n.Text] = true
				walk(v)
			}
			return
		}
		if n.K == "object" {
			out = append(out, n)
		}
		keys := make([]string, 0, len(n.Props))
		for k := range n.Props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walk(n.Props[k])
		}
		for _, c := range n.Items {
			walk(c)
		}
		for _, c := range n.Kids {
			walk(c)
		}
		walk(n.Body)
		walk(n.Iter)
	}
	walk(n)
	return out
}

// resourcesOf returns the non-existing resources of the given type (no API version).
func (f *bicepFile) resourcesOf(typ string) []bicepResource {
	var out []bicepResource
	for _, r := range f.Resources {
		if !r.Existing && strings.EqualFold(strings.SplitN(r.Type, "@", 2)[0], typ) {
			out = append(out, r)
		}
	}
	return out
}

func (f *bicepFile) module(path string) *bicepModule {
	for i := range f.Modules {
		if f.Modules[i].Path == path {
			return &f.Modules[i]
		}
	}
	return nil
}

var (
	bicepOnce   sync.Once
	bicepModels map[string]*bicepFile
	bicepErr    error
	bicepSkip   string
)

// loadBicep runs check-bicep.mjs --json once. It skips (never fails) only
// when node or the npm packages are missing; `npm ci` installs them.
func loadBicep(t *testing.T) map[string]*bicepFile {
	t.Helper()
	bicepOnce.Do(func() {
		if msg := nodeMissing(); msg != "" {
			bicepSkip = msg
			return
		}
		cmd := exec.Command("node", "scripts/check-bicep.mjs", "--json")
		cmd.Dir = infraRoot
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			bicepErr = fmt.Errorf("check-bicep.mjs --json: %v\n%s", err, stderr.String())
			return
		}
		var doc struct {
			Files map[string]*bicepFile `json:"files"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			bicepErr = err
			return
		}
		bicepModels = doc.Files
	})
	if bicepSkip != "" {
		t.Skip(bicepSkip)
	}
	if bicepErr != nil {
		t.Fatal(bicepErr)
	}
	return bicepModels
}

func nodeMissing() string {
	if _, err := exec.LookPath("node"); err != nil {
		return "node is not installed: Bicep checks skipped (install Node.js and run `npm ci`)"
	}
	for _, pkg := range []string{"tree-sitter", "tree-sitter-bicep"} {
		if _, err := os.Stat(filepath.Join(infraRoot, "node_modules", pkg, "package.json")); err != nil {
			return "node_modules/" + pkg + " is missing: Bicep checks skipped (run `npm ci`)"
		}
	}
	return ""
}

func bicepFileOf(t *testing.T, name string) *bicepFile {
	t.Helper()
	f, ok := loadBicep(t)[name]
	if !ok {
		t.Fatalf("infra/%s not found by check-bicep.mjs", name)
	}
	return f
}

// --- (a) syntax -------------------------------------------------------------

// TestBicepParses: every .bicep file under infra/ parses with tree-sitter-bicep.
func TestBicepParses(t *testing.T) {
	if msg := nodeMissing(); msg != "" {
		t.Skip(msg)
	}
	cmd := exec.Command("node", "scripts/check-bicep.mjs")
	cmd.Dir = infraRoot
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/check-bicep.mjs failed: %v\n%s", err, out)
	}
	t.Log(strings.TrimSpace(string(out)))
}

// TestBicepMainConventions: the azd conventions and the outputs the README
// and scripts rely on; no output carries key material.
func TestBicepMainConventions(t *testing.T) {
	m := bicepFileOf(t, "main.bicep")
	if m.TargetScope != "subscription" {
		t.Errorf("main.bicep targetScope = %q, want subscription", m.TargetScope)
	}
	for _, p := range []string{"environmentName", "location", "principalId", "authMode"} {
		if _, ok := m.Params[p]; !ok {
			t.Errorf("main.bicep has no param %s", p)
		}
	}
	if tok := m.Vars["resourceToken"].src(); !strings.Contains(tok, "uniqueString(subscription().id, environmentName, location)") {
		t.Errorf("resourceToken = %s, want uniqueString(subscription().id, environmentName, location)", tok)
	}
	rgs := m.resourcesOf("Microsoft.Resources/resourceGroups")
	if len(rgs) != 1 {
		t.Fatalf("main.bicep declares %d resource groups, want 1", len(rgs))
	}
	if tags := m.Vars["tags"]; tags.prop("azd-env-name").src() != "environmentName" {
		t.Errorf("tags var does not set azd-env-name: environmentName: %s", tags.src())
	}
	for _, mod := range m.Modules {
		if _, err := os.Stat(filepath.Join(infraRoot, "infra", mod.Path)); err != nil {
			t.Errorf("module %s: %v", mod.Symbol, err)
		}
	}
	upper := regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	for name, v := range m.Outputs {
		if !upper.MatchString(name) {
			t.Errorf("output %s is not UPPER_SNAKE (azd maps outputs to environment values)", name)
		}
		if secretish.MatchString(name) || secretish.MatchString(v.src()) {
			t.Errorf("output %s = %s looks like key material; outputs are stored in deployment history", name, v.src())
		}
	}
	for _, want := range []string{"MCP_URL", "MCP_PRM_URL", "ENTRA_CLIENT_ID", "AZURE_FUNCTION_APP_NAME", "AZURE_RESOURCE_GROUP", "AZURE_KEY_VAULT_NAME"} {
		if _, ok := m.Outputs[want]; !ok {
			t.Errorf("main.bicep has no output %s", want)
		}
	}
	if got := m.Outputs["MCP_URL"].src(); got != "'${publicBaseUrl}/mcp'" {
		t.Errorf("MCP_URL = %s, want '${publicBaseUrl}/mcp'", got)
	}
	if got := m.Outputs["MCP_PRM_URL"].src(); got != "'${publicBaseUrl}/.well-known/oauth-protected-resource/mcp'" {
		t.Errorf("MCP_PRM_URL = %s", got)
	}
	// The APIM name is computed up front, and PUBLIC_BASE_URL is its gateway URL.
	if got := m.Vars["names"].prop("apim").src(); got != "'apim-${resourceToken}'" {
		t.Errorf("APIM name = %s, want 'apim-${resourceToken}'", got)
	}
	if got := m.Vars["publicBaseUrl"].src(); !strings.HasPrefix(got, "'https://${names.apim}.") {
		t.Errorf("publicBaseUrl = %s, want https://${names.apim}.<gateway domain>", got)
	}
	fa := bicepFileOf(t, "modules/functionapp.bicep")
	for _, site := range fa.resourcesOf("Microsoft.Web/sites") {
		if tags := site.Value.unwrap().prop("tags").src(); !strings.Contains(tags, "'azd-service-name': 'api'") {
			t.Errorf("function app tags = %s, want azd-service-name api (azure.yaml service)", tags)
		}
	}
}

var secretish = regexp.MustCompile(`(?i)signingkey|sealingkey|secret|password|listkeys|connectionstring`)

// --- (d) app settings ---------------------------------------------------------

// platformSettings are the non-handler settings the Function App needs.
var platformSettings = []string{
	"AzureWebJobsStorage__accountName",
	"AzureWebJobsStorage__credential",
	"AzureWebJobsStorage__clientId",
	"APPLICATIONINSIGHTS_CONNECTION_STRING",
	"APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
	"AZURE_CLIENT_ID",
}

// appSettings returns the function app's appSettings, name -> value node.
func appSettings(t *testing.T) (map[string]*bicepNode, *bicepNode) {
	t.Helper()
	f := bicepFileOf(t, "modules/functionapp.bicep")
	sites := f.resourcesOf("Microsoft.Web/sites")
	if len(sites) != 1 {
		t.Fatalf("functionapp.bicep declares %d Microsoft.Web/sites, want 1", len(sites))
	}
	site := sites[0].Value.unwrap()
	list := site.prop("properties", "siteConfig", "appSettings")
	if list == nil {
		t.Fatal("functionapp.bicep: no properties.siteConfig.appSettings")
	}
	out := map[string]*bicepNode{}
	for _, o := range f.objects(list) {
		name := o.prop("name").str()
		if name == "" || o.prop("value") == nil {
			continue
		}
		if _, dup := out[name]; dup {
			t.Errorf("app setting %s is set twice", name)
		}
		out[name] = o.prop("value")
	}
	return out, site
}

// TestInfraAppSettings: every setting the handler needs in Azure is set, for
// both modes; nothing unknown, no client secret, keys only as Key Vault
// references, and the Flex site settings the design depends on.
func TestInfraAppSettings(t *testing.T) {
	settings, site := appSettings(t)
	for _, mode := range []config.Mode{config.ModeProxy, config.ModeEntra} {
		for _, name := range config.RequiredInAzure(mode) {
			if _, ok := settings[name]; !ok {
				t.Errorf("mode %s: %s is required in Azure (config.RequiredInAzure) but not in the function app's appSettings", mode, name)
			}
		}
	}
	known := append(config.Settings(), platformSettings...)
	for name := range settings {
		if !slices.Contains(known, name) {
			t.Errorf("app setting %s is neither read by the handler (config.Settings) nor a platform setting", name)
		}
	}
	for _, banned := range []string{config.EnvClientSecret, config.EnvTableConnString, "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "AzureWebJobsStorage"} {
		if _, ok := settings[banned]; ok {
			t.Errorf("app setting %s must not be set in Azure", banned)
		}
	}
	for _, name := range platformSettings {
		if _, ok := settings[name]; !ok {
			t.Errorf("platform setting %s missing", name)
		}
	}

	// Keys: Key Vault references to secrets that keys.bicep writes.
	keys := bicepFileOf(t, "keys.bicep")
	var secretNames []string
	for _, r := range keys.resourcesOf("Microsoft.KeyVault/vaults/secrets") {
		secretNames = append(secretNames, r.Value.unwrap().prop("name").str())
	}
	kvRef := regexp.MustCompile(`^'@Microsoft\.KeyVault\(SecretUri=\$\{keyVaultUri\}secrets/([a-z-]+)/\)'$`)
	f := bicepFileOf(t, "modules/functionapp.bicep")
	for _, name := range []string{config.EnvSigningKey, config.EnvSealingKey, config.EnvSigningKeyPrevious, config.EnvSealingKeyPrevious} {
		v, ok := settings[name]
		if !ok {
			t.Errorf("%s not set", name)
			continue
		}
		// secretRef.signing -> the var's property.
		ref := v
		if v.K == "member_expression" {
			parts := strings.SplitN(v.Text, ".", 2)
			ref = f.Vars[parts[0]].prop(parts[1])
		}
		m := kvRef.FindStringSubmatch(ref.src())
		if m == nil {
			t.Errorf("%s = %s, want a versionless @Microsoft.KeyVault(SecretUri=...) reference", name, ref.src())
			continue
		}
		if !slices.Contains(secretNames, m[1]) {
			t.Errorf("%s references secret %q, which keys.bicep never writes (it writes %v)", name, m[1], secretNames)
		}
	}

	// One identity everywhere.
	for _, name := range []string{config.EnvManagedIdentityID, "AZURE_CLIENT_ID", "AzureWebJobsStorage__clientId"} {
		if got := settings[name].src(); got != "identityClientId" {
			t.Errorf("%s = %s, want identityClientId (the UAMI)", name, got)
		}
	}
	if got := settings[config.EnvLogFormat].str(); got != "json" {
		t.Errorf("LOG_FORMAT = %q, want json", got)
	}

	props := site.prop("properties")
	checks := []struct{ path, want string }{
		{"httpsOnly", "true"},
		{"keyVaultReferenceIdentity", "identityId"},
		{"siteConfig.minTlsVersion", "'1.2'"},
		{"siteConfig.ftpsState", "'Disabled'"},
		{"functionAppConfig.runtime.name", "'custom'"},
		{"functionAppConfig.runtime.version", "'1.0'"},
		{"functionAppConfig.deployment.storage.authentication.type", "'UserAssignedIdentity'"},
	}
	for _, c := range checks {
		if got := props.prop(strings.Split(c.path, ".")...).src(); got != c.want {
			t.Errorf("site properties.%s = %s, want %s", c.path, got, c.want)
		}
	}
}

// TestInfraStorageAndVault: shared keys off, TLS 1.2, no public blobs, the
// table the handler defaults to, Key Vault in RBAC mode.
func TestInfraStorageAndVault(t *testing.T) {
	st := bicepFileOf(t, "modules/storage.bicep")
	accts := st.resourcesOf("Microsoft.Storage/storageAccounts")
	if len(accts) != 1 {
		t.Fatalf("storage.bicep declares %d accounts", len(accts))
	}
	p := accts[0].Value.prop("properties")
	for path, want := range map[string]string{
		"allowSharedKeyAccess":  "false",
		"allowBlobPublicAccess": "false",
		"minimumTlsVersion":     "'TLS1_2'",
	} {
		if got := p.prop(path).src(); got != want {
			t.Errorf("storage %s = %s, want %s", path, got, want)
		}
	}
	if len(st.resourcesOf("Microsoft.Storage/storageAccounts/tableServices/tables")) != 1 ||
		len(st.resourcesOf("Microsoft.Storage/storageAccounts/blobServices/containers")) != 1 {
		t.Error("storage.bicep must declare one table and one deployment container")
	}
	main := bicepFileOf(t, "main.bicep")
	cfg := loadInfraConfig(t, config.ModeProxy)
	if got := main.module("modules/storage.bicep").Value.prop("params", "tableName").str(); got != cfg.TableName {
		t.Errorf("main.bicep creates table %q, the handler's default STORAGE_TABLE_NAME is %q", got, cfg.TableName)
	}

	kv := bicepFileOf(t, "modules/keyvault.bicep")
	vaults := kv.resourcesOf("Microsoft.KeyVault/vaults")
	if len(vaults) != 1 {
		t.Fatalf("keyvault.bicep declares %d vaults", len(vaults))
	}
	vp := vaults[0].Value.prop("properties")
	if got := vp.prop("enableRbacAuthorization").src(); got != "true" {
		t.Errorf("enableRbacAuthorization = %s, want true", got)
	}
	if got := vp.prop("enablePurgeProtection").src(); !strings.Contains(got, "purgeProtection") {
		t.Errorf("enablePurgeProtection = %s, want it driven by the purgeProtection parameter", got)
	}
	if len(kv.resourcesOf("Microsoft.KeyVault/vaults/secrets")) != 0 {
		t.Error("keyvault.bicep must not declare secrets: redeploying would replace the keys (keys.bicep writes them)")
	}
	keys := bicepFileOf(t, "keys.bicep")
	keysSrc := string(mustRead(t, "infra/keys.bicep"))
	for name := range keys.Params {
		if name != "keyVaultName" && !strings.Contains(keysSrc, "@secure()\nparam "+name+" ") {
			t.Errorf("keys.bicep param %s must be @secure()", name)
		}
	}
	if len(keys.Outputs) != 0 {
		t.Error("keys.bicep must have no outputs")
	}
}

// --- (d) roles ----------------------------------------------------------------

// builtinRoles are the documented built-in role definition ids the
// deployment may grant (reference/azure.md §4.2; Key Vault RBAC guide).
var builtinRoles = map[string]string{
	"b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
	"0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
	"974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
	"4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
	"3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
}

var guidRE = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// TestInfraRoleAssignments: every role assignment uses an allow-listed
// built-in role id; the identity gets exactly the roles it needs.
func TestInfraRoleAssignments(t *testing.T) {
	granted := map[string]int{}
	for name, f := range loadBicep(t) {
		for _, r := range f.resourcesOf("Microsoft.Authorization/roleAssignments") {
			def := r.Value.unwrap().prop("properties", "roleDefinitionId")
			text := def.src()
			// roles.storageBlobDataOwner -> the id in `var roles`.
			for _, ref := range regexp.MustCompile(`\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b`).FindAllStringSubmatch(text, -1) {
				if v, ok := f.Vars[ref[1]]; ok {
					text += " " + v.prop(ref[2]).str()
				}
			}
			ids := guidRE.FindAllString(text, -1)
			if len(ids) != 1 {
				t.Errorf("%s: role assignment %s: cannot find exactly one role id in %s", name, r.Symbol, def.src())
				continue
			}
			id := strings.ToLower(ids[0])
			role, ok := builtinRoles[id]
			if !ok {
				t.Errorf("%s: role assignment %s uses %s, not an allow-listed built-in role", name, r.Symbol, id)
				continue
			}
			granted[role]++
			if n := r.Value.unwrap().prop("name").src(); !strings.HasPrefix(n, "guid(") {
				t.Errorf("%s: role assignment %s name %s: want guid(scope, principal, role) for idempotency", name, r.Symbol, n)
			}
		}
	}
	for _, role := range []string{"Storage Blob Data Owner", "Storage Table Data Contributor", "Key Vault Secrets User", "Monitoring Metrics Publisher"} {
		if granted[role] == 0 {
			t.Errorf("no role assignment grants %s", role)
		}
	}
	// Decision (rbac.bicep): HTTP-only app, the host needs no queues.
	if granted["Storage Queue Data Contributor"] != 0 {
		t.Error("Storage Queue Data Contributor granted; rbac.bicep documents why it is not needed — update both")
	}
}

// TestInfraEntraApp: the app registration the handler and the policies
// assume: v2 tokens, the API scope, the callback redirect, Graph User.Read,
// a federated credential for the UAMI, consent behind a parameter.
func TestInfraEntraApp(t *testing.T) {
	raw := string(mustRead(t, "infra/modules/entra-app.bicep"))
	if !regexp.MustCompile(`(?m)^extension microsoftGraphV1\s*$`).MatchString(raw) {
		t.Error("entra-app.bicep must start the Graph extension: extension microsoftGraphV1")
	}
	var bc struct {
		Extensions map[string]string `json:"extensions"`
	}
	if err := json.Unmarshal(mustRead(t, "infra/bicepconfig.json"), &bc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(bc.Extensions["microsoftGraphV1"], "br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:") {
		t.Errorf("bicepconfig.json microsoftGraphV1 = %q", bc.Extensions["microsoftGraphV1"])
	}

	f := bicepFileOf(t, "modules/entra-app.bicep")
	apps := f.resourcesOf("Microsoft.Graph/applications")
	if len(apps) != 1 {
		t.Fatalf("%d applications", len(apps))
	}
	app := apps[0].Value
	if got := app.prop("api", "requestedAccessTokenVersion").src(); got != "2" {
		t.Errorf("requestedAccessTokenVersion = %s, want 2 (v2 issuer and aud = client id)", got)
	}
	if got := app.prop("web", "redirectUris").src(); got != "redirectUris" {
		t.Errorf("web.redirectUris = %s", got)
	}
	// Delegated Graph User.Read (the whoami tool's On-Behalf-Of call).
	if f.Vars["graphAppId"].str() != "00000003-0000-0000-c000-000000000000" ||
		f.Vars["graphUserReadScopeId"].str() != "e1fe6dd8-ba31-4d61-89e7-88639da4683d" {
		t.Error("Graph app id or User.Read scope id changed")
	}
	rra := f.objects(app.prop("requiredResourceAccess"))
	if !slices.ContainsFunc(rra, func(o *bicepNode) bool { return o.prop("resourceAppId").src() == "graphAppId" }) ||
		!slices.ContainsFunc(rra, func(o *bicepNode) bool {
			return o.prop("id").src() == "graphUserReadScopeId" && o.prop("type").str() == "Scope"
		}) {
		t.Error("requiredResourceAccess must list Graph User.Read as a delegated (Scope) permission")
	}
	cfg := loadInfraConfig(t, config.ModeEntra)
	if def := f.Params["apiScope"].Default.str(); def != cfg.APIScope {
		t.Errorf("entra-app apiScope default %q, handler default ENTRA_API_SCOPE %q", def, cfg.APIScope)
	}
	fics := f.resourcesOf("Microsoft.Graph/applications/federatedIdentityCredentials")
	if len(fics) != 1 || fics[0].Value.prop("audiences").src() == "" ||
		!strings.Contains(fmt.Sprint(fics[0].Value.prop("audiences").Items[0].str()), "api://AzureADTokenExchange") {
		t.Error("want one federated identity credential with audience api://AzureADTokenExchange")
	}
	for _, g := range f.resourcesOf("Microsoft.Graph/oauth2PermissionGrants") {
		if g.Value.K != "if" || !strings.Contains(g.Value.Cond, "grantAdminConsent") {
			t.Errorf("oauth2PermissionGrants %s must be conditional on grantAdminConsent", g.Symbol)
		}
	}

	main := bicepFileOf(t, "main.bicep")
	p := main.module("modules/entra-app.bicep").Value.prop("params")
	if got := p.prop("redirectUris").src(); !strings.Contains(got, "'${publicBaseUrl}/callback'") {
		t.Errorf("redirect URIs %s do not include ${publicBaseUrl}/callback", got)
	}
	if !slices.ContainsFunc(endpoints, func(e endpoint) bool { return e.Path == "/callback" }) {
		t.Error("handler has no /callback endpoint")
	}
	if got := main.Vars["vsCodeClientId"].str(); got != "aebc6443-996d-45c2-90f0-388ff96faa56" {
		t.Errorf("VS Code client id = %q", got)
	}
	if got := p.prop("preAuthorizedClientIds").src(); !strings.Contains(got, "authMode == 'entra'") {
		t.Errorf("preAuthorizedClientIds = %s: VS Code is pre-authorized only in mode entra", got)
	}
}

// --- APIM --------------------------------------------------------------------

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

// policyFiles maps the keys of `var policies` in apim.bicep to the files
// they load; "" (no operation policy) maps to "".
func policyFiles(t *testing.T, f *bicepFile, mode string) map[string]string {
	t.Helper()
	load := regexp.MustCompile(`loadTextContent\('\.\./policies/([^']+)'\)`)
	out := map[string]string{"": ""}
	for k, v := range f.Vars["policies"].Props {
		files := load.FindAllStringSubmatch(v.src(), -1)
		switch {
		case len(files) == 1:
			out[k] = files[0][1]
		case len(files) == 2 && strings.Contains(v.src(), "authMode == 'proxy'"):
			// authMode == 'proxy' ? <proxy file> : <entra file>
			out[k] = files[map[string]int{"proxy": 0, "entra": 1}[mode]][1]
		default:
			t.Fatalf("policies.%s = %s: want loadTextContent of one file, or a proxy/entra choice", k, v.src())
		}
	}
	return out
}

// --- (b) policy XML -------------------------------------------------------------

// apimPolicyElements are the APIM policy elements (and their child elements)
// these files may use, from the policy reference docs. Anything else is a
// typo APIM would reject at deployment.
var apimPolicyElements = map[string]bool{
	"policies": true, "inbound": true, "backend": true, "outbound": true, "on-error": true, "base": true,
	"validate-jwt": true, "openid-config": true, "issuer-signing-keys": true, "key": true,
	"issuers": true, "issuer": true, "audiences": true, "audience": true,
	"required-claims": true, "claim": true, "value": true,
	"validate-azure-ad-token": true, "client-application-ids": true, "application-id": true, "backend-application-ids": true,
	"cors": true, "allowed-origins": true, "origin": true, "allowed-methods": true, "method": true,
	"allowed-headers": true, "header": true, "expose-headers": true,
	"rate-limit-by-key": true, "rate-limit": true, "quota-by-key": true,
	"set-header": true, "set-query-parameter": true, "set-backend-service": true, "forward-request": true,
	"return-response": true, "set-status": true, "set-body": true,
	"choose": true, "when": true, "otherwise": true, "set-variable": true,
}

type xmlElement struct {
	Name     string
	Attr     map[string]string
	Text     string
	Children []*xmlElement
}

func (e *xmlElement) find(name string) []*xmlElement {
	var out []*xmlElement
	var walk func(*xmlElement)
	walk = func(x *xmlElement) {
		if x.Name == name {
			out = append(out, x)
		}
		for _, c := range x.Children {
			walk(c)
		}
	}
	walk(e)
	return out
}

// parsePolicy parses strictly with encoding/xml (well-formedness) and
// checks every element against the allow-list.
func parsePolicy(t *testing.T, name string) *xmlElement {
	t.Helper()
	data := mustRead(t, filepath.Join("infra/policies", name))
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var stack []*xmlElement
	var root *xmlElement
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", name, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			el := &xmlElement{Name: tok.Name.Local, Attr: map[string]string{}}
			if tok.Name.Space != "" {
				t.Errorf("%s: namespaced element %s:%s", name, tok.Name.Space, tok.Name.Local)
			}
			if !apimPolicyElements[el.Name] {
				t.Errorf("%s: <%s> is not a known APIM policy element", name, el.Name)
			}
			for _, a := range tok.Attr {
				el.Attr[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					t.Fatalf("%s: more than one root element", name)
				}
				root = el
			} else {
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, el)
			}
			stack = append(stack, el)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(tok)
			}
		}
	}
	if root == nil || root.Name != "policies" {
		t.Fatalf("%s: root element must be <policies>", name)
	}
	var sections []string
	for _, c := range root.Children {
		sections = append(sections, c.Name)
	}
	if !slices.Equal(sections, []string{"inbound", "backend", "outbound", "on-error"}) {
		t.Errorf("%s: sections %v, want inbound, backend, outbound, on-error", name, sections)
	}
	return root
}

func policyNames(t *testing.T) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(infraRoot, "infra/policies/*.xml"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no infra/policies/*.xml (%v)", err)
	}
	var out []string
	for _, p := range m {
		out = append(out, filepath.Base(p))
	}
	return out
}

// TestPolicyXMLWellFormed: each policy is well-formed XML made of known
// elements, keeps <base/> where it must, and every file is loaded by Bicep.
func TestPolicyXMLWellFormed(t *testing.T) {
	apimSrc := string(mustRead(t, "infra/modules/apim.bicep"))
	for _, name := range policyNames(t) {
		root := parsePolicy(t, name)
		if !strings.Contains(apimSrc, "loadTextContent('../policies/"+name+"')") {
			t.Errorf("%s is not loaded by apim.bicep", name)
		}
		// Operation policies keep the API-level policy (<base/>) in inbound, or
		// the function key would never be added.
		if in := root.Children[0]; len(in.find("base")) != 1 {
			t.Errorf("%s: inbound must contain exactly one <base/>", name)
		}
	}
	for _, m := range regexp.MustCompile(`loadTextContent\('\.\./policies/([^']+)'\)`).FindAllStringSubmatch(apimSrc, -1) {
		if _, err := os.Stat(filepath.Join(infraRoot, "infra/policies", m[1])); err != nil {
			t.Errorf("apim.bicep loads %s: %v", m[1], err)
		}
	}
}

// corsPaths are the endpoints a browser-based client reads cross-origin
// (DESIGN §9); noCORSPaths must never be readable cross-origin.
var (
	corsPaths   = []string{"/.well-known/", "/register", "/token", "/revoke", "/mcp"}
	noCORSPaths = []string{"/authorize", "/consent", "/callback"}
)

func isCORSPath(p string) bool {
	return slices.ContainsFunc(corsPaths, func(c string) bool { return p == c || strings.HasPrefix(p, c) && strings.HasSuffix(c, "/") })
}

// TestPolicyCORSPlacement: CORS per operation, exactly where DESIGN §9 says.
func TestPolicyCORSPlacement(t *testing.T) {
	if cors := parsePolicy(t, "api.xml").find("cors"); len(cors) != 0 {
		t.Error("api.xml (API level) must not contain <cors>: it would apply to /authorize, /consent and /callback")
	}
	ops, f := apimOperations(t)
	for _, mode := range []string{"proxy", "entra"} {
		files := policyFiles(t, f, mode)
		for _, op := range ops {
			file, ok := files[op.Policy]
			if !ok {
				t.Errorf("operation %s uses unknown policy %q", op.Name, op.Policy)
				continue
			}
			var cors []*xmlElement
			if file != "" {
				cors = parsePolicy(t, file).find("cors")
			}
			switch {
			case slices.Contains(noCORSPaths, op.URLTemplate):
				if len(cors) != 0 {
					t.Errorf("%s %s must have no CORS (%s)", op.Method, op.URLTemplate, file)
				}
			case isCORSPath(op.URLTemplate):
				if len(cors) != 1 {
					t.Errorf("[%s] %s %s needs CORS; policy %q has %d <cors>", mode, op.Method, op.URLTemplate, file, len(cors))
					continue
				}
				checkCORS(t, file, cors[0], op.Method)
			}
		}
	}
}

func checkCORS(t *testing.T, file string, c *xmlElement, method string) {
	t.Helper()
	if c.Attr["allow-credentials"] != "false" {
		t.Errorf("%s: cors allow-credentials must be false with origin *", file)
	}
	text := func(name string) []string {
		var out []string
		for _, e := range c.find(name) {
			out = append(out, strings.TrimSpace(e.Text))
		}
		return out
	}
	if o := text("origin"); !slices.Equal(o, []string{"*"}) {
		t.Errorf("%s: origins %v, want [*]", file, o)
	}
	var exposed []string
	for _, e := range c.find("expose-headers") {
		for _, h := range e.find("header") {
			exposed = append(exposed, strings.TrimSpace(h.Text))
		}
	}
	for _, h := range []string{"WWW-Authenticate", "Mcp-Session-Id"} {
		if !slices.Contains(exposed, h) {
			t.Errorf("%s: CORS must expose %s", file, h)
		}
	}
	if m := text("method"); !slices.Contains(m, method) && method != "HEAD" || !slices.Contains(m, "OPTIONS") {
		t.Errorf("%s: allowed methods %v lack %s or OPTIONS", file, m, method)
	}
}

// TestPolicyRateLimits: /register and /token are limited per client IP, /mcp
// per token subject.
func TestPolicyRateLimits(t *testing.T) {
	ops, f := apimOperations(t)
	for _, mode := range []string{"proxy", "entra"} {
		files := policyFiles(t, f, mode)
		for _, op := range ops {
			var limits []*xmlElement
			if files[op.Policy] != "" {
				limits = parsePolicy(t, files[op.Policy]).find("rate-limit-by-key")
			}
			key := ""
			if len(limits) == 1 {
				key = limits[0].Attr["counter-key"]
			}
			switch {
			case op.Method == "POST" && (op.URLTemplate == "/register" || op.URLTemplate == "/token"):
				if !strings.Contains(key, "context.Request.IpAddress") {
					t.Errorf("POST %s: want rate-limit-by-key on context.Request.IpAddress, got %q", op.URLTemplate, key)
				}
			case op.URLTemplate == "/mcp" && op.Method != "OPTIONS":
				if !strings.Contains(key, `context.Variables["jwt"]`) || !strings.Contains(key, ".Subject") {
					t.Errorf("[%s] %s /mcp: want rate-limit-by-key on the validated token's subject, got %q", mode, op.Method, key)
				}
			}
		}
	}
}

// --- (c) /mcp policy against the handler -------------------------------------

// loadInfraConfig loads the handler configuration as it would run behind a
// gateway with a fake base URL, outside Azure (so a client secret is allowed).
func loadInfraConfig(t *testing.T, mode config.Mode) config.Config {
	t.Helper()
	env := infraFakeEnv(mode)
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func infraFakeEnv(mode config.Mode) map[string]string {
	return map[string]string{
		config.EnvPublicBaseURL: "https://apim-test.azure-api.net",
		config.EnvAuthMode:      string(mode),
		config.EnvTenantID:      "11111111-1111-4111-8111-111111111111",
		config.EnvClientID:      "22222222-2222-4222-8222-222222222222",
		config.EnvAppIDURI:      "api://11111111-1111-4111-8111-111111111111/mcp-test",
		config.EnvAPIScope:      "user_impersonation",
		config.EnvAuthorityHost: "https://login.microsoftonline.com",
		config.EnvMCPScope:      "mcp:tools",
		config.EnvClientSecret:  "test-only",
	}
}

// namedValueSettings maps each APIM named value to the app setting that
// carries the same value, by tracing both back to main.bicep: apim.bicep
// sets named value N from its param P, functionapp.bicep sets app setting S
// from its param Q, and main.bicep passes the same expression as P and Q.
func namedValueSettings(t *testing.T) (map[string]string, []string) {
	t.Helper()
	apim := bicepFileOf(t, "modules/apim.bicep")
	main := bicepFileOf(t, "main.bicep")
	apimArgs := main.module("modules/apim.bicep").Value.prop("params")
	fnArgs := main.module("modules/functionapp.bicep").Value.prop("params")
	settings, _ := appSettings(t)

	settingByArg := map[string]string{} // main.bicep expression -> app setting
	for name, v := range settings {
		if v.K == "identifier" && fnArgs.prop(v.Text) != nil {
			settingByArg[fnArgs.prop(v.Text).src()] = name
		}
	}
	out := map[string]string{}
	var all []string
	for _, r := range apim.resourcesOf("Microsoft.ApiManagement/service/namedValues") {
		if r.Value.K != "for" {
			all = append(all, r.Value.prop("name").str())
			continue
		}
		for _, o := range apim.objects(r.Value.Iter) {
			name, v := o.prop("name").str(), o.prop("value")
			all = append(all, name)
			if v.K != "identifier" || apimArgs.prop(v.Text) == nil {
				t.Errorf("named value %s = %s: want a module parameter", name, v.src())
				continue
			}
			arg := apimArgs.prop(v.Text).src()
			s, ok := settingByArg[arg]
			if !ok {
				t.Errorf("named value %s = %s (main.bicep: %s) equals no app setting of the function app", name, v.Text, arg)
				continue
			}
			out[name] = s
		}
	}
	return out, all
}

var namedValueRE = regexp.MustCompile(`\{\{([^{}]+)\}\}`)

// TestPolicyNamedValuesDefined: every {{named value}} a policy uses is
// declared in apim.bicep, and every declared one is used.
func TestPolicyNamedValuesDefined(t *testing.T) {
	_, defined := namedValueSettings(t)
	used := map[string]bool{}
	for _, name := range policyNames(t) {
		for _, m := range namedValueRE.FindAllStringSubmatch(string(mustRead(t, "infra/policies/"+name)), -1) {
			used[m[1]] = true
			if !slices.Contains(defined, m[1]) {
				t.Errorf("%s uses {{%s}}, which apim.bicep does not define (defined: %v)", name, m[1], defined)
			}
		}
	}
	for _, d := range defined {
		if !used[d] {
			t.Errorf("named value %s is defined but no policy uses it", d)
		}
	}
	if !used["function-host-key"] {
		t.Error("no policy sends the function key")
	}
}

// TestPolicyMCPMatchesHandler: the /mcp policy of each mode validates what the
// handler issues or accepts, and its 401 is byte-for-byte the handler's
// challenge (internal/resource.Challenge.Header), with error= only when a
// token was sent.
func TestPolicyMCPMatchesHandler(t *testing.T) {
	nvSetting, _ := namedValueSettings(t)
	_, f := apimOperations(t)
	for _, mode := range []config.Mode{config.ModeProxy, config.ModeEntra} {
		t.Run(string(mode), func(t *testing.T) {
			cfg := loadInfraConfig(t, mode)
			env := infraFakeEnv(mode)
			render := func(s string) string {
				return namedValueRE.ReplaceAllStringFunc(s, func(m string) string {
					nv := m[2 : len(m)-2]
					setting, ok := nvSetting[nv]
					if !ok {
						t.Errorf("{{%s}} carries no app setting value, cannot compare with the handler", nv)
						return m
					}
					return env[setting]
				})
			}
			file := policyFiles(t, f, string(mode))["mcp"]
			root := parsePolicy(t, file)

			jwts := root.find("validate-jwt")
			if len(jwts) != 1 {
				t.Fatalf("%s: want exactly one validate-jwt, got %d", file, len(jwts))
			}
			v := jwts[0]
			for attr, want := range map[string]string{
				"header-name": "Authorization", "require-scheme": "Bearer", "require-expiration-time": "true",
				"require-signed-tokens": "true", "failed-validation-httpcode": "401", "output-token-variable-name": "jwt",
			} {
				if v.Attr[attr] != want {
					t.Errorf("validate-jwt %s=%q, want %q", attr, v.Attr[attr], want)
				}
			}
			oc := v.find("openid-config")
			if len(oc) != 1 {
				t.Fatal("validate-jwt needs one openid-config")
			}
			ocURL := render(oc[0].Attr["url"])
			var issuers, audiences []string
			for _, e := range v.find("issuer") {
				issuers = append(issuers, render(strings.TrimSpace(e.Text)))
			}
			for _, e := range v.find("audience") {
				audiences = append(audiences, render(strings.TrimSpace(e.Text)))
			}
			switch mode {
			case config.ModeProxy:
				path, ok := strings.CutPrefix(ocURL, cfg.PublicBaseURL)
				if !ok || !slices.ContainsFunc(endpoints, func(e endpoint) bool { return e.Path == path && slices.Contains(e.Methods, "GET") }) {
					t.Errorf("openid-config %s is not a GET endpoint the handler serves under PUBLIC_BASE_URL", ocURL)
				}
				if path != "/.well-known/openid-configuration" {
					t.Errorf("openid-config path %s, want /.well-known/openid-configuration", path)
				}
				if !slices.Equal(issuers, []string{cfg.PublicBaseURL}) {
					t.Errorf("issuers %v, want [%s] (our issuer = PUBLIC_BASE_URL)", issuers, cfg.PublicBaseURL)
				}
				if !slices.Equal(audiences, []string{cfg.ResourceURL()}) {
					t.Errorf("audiences %v, want [%s] (our tokens' aud)", audiences, cfg.ResourceURL())
				}
			case config.ModeEntra:
				if ocURL != cfg.EntraIssuer()+"/.well-known/openid-configuration" {
					t.Errorf("openid-config %s, want the tenant's v2 discovery document", ocURL)
				}
				if !slices.Equal(issuers, []string{cfg.EntraIssuer()}) {
					t.Errorf("issuers %v, want [%s]", issuers, cfg.EntraIssuer())
				}
				if !slices.Contains(audiences, cfg.ClientID) || !slices.Contains(audiences, cfg.AppIDURI) {
					t.Errorf("audiences %v, want the client id %s and the app id URI %s", audiences, cfg.ClientID, cfg.AppIDURI)
				}
			}

			// The 401 challenges.
			ch := resource.Challenge{ResourceMetadataURL: cfg.ResourceMetadataURL(), Scopes: cfg.RequiredScopes()}
			whens := root.Children[3].find("when")
			if len(whens) != 2 {
				t.Fatalf("on-error: want two <when> (no token / bad token), got %d", len(whens))
			}
			for i, w := range whens {
				cond := w.Attr["condition"]
				if !strings.Contains(cond, `context.LastError.Source == "validate-jwt"`) {
					t.Errorf("when %d: condition %q does not check the validate-jwt source", i, cond)
				}
				noToken := strings.Contains(cond, `context.LastError.Reason == "TokenNotPresent"`)
				if noToken != (i == 0) {
					t.Errorf("when %d: condition %q; the first branch must be TokenNotPresent, the second any other failure", i, cond)
				}
				want := ch.Header("invalid_token")
				if noToken {
					want = ch.Header("")
				}
				var got []string
				statusOK := false
				for _, rr := range w.find("return-response") {
					for _, s := range rr.find("set-status") {
						statusOK = s.Attr["code"] == "401"
					}
					for _, h := range rr.find("set-header") {
						if strings.EqualFold(h.Attr["name"], "WWW-Authenticate") {
							for _, val := range h.find("value") {
								got = append(got, render(strings.TrimSpace(val.Text)))
							}
						}
					}
				}
				if !statusOK {
					t.Errorf("when %d: return-response must set status 401", i)
				}
				if !slices.Equal(got, []string{want}) {
					t.Errorf("when %d: WWW-Authenticate\n got %q\nwant %q (handler's challenge)", i, got, want)
				}
			}

			fwd := root.Children[1].find("forward-request")
			if len(fwd) != 1 || fwd[0].Attr["buffer-response"] != "false" {
				t.Error(`/mcp backend must forward with buffer-response="false" (streaming)`)
			}
			if len(fwd) == 1 && fwd[0].Attr["fail-on-error-status-code"] == "true" {
				t.Error("fail-on-error-status-code would replace the handler's own 401/403 challenges")
			}
			if len(root.Children[1].find("base")) != 0 {
				t.Error("/mcp backend must not include <base/>: the default forward-request buffers")
			}
		})
	}
}

// --- (d) azure.yaml, parameters, scripts -------------------------------------------

// TestInfraAzureYAML: azure.yaml declares the api service as a Functions app
// packaged from build/app, and every hook runs a script that exists.
// There is no YAML parser in go.mod, so this reads the few lines it needs.
func TestInfraAzureYAML(t *testing.T) {
	raw := string(mustRead(t, "azure.yaml"))
	for _, line := range strings.Split(raw, "\n") {
		if strings.Contains(line, "\t") {
			t.Errorf("azure.yaml: tab in %q (YAML indentation is spaces)", line)
		}
	}
	for _, want := range []string{"\nname: ", "\nservices:\n  api:\n", "    host: function\n", "    language: custom\n", "    dist: build/app\n", "    project: .\n", "\ninfra:\n", "  path: infra\n", "  module: main\n"} {
		if !strings.Contains(raw, want) {
			t.Errorf("azure.yaml lacks %q", strings.TrimSpace(want))
		}
	}
	runs := regexp.MustCompile(`(?m)^\s+run:\s*(\S+)`).FindAllStringSubmatch(raw, -1)
	if len(runs) < 3 {
		t.Errorf("azure.yaml: want prepackage, preprovision and postprovision hooks, found %d run lines", len(runs))
	}
	for _, r := range runs {
		st, err := os.Stat(filepath.Join(infraRoot, r[1]))
		if err != nil {
			t.Errorf("azure.yaml runs %s: %v", r[1], err)
			continue
		}
		if st.Mode()&0o111 == 0 {
			t.Errorf("azure.yaml runs %s, which is not executable", r[1])
		}
	}
	if !strings.Contains(raw, "scripts/build.sh build/app") {
		t.Error("the prepackage hook must stage build/app with scripts/build.sh")
	}

	// main.parameters.json: valid JSON, only real parameters, every required one.
	var pf struct {
		Parameters map[string]struct {
			Value any `json:"value"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(mustRead(t, "infra/main.parameters.json"), &pf); err != nil {
		t.Fatalf("infra/main.parameters.json: %v", err)
	}
	main := bicepFileOf(t, "main.bicep")
	for name := range pf.Parameters {
		if _, ok := main.Params[name]; !ok {
			t.Errorf("main.parameters.json sets %s, which main.bicep does not declare", name)
		}
	}
	for name, p := range main.Params {
		if _, ok := pf.Parameters[name]; p.Default == nil && !ok {
			t.Errorf("main.bicep param %s has no default and no value in main.parameters.json", name)
		}
	}
	for _, name := range []string{"environmentName", "location", "principalId"} {
		if v := fmt.Sprint(pf.Parameters[name].Value); !strings.HasPrefix(v, "${AZURE_") {
			t.Errorf("main.parameters.json %s = %q, want an azd ${AZURE_...} value", name, v)
		}
	}
}

// TestInfraScripts: the shell scripts parse, reference files that exist, and
// keep key material off command lines and out of output.
func TestInfraScripts(t *testing.T) {
	scripts := []string{"scripts/deploy.sh", "infra/scripts/keys.sh"}
	if bash, err := exec.LookPath("bash"); err == nil {
		for _, s := range scripts {
			if out, err := exec.Command(bash, "-n", filepath.Join(infraRoot, s)).CombinedOutput(); err != nil {
				t.Errorf("bash -n %s: %v\n%s", s, err, out)
			}
		}
	}
	deploy := string(mustRead(t, "scripts/deploy.sh"))
	for _, ref := range []string{"scripts/build.sh", "infra/main.bicep", "infra/scripts/keys.sh"} {
		if !strings.Contains(deploy, ref) {
			t.Errorf("deploy.sh does not use %s", ref)
		}
		if _, err := os.Stat(filepath.Join(infraRoot, ref)); err != nil {
			t.Error(err)
		}
	}
	for _, flag := range []string{"--rotate-keys", "--what-if", "az deployment sub create", "func azure functionapp publish"} {
		if !strings.Contains(deploy, flag) {
			t.Errorf("deploy.sh lacks %s", flag)
		}
	}
	keys := string(mustRead(t, "infra/scripts/keys.sh"))
	if !strings.Contains(keys, "infra/keys.bicep") || !strings.Contains(keys, `-p "@$tmp/`) {
		t.Error("keys.sh must deploy infra/keys.bicep from a parameters file")
	}
	// Key variables may only reach the parameters file.
	leak := regexp.MustCompile(`(?m)^[^#\n]*\b(echo|log|die)\b[^\n]*\$\{?(signing|sealing|signing_prev|sealing_prev)\b`)
	if m := leak.FindString(keys); m != "" {
		t.Errorf("keys.sh may print key material: %q", strings.TrimSpace(m))
	}
	if regexp.MustCompile(`-p\s+\S*(signingKey|sealingKey)=`).MatchString(keys + deploy) {
		t.Error("key values passed as command-line parameters (visible in the process list)")
	}
	if !strings.Contains(keys, "set +x") {
		t.Error("keys.sh must turn tracing off")
	}
}

// TestInfraKeyFormats runs the key generators of infra/scripts/keys.sh (the
// functions themselves, cut from the script) and parses their output the way
// the handler parses SIGNING_KEY and SEALING_KEY.
func TestInfraKeyFormats(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	script := string(mustRead(t, "infra/scripts/keys.sh"))
	fn := func(name string) string {
		m := regexp.MustCompile(`(?ms)^` + name + `\(\) \{\n.*?^\}\n`).FindString(script)
		if m == "" {
			t.Fatalf("keys.sh has no function %s", name)
		}
		return m
	}
	gen := func(name string) string {
		out, err := exec.Command(bash, "-c", "set -euo pipefail\n"+fn(name)+name).Output()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return string(out)
	}
	s1, s2 := gen("new_signing_key"), gen("new_signing_key")
	if s1 == s2 {
		t.Error("two signing keys are equal")
	}
	if _, err := tokens.ParseSigningKey(s1); err != nil {
		t.Errorf("the handler rejects keys.sh's signing key: %v", err)
	}
	k := gen("new_sealing_key")
	if _, err := tokens.ParseSealingKey(k); err != nil {
		t.Errorf("the handler rejects keys.sh's sealing key: %v", err)
	}
	for _, v := range []string{s1, k} {
		if strings.ContainsAny(v, "\n\"\\") {
			t.Error("generated keys must be one line without JSON-special characters (they are written into a JSON parameters file unescaped)")
		}
	}
}

func mustRead(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(infraRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
