// Entry point for `azd up` / `azd provision` and scripts/deploy.sh.
// Subscription scope: creates the resource group, then everything in it.
//
// Order (no cycles): the APIM gateway URL is computed from its name up front,
// so the Entra app (redirect URI <gateway>/callback) and the Function App
// (PUBLIC_BASE_URL) can use it before APIM exists; APIM comes last because its
// named value reads the Function App's host key.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and feeds resourceToken.')
param environmentName string

@minLength(1)
@description('Azure region for every resource. Must offer Flex Consumption and API Management BasicV2.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the deploying user or pipeline (azd: AZURE_PRINCIPAL_ID). Gets read access to the key secrets, for rotation.')
param principalId string = ''

@allowed([ 'User', 'ServicePrincipal' ])
param principalType string = 'User'

@description('Resource group name; default rg-<environmentName>.')
param resourceGroupName string = ''

@allowed([ 'proxy', 'entra' ])
@description('proxy: this server is the OAuth authorization server (every MCP client works). entra: clients get Entra tokens directly (VS Code).')
param authMode string = 'proxy'

@description('Scope our authorization server issues for /mcp (MCP_SCOPE, proxy mode).')
param mcpScope string = 'mcp:tools'

@description('Delegated scope exposed by the Entra app (ENTRA_API_SCOPE).')
param apiScope string = 'user_impersonation'

@description('Grant tenant-wide admin consent for Graph User.Read and the API scope. Needs an admin role for the deployer.')
param grantAdminConsent bool = false

@description('Mode entra only: pre-authorize VS Code (aebc6443-996d-45c2-90f0-388ff96faa56) for the API scope so users see no consent prompt.')
param preAuthorizeVSCode bool = true

@description('App ID URI of the Entra app. Empty: api://<tenant>/mcp-<token>. Set api://<app id> where the tenant enforces the nonDefaultUriAddition identifier-URI restriction (infra/README.md, troubleshooting).')
param entraAppIdUri string = ''

@description('Extra web redirect URIs for the Entra app, e.g. http://localhost:7071/callback for func start against this app registration.')
param extraRedirectUris array = []

@description('Browser origins that may call /mcp (ALLOWED_ORIGINS), as browsers send them: e.g. [ \'http://localhost:6274\' ] for MCP Inspector. Empty: no browser client; clients without an Origin header are not affected.')
param allowedOrigins array = []

@description('Turn on Key Vault purge protection (irreversible). Off: azd down --purge can remove the vault.')
param keyVaultPurgeProtection bool = false

@description('Set by the scripts when the *-previous key secrets exist (after a rotation).')
param keysHavePrevious bool = false

@description('APIM publisher e-mail (required by APIM; used for service notifications).')
param apimPublisherEmail string = 'mcp-admin@example.com'
param apimPublisherName string = 'MCP server on Azure Functions'

@description('Host name suffix of APIM gateways in this cloud (azure-api.net in the public cloud).')
param apimGatewayDomain string = 'azure-api.net'

@allowed([ 'debug', 'info', 'warn', 'error' ])
param logLevel string = 'info'

@allowed([ 512, 2048, 4096 ])
param instanceMemoryMB int = 512

@description('OTLP/HTTP endpoint of an OpenTelemetry Collector for traces (README "Traces"); empty: off.')
param otlpEndpoint string = ''
@secure()
@description('Headers for the OTLP endpoint (OTEL_EXPORTER_OTLP_HEADERS), e.g. its API key.')
param otlpHeaders string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }

var names = {
  resourceGroup: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  logAnalytics: 'log-${resourceToken}'
  appInsights: 'appi-${resourceToken}'
  identity: 'id-${resourceToken}'
  storage: 'st${resourceToken}'
  keyVault: 'kv-${resourceToken}'
  plan: 'plan-${resourceToken}'
  functionApp: 'func-${resourceToken}'
  apim: 'apim-${resourceToken}'
  entraApp: 'mcp-${resourceToken}'
}

// The gateway URL of a service named N is https://N.<apimGatewayDomain>:
// known before APIM exists, which breaks the APIM -> Function App -> Entra app
// -> APIM cycle. It is PUBLIC_BASE_URL, the issuer and the base of every
// public URL; apim.outputs.gatewayUrl must equal it (output below).
var publicBaseUrl = 'https://${names.apim}.${apimGatewayDomain}'

