// Flex Consumption plan + Function App running the Go binary as a custom
// handler. Every setting the handler reads in Azure is set here (see
// handler/internal/config: RequiredInAzure); handler/infra checks the list.

param location string
param tags object
param planName string
param appName string

@description('Resource id and client id of the user-assigned identity the app runs as.')
param identityId string
param identityClientId string

param storageAccountName string
param storageBlobEndpoint string
param deploymentContainerName string
param storageTableEndpoint string
param storageTableName string

param appInsightsConnectionString string
param keyVaultUri string

@description('Add SIGNING_KEY_PREVIOUS / SEALING_KEY_PREVIOUS references (set by the scripts once a rotation created the *-previous secrets).')
param keysHavePrevious bool

// Handler configuration (names as in handler/internal/config).
param publicBaseUrl string
@allowed([ 'proxy', 'entra' ])
param authMode string
param tenantId string
param clientId string
param appIdUri string
param apiScope string
param authorityHost string
param mcpScope string
@description('ALLOWED_ORIGINS: the browser origins that may call /mcp, between commas (main.bicep).')
param allowedOrigins string
param logLevel string

@description('OTLP/HTTP endpoint (an OpenTelemetry Collector) for traces; empty: the handler records none. The host (host.json telemetryMode OpenTelemetry) exports there too.')
param otlpEndpoint string = ''
@secure()
@description('OTEL_EXPORTER_OTLP_HEADERS for that endpoint (key=value,…), e.g. a collector API key.')
param otlpHeaders string = ''

@allowed([ 512, 2048, 4096 ])
param instanceMemoryMB int = 512
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

// Versionless references: the platform resolves the latest version and caches
// it (up to 24 h); infra/scripts/keys.sh forces a refresh after it writes new
// versions by changing an app setting.
var secretRef = {
  signing: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/signing-key/)'
  sealing: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/sealing-key/)'
  signingPrevious: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/signing-key-previous/)'
  sealingPrevious: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/sealing-key-previous/)'
}

var platformSettings = [
  // Identity-based host storage: no connection string, no shared key.
  { name: 'AzureWebJobsStorage__accountName', value: storageAccountName }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
  // Application Insights with local auth disabled: Entra auth as the UAMI.
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsightsConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
  // DefaultAzureCredential-style lookups (azidentity) pick the UAMI.
  { name: 'AZURE_CLIENT_ID', value: identityClientId }
  // No FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION: on Flex,
  // functionAppConfig.runtime replaces them and setting them is an error.
]

var handlerSettings = [
  { name: 'PUBLIC_BASE_URL', value: publicBaseUrl }
  { name: 'AUTH_MODE', value: authMode }
  { name: 'ENTRA_TENANT_ID', value: tenantId }
  { name: 'ENTRA_CLIENT_ID', value: clientId }
  { name: 'ENTRA_APP_ID_URI', value: appIdUri }
  { name: 'ENTRA_API_SCOPE', value: apiScope }
  { name: 'ENTRA_AUTHORITY_HOST', value: authorityHost }
  // The federated credential's subject; never ENTRA_CLIENT_SECRET in Azure
  // (the handler refuses to start with a secret when it runs in Azure).
  { name: 'MANAGED_IDENTITY_CLIENT_ID', value: identityClientId }
  { name: 'STORAGE_TABLE_ENDPOINT', value: storageTableEndpoint }
  { name: 'STORAGE_TABLE_NAME', value: storageTableName }
  { name: 'SIGNING_KEY', value: secretRef.signing }
  { name: 'SEALING_KEY', value: secretRef.sealing }
  { name: 'MCP_SCOPE', value: mcpScope }
  { name: 'ALLOWED_ORIGINS', value: allowedOrigins }
  { name: 'LOG_LEVEL', value: logLevel }
  { name: 'LOG_FORMAT', value: 'json' }
  // Garbage collection, tuned on purpose (BENCHMARKS.md): the handler's own
  // GOGC default (handler/internal/config/gc.go), written out so it can be
  // changed here or in the portal without a build; and a soft memory limit
  // of half the instance memory, which the Functions host and the OS share
  // with us, so a burst makes the collector work harder instead of pushing
  // the instance out of memory.
  { name: 'GOGC', value: '200' }
  { name: 'GOMEMLIMIT', value: '${instanceMemoryMB / 2}MiB' }
]

// Traces (handler/internal/telemetry): only with an endpoint; without one
// the handler sets nothing up at all.
var telemetrySettings = empty(otlpEndpoint) ? [] : concat([
  { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: otlpEndpoint }
  { name: 'OTEL_SERVICE_NAME', value: 'entra-mcp-functions' }
], empty(otlpHeaders) ? [] : [
  { name: 'OTEL_EXPORTER_OTLP_HEADERS', value: otlpHeaders }
])

var previousKeySettings = [
  { name: 'SIGNING_KEY_PREVIOUS', value: secretRef.signingPrevious }
  { name: 'SEALING_KEY_PREVIOUS', value: secretRef.sealingPrevious }
]

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Resolve Key Vault references as the UAMI (there is no system identity).
    keyVaultReferenceIdentity: identityId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      // Exactly 'custom' / '1.0': other versions are accepted by ARM and then
      // break at host start (docs/architecture.md §10.5).
      runtime: { name: 'custom', version: '1.0' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: concat(platformSettings, handlerSettings, telemetrySettings, keysHavePrevious ? previousKeySettings : [])
    }
  }
}

// FTP publishing credentials off. SCM (Kudu) basic auth is left to the
// platform default: `func azure functionapp publish` may need it.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: { allow: false }
}

output name string = app.name
output id string = app.id
output defaultHostName string = app.properties.defaultHostName
