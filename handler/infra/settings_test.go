package infra

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
)

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

	// The collector: GOGC as the handler's default, GOMEMLIMIT half the
	// instance memory (a size the Go runtime parses: <n>MiB).
	if got, want := settings[config.EnvGOGC].str(), strconv.Itoa(config.DefaultGCPercent); got != want {
		t.Errorf("GOGC = %q, want the handler's default %s (config.DefaultGCPercent)", got, want)
	}
	if got := settings[config.EnvGOMEMLIMIT].src(); got != "'${instanceMemoryMB / 2}MiB'" {
		t.Errorf("GOMEMLIMIT = %s, want '${instanceMemoryMB / 2}MiB'", got)
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

// builtinRoles are the documented built-in role definition ids the deployment
// may grant
// (learn.microsoft.com/azure/role-based-access-control/built-in-roles;
// learn.microsoft.com/azure/key-vault/general/rbac-guide).
var builtinRoles = map[string]string{
	"b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
	"0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
	"974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
	"4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
	"3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
}

var guidRE = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// roleScopes is the resource type each role is granted on. Storage Table
// Data Contributor is on the account, not only the oauthstate table: the
// Functions host writes its diagnostic events to tables it creates in its
// AzureWebJobsStorage account
// (https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity).
var roleScopes = map[string]string{
	"Storage Blob Data Owner":        "Microsoft.Storage/storageAccounts",
	"Storage Table Data Contributor": "Microsoft.Storage/storageAccounts",
	"Key Vault Secrets User":         "Microsoft.KeyVault/vaults",
	"Monitoring Metrics Publisher":   "Microsoft.Insights/components",
}

// TestInfraRoleAssignments: every role assignment uses an allow-listed
// built-in role id on the resource type it belongs to; the identity gets
// exactly the roles it needs.
func TestInfraRoleAssignments(t *testing.T) {
	granted := map[string]int{}
	for name, f := range loadBicep(t) {
		typeOf := map[string]string{}
		for _, r := range f.Resources {
			typeOf[r.Symbol] = strings.SplitN(r.Type, "@", 2)[0]
		}
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
			scope := r.Value.unwrap().prop("scope").src()
			if got := typeOf[scope]; got != roleScopes[role] {
				t.Errorf("%s: role assignment %s grants %s on %s (%s), want a %s", name, r.Symbol, role, scope, got, roleScopes[role])
			}
			if n := r.Value.unwrap().prop("name").src(); !strings.HasPrefix(n, "guid("+scope+".id,") {
				t.Errorf("%s: role assignment %s name %s: want guid(%s.id, principal, role) for idempotency", name, r.Symbol, n, scope)
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
// assume: v2 tokens, the API scope, the callback redirect, the Graph
// permissions of the default TOOL_SCOPES,
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
	// The delegated Graph permissions the default TOOL_SCOPES maps the tools'
	// scopes to must be requested by the app registration, so Entra can ask
	// users for them. The ids are Microsoft Graph's published permission ids.
	graphPermissionVars := map[string]struct{ name, id string }{
		"https://graph.microsoft.com/User.Read": {"graphUserReadScopeId", "e1fe6dd8-ba31-4d61-89e7-88639da4683d"},
		"https://graph.microsoft.com/Mail.Read": {"graphMailReadScopeId", "570282fd-fa5c-430d-a7fd-fc8dc98a9dca"},
	}
	if f.Vars["graphAppId"].str() != "00000003-0000-0000-c000-000000000000" {
		t.Error("Graph app id changed")
	}
	rra := f.objects(app.prop("requiredResourceAccess"))
	if !slices.ContainsFunc(rra, func(o *bicepNode) bool { return o.prop("resourceAppId").src() == "graphAppId" }) {
		t.Error("requiredResourceAccess must name Microsoft Graph (graphAppId)")
	}
	var access []*bicepNode
	for _, o := range rra {
		access = append(access, f.objects(o.prop("resourceAccess"))...)
	}
	for _, ts := range loadInfraConfig(t, config.ModeProxy).ToolScopes {
		for _, perm := range ts.Permissions {
			v, ok := graphPermissionVars[perm]
			if !ok {
				t.Errorf("TOOL_SCOPES default maps %s to %s: add its Graph permission id here and to entra-app.bicep", ts.Name, perm)
				continue
			}
			if f.Vars[v.name].str() != v.id {
				t.Errorf("entra-app.bicep: %s = %q, want %s (%s)", v.name, f.Vars[v.name].str(), v.id, perm)
			}
			if !slices.ContainsFunc(access, func(o *bicepNode) bool { return o.prop("id").src() == v.name && o.prop("type").str() == "Scope" }) {
				t.Errorf("requiredResourceAccess must list %s (%s) as a delegated (Scope) permission", perm, v.name)
			}
		}
	}
	cfg := loadInfraConfig(t, config.ModeEntra)
	if def := f.Params["apiScope"].Default.str(); def != cfg.APIScope {
		t.Errorf("entra-app apiScope default %q, handler default ENTRA_API_SCOPE %q", def, cfg.APIScope)
	}
	// Mode entra challenges with api://<app>/<name> for every tool scope
	// beyond the base one (config.ChallengeScope): the app must expose each.
	var want, exposed []string
	for _, ts := range cfg.ToolScopes {
		if ts.Name != cfg.MCPScope {
			want = append(want, ts.Name)
		}
	}
	if p, ok := f.Params["toolScopes"]; ok && p.Default != nil {
		for _, it := range p.Default.Items {
			exposed = append(exposed, it.str())
		}
	}
	if !slices.Equal(exposed, want) {
		t.Errorf("entra-app toolScopes default %q, want the default TOOL_SCOPES beyond %s: %q", exposed, cfg.MCPScope, want)
	}
	if got := app.prop("api", "oauth2PermissionScopes").src(); !strings.Contains(got, "toolPermissionScopes") {
		t.Errorf("oauth2PermissionScopes = %s: the app must expose toolScopes", got)
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
	if !slices.ContainsFunc(surface(t), func(e endpoint) bool { return e.Path == "/callback" }) {
		t.Error("handler has no /callback endpoint")
	}
	if got := main.Vars["vsCodeClientId"].str(); got != "aebc6443-996d-45c2-90f0-388ff96faa56" {
		t.Errorf("VS Code client id = %q", got)
	}
	if got := p.prop("preAuthorizedClientIds").src(); !strings.Contains(got, "authMode == 'entra'") {
		t.Errorf("preAuthorizedClientIds = %s: VS Code is pre-authorized only in mode entra", got)
	}

	// One App ID URI everywhere: the app's identifier, ENTRA_APP_ID_URI and
	// the APIM named value. api://<tenant>/<name> by default; entraAppIdUri
	// (api://<app id>) where nonDefaultUriAddition refuses that form.
	if got := main.Vars["appIdUri"].src(); got != "empty(entraAppIdUri) ? 'api://${tenant().tenantId}/${names.entraApp}' : entraAppIdUri" {
		t.Errorf("appIdUri = %s", got)
	}
	if _, ok := main.Params["entraAppIdUri"]; !ok || main.Params["entraAppIdUri"].Default.str() != "" {
		t.Error("main.bicep needs param entraAppIdUri, default ''")
	}
	args := map[string]string{
		"modules/entra-app.bicep":   p.prop("identifierUri").src(),
		"modules/functionapp.bicep": main.module("modules/functionapp.bicep").Value.prop("params", "appIdUri").src(),
		"modules/apim.bicep":        main.module("modules/apim.bicep").Value.prop("params", "appIdUri").src(),
	}
	for mod, got := range args {
		if got != "appIdUri" {
			t.Errorf("%s gets App ID URI %q, want appIdUri", mod, got)
		}
	}
}

// --- APIM --------------------------------------------------------------------