// App ID URI. The default, api://<tenant>/<name>, is known before the app
// exists, stays unique per environment, and satisfies the
// uriAdditionWithoutUniqueTenantIdentifier restriction (it contains the
// tenant id). It is refused where the tenant's app management policy
// enforces the stricter nonDefaultUriAddition restriction, which allows only
// api://<appId> and api://<tenant>/<appId> for new URIs (unless the policy
// exempts the app or the deployer, or excludes apps that request v2 tokens,
// as this one does): https://learn.microsoft.com/graph/api/resources/identifieruriconfiguration,
// https://learn.microsoft.com/entra/identity-platform/identifier-uri-restrictions.
// The appId is unknown until the app exists, so that fallback takes a second
// step: entraAppIdUri (infra/README.md, troubleshooting). https URIs on
// *.azure-api.net are refused everywhere (unverified domain; AADSTS500011
// when used as a scope).
var appIdUri = empty(entraAppIdUri) ? 'api://${tenant().tenantId}/${names.entraApp}' : entraAppIdUri

// One string for the app setting ALLOWED_ORIGINS and the APIM named value
// mcp-allowed-origins, which may not be empty: the origins between commas,
// ",," for none. The handler skips the empty entries; the /mcp policies
// split on the commas and compare each entry with Origin.
var allowedOriginsList = ',${join(allowedOrigins, ',')},'

var loginEndpoint = environment().authentication.loginEndpoint
var authorityHost = endsWith(loginEndpoint, '/') ? substring(loginEndpoint, 0, length(loginEndpoint) - 1) : loginEndpoint

var vsCodeClientId = 'aebc6443-996d-45c2-90f0-388ff96faa56'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
  }
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    location: location
    tags: tags
    name: names.identity
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    location: location
    tags: tags
    name: names.storage
    deploymentContainerName: 'app-package'
    tableName: 'oauthstate'
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    location: location
    tags: tags
    name: names.keyVault
    purgeProtection: keyVaultPurgeProtection
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    identityPrincipalId: identity.outputs.principalId
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
  }
}

module entraApp 'modules/entra-app.bicep' = {
  name: 'entra-app'
  scope: rg
  params: {
    uniqueName: names.entraApp
    displayName: 'MCP server (${environmentName})'
    identifierUri: appIdUri
    apiScope: apiScope
    redirectUris: concat([ '${publicBaseUrl}/callback' ], extraRedirectUris)
    identityPrincipalId: identity.outputs.principalId
    federationIssuer: '${loginEndpoint}${tenant().tenantId}/v2.0'
    preAuthorizedClientIds: authMode == 'entra' && preAuthorizeVSCode ? [ vsCodeClientId ] : []
    grantAdminConsent: grantAdminConsent
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  params: {
    location: location
    tags: tags
    planName: names.plan
    appName: names.functionApp
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    storageTableEndpoint: storage.outputs.tableEndpoint
    storageTableName: storage.outputs.tableName
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    keyVaultUri: keyVault.outputs.uri
    keysHavePrevious: keysHavePrevious
    publicBaseUrl: publicBaseUrl
    authMode: authMode
    tenantId: tenant().tenantId
    clientId: entraApp.outputs.appId
    appIdUri: appIdUri
    apiScope: apiScope
    authorityHost: authorityHost
    mcpScope: mcpScope
    allowedOrigins: allowedOriginsList
    logLevel: logLevel
    instanceMemoryMB: instanceMemoryMB
    otlpEndpoint: otlpEndpoint
    otlpHeaders: otlpHeaders
  }
  // The app must be able to read its package, storage and secrets on first start.
  dependsOn: [
    rbac
  ]
}

module apim 'modules/apim.bicep' = {
  name: 'apim'
  scope: rg
  params: {
    location: location
    tags: tags
    name: names.apim
    publisherEmail: apimPublisherEmail
    publisherName: apimPublisherName
    functionAppName: functionApp.outputs.name
    authMode: authMode
    publicBaseUrl: publicBaseUrl
    mcpScope: mcpScope
    tenantId: tenant().tenantId
    clientId: entraApp.outputs.appId
    appIdUri: appIdUri
    apiScope: apiScope
    authorityHost: authorityHost
    allowedOrigins: allowedOriginsList
  }
}

// UPPER_SNAKE outputs become azd environment values (and hook variables).
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_APIM_NAME string = apim.outputs.name
output AUTH_MODE string = authMode
output PUBLIC_BASE_URL string = publicBaseUrl
output APIM_GATEWAY_URL string = apim.outputs.gatewayUrl
output MCP_URL string = '${publicBaseUrl}/mcp'
output MCP_PRM_URL string = '${publicBaseUrl}/.well-known/oauth-protected-resource/mcp'
output ENTRA_CLIENT_ID string = entraApp.outputs.appId
output ENTRA_APP_ID_URI string = appIdUri
