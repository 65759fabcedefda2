// API Management (BasicV2) in front of the Function App: the public base URL
// of the whole product. One API at the root path whose operations mirror
// handler/routes.go `endpoints` one to one (infra_test.go checks both ways).
// Consumption is not an option: it has no rate-limit-by-key and cuts
// long-running/streamed responses (azure.md §2.1).

param location string
param tags object
param name string
param publisherEmail string
param publisherName string
param functionAppName string

@allowed([ 'proxy', 'entra' ])
param authMode string

// Values the policies read as named values; each is the same value the
// Function App gets as an app setting (main.bicep passes both from one place).
param publicBaseUrl string
param mcpScope string
param tenantId string
param clientId string
param appIdUri string
param apiScope string
param authorityHost string

resource apim 'Microsoft.ApiManagement/service@2024-05-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: 'BasicV2', capacity: 1 }
  properties: {
    publisherEmail: publisherEmail
    publisherName: publisherName
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

// The Functions host accepts the key as the x-functions-key header; the API
// policy sets it on every request from this secret named value. Taken from
// the host's default function key (listKeys) so nothing is copied by hand.
resource functionHostKey 'Microsoft.ApiManagement/service/namedValues@2024-05-01' = {
  parent: apim
  name: 'function-host-key'
  properties: {
    displayName: 'function-host-key'
    secret: true
    value: listKeys('${functionApp.id}/host/default', '2024-04-01').functionKeys.default
  }
}

var plainNamedValues = [
  { name: 'public-base-url', value: publicBaseUrl }
  { name: 'mcp-scope', value: mcpScope }
  { name: 'entra-tenant-id', value: tenantId }
  { name: 'entra-client-id', value: clientId }
  { name: 'entra-app-id-uri', value: appIdUri }
  { name: 'entra-api-scope', value: apiScope }
  { name: 'entra-authority-host', value: authorityHost }
]

resource namedValues 'Microsoft.ApiManagement/service/namedValues@2024-05-01' = [for nv in plainNamedValues: {
  parent: apim
  name: nv.name
  properties: {
    displayName: nv.name
    secret: false
    value: nv.value
  }
}]

// No `credentials.header` here: the API policy sets x-functions-key itself,
// and setting it in both places would send the header twice.
resource backend 'Microsoft.ApiManagement/service/backends@2024-05-01' = {
  parent: apim
  name: 'function-app'
  properties: {
    protocol: 'http'
    // routePrefix is "" in host.json, so the app serves /mcp, not /api/mcp.
    url: 'https://${functionApp.properties.defaultHostName}'
    tls: {
      validateCertificateChain: true
      validateCertificateName: true
    }
  }
}

resource api 'Microsoft.ApiManagement/service/apis@2024-05-01' = {
  parent: apim
  name: 'mcp-server'
  properties: {
    displayName: 'MCP server'
    // Root path: the OAuth and MCP URLs are <gateway>/mcp, <gateway>/token...
    // exactly as PUBLIC_BASE_URL + path in the handler's metadata.
    path: ''
    protocols: [ 'https' ]
    // MCP clients know nothing of APIM subscription keys.
    subscriptionRequired: false
    serviceUrl: 'https://${functionApp.properties.defaultHostName}'
    type: 'http'
  }
}

// Policy files, selected per operation. `mcp` depends on the auth mode.
var policies = {
  cors: loadTextContent('../policies/cors.xml')
  corsRateLimited: loadTextContent('../policies/cors-ratelimit-ip.xml')
  mcp: authMode == 'proxy' ? loadTextContent('../policies/mcp-proxy.xml') : loadTextContent('../policies/mcp-entra.xml')
}

// One line per (method, path) of handler/routes.go. `policy` names an entry
// of `policies` above; '' means the API-level policy alone (no CORS: the
// browser-only pages /authorize, /consent, /callback must not be readable
// cross-origin, DESIGN §9). OPTIONS operations exist so the operation-level
// cors policy can answer preflight requests.
var operations = [
  { name: 'get-prm', method: 'GET', urlTemplate: '/.well-known/oauth-protected-resource', policy: 'cors' }
  { name: 'head-prm', method: 'HEAD', urlTemplate: '/.well-known/oauth-protected-resource', policy: 'cors' }
  { name: 'options-prm', method: 'OPTIONS', urlTemplate: '/.well-known/oauth-protected-resource', policy: 'cors' }
  { name: 'get-prm-mcp', method: 'GET', urlTemplate: '/.well-known/oauth-protected-resource/mcp', policy: 'cors' }
  { name: 'head-prm-mcp', method: 'HEAD', urlTemplate: '/.well-known/oauth-protected-resource/mcp', policy: 'cors' }
  { name: 'options-prm-mcp', method: 'OPTIONS', urlTemplate: '/.well-known/oauth-protected-resource/mcp', policy: 'cors' }
  { name: 'get-as-metadata', method: 'GET', urlTemplate: '/.well-known/oauth-authorization-server', policy: 'cors' }
  { name: 'head-as-metadata', method: 'HEAD', urlTemplate: '/.well-known/oauth-authorization-server', policy: 'cors' }
  { name: 'options-as-metadata', method: 'OPTIONS', urlTemplate: '/.well-known/oauth-authorization-server', policy: 'cors' }
  { name: 'get-openid-configuration', method: 'GET', urlTemplate: '/.well-known/openid-configuration', policy: 'cors' }
  { name: 'head-openid-configuration', method: 'HEAD', urlTemplate: '/.well-known/openid-configuration', policy: 'cors' }
  { name: 'options-openid-configuration', method: 'OPTIONS', urlTemplate: '/.well-known/openid-configuration', policy: 'cors' }
  { name: 'get-jwks', method: 'GET', urlTemplate: '/.well-known/jwks.json', policy: 'cors' }
  { name: 'head-jwks', method: 'HEAD', urlTemplate: '/.well-known/jwks.json', policy: 'cors' }
  { name: 'options-jwks', method: 'OPTIONS', urlTemplate: '/.well-known/jwks.json', policy: 'cors' }
  { name: 'post-register', method: 'POST', urlTemplate: '/register', policy: 'corsRateLimited' }
  { name: 'options-register', method: 'OPTIONS', urlTemplate: '/register', policy: 'cors' }
  { name: 'get-authorize', method: 'GET', urlTemplate: '/authorize', policy: '' }
  { name: 'get-consent', method: 'GET', urlTemplate: '/consent', policy: '' }
  { name: 'post-consent', method: 'POST', urlTemplate: '/consent', policy: '' }
  { name: 'get-callback', method: 'GET', urlTemplate: '/callback', policy: '' }
  { name: 'post-token', method: 'POST', urlTemplate: '/token', policy: 'corsRateLimited' }
  { name: 'options-token', method: 'OPTIONS', urlTemplate: '/token', policy: 'cors' }
  { name: 'post-revoke', method: 'POST', urlTemplate: '/revoke', policy: 'cors' }
  { name: 'options-revoke', method: 'OPTIONS', urlTemplate: '/revoke', policy: 'cors' }
  { name: 'get-mcp', method: 'GET', urlTemplate: '/mcp', policy: 'mcp' }
  { name: 'post-mcp', method: 'POST', urlTemplate: '/mcp', policy: 'mcp' }
  { name: 'delete-mcp', method: 'DELETE', urlTemplate: '/mcp', policy: 'mcp' }
  { name: 'options-mcp', method: 'OPTIONS', urlTemplate: '/mcp', policy: 'cors' }
  { name: 'get-healthz', method: 'GET', urlTemplate: '/healthz', policy: '' }
  { name: 'head-healthz', method: 'HEAD', urlTemplate: '/healthz', policy: '' }
]

// Policies reference named values and the backend by name; APIM rejects a
// policy whose {{named value}} or backend-id does not exist yet.
resource apiPolicy 'Microsoft.ApiManagement/service/apis/policies@2024-05-01' = {
  parent: api
  name: 'policy'
  properties: {
    // 'xml' (not 'rawxml'): the files are well-formed XML, expressions escaped.
    format: 'xml'
    value: loadTextContent('../policies/api.xml')
  }
  dependsOn: [
    functionHostKey
    namedValues
    backend
  ]
}

resource apiOperations 'Microsoft.ApiManagement/service/apis/operations@2024-05-01' = [for op in operations: {
  parent: api
  name: op.name
  properties: {
    displayName: '${op.method} ${op.urlTemplate}'
    method: op.method
    urlTemplate: op.urlTemplate
  }
}]

resource operationPolicies 'Microsoft.ApiManagement/service/apis/operations/policies@2024-05-01' = [for (op, i) in operations: if (!empty(op.policy)) {
  parent: apiOperations[i]
  name: 'policy'
  properties: {
    format: 'xml'
    value: policies[op.policy]
  }
  dependsOn: [
    functionHostKey
    namedValues
    apiPolicy
  ]
}]

output name string = apim.name
output gatewayUrl string = apim.properties.gatewayUrl
