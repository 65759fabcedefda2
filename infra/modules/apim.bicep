// API Management (BasicV2) in front of the Function App: the public base URL
// of the whole product. One API at the root path whose operations mirror
// the routes of handler/routes.go one to one (handler/infra checks both
// ways).
// Consumption is not an option: it has no rate-limit-by-key and cuts
// long-running/streamed responses (docs/architecture.md §11.1;
// learn.microsoft.com/azure/api-management/rate-limit-by-key-policy,
// learn.microsoft.com/azure/api-management/how-to-server-sent-events).

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
// The browser origins that may call /mcp, between commas (",," for none:
// a named value may not be empty); the /mcp policies read it.
param allowedOrigins string

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
  { name: 'mcp-allowed-origins', value: allowedOrigins }
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
// The APIM stand-in reads this mapping too and accepts only these two
// shapes (one file, or the authMode choice), so keep them.
var policies = {
  cors: loadTextContent('../policies/cors.xml')
  corsRateLimited: loadTextContent('../policies/cors-ratelimit-ip.xml')
  rateLimited: loadTextContent('../policies/ratelimit-ip.xml')
  mcp: authMode == 'proxy' ? loadTextContent('../policies/mcp-proxy.xml') : loadTextContent('../policies/mcp-entra.xml')
}

// One entry per (method, path) of handler/routes.go, in a JSON file that the
// APIM stand-in (handler/internal/apimemu) reads too, so what Bicep deploys
// and what the tests run through are one list. `policy` names an entry of
// `policies` above; '' means the API-level policy alone. The browser pages
// (/authorize, /consent, /callback) get a rate limit and no CORS: they must
// not be readable cross-origin.
//
// There are no OPTIONS operations: the operation's cors policy answers CORS
// preflight requests itself, and "if a request matches an operation with an
// OPTIONS method defined in the API, preflight request processing logic
// associated with the cors policy will not be executed"
// (learn.microsoft.com/azure/api-management/cors-policy).
var operations = loadJsonContent('../apim-operations.json')

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

// The `if` skips operations without a policy. The value repeats the test:
// ARM may still evaluate the properties of a skipped copy, and its if()
// evaluates only the branch taken ("When the condition is False, only the
// false value is evaluated", learn.microsoft.com/azure/azure-resource-manager/
// templates/template-functions-logical#if), so policies[''] is never read.
// The parentheses make tree-sitter-bicep group the subscript correctly.
resource operationPolicies 'Microsoft.ApiManagement/service/apis/operations/policies@2024-05-01' = [for (op, i) in operations: if (!empty(op.policy)) {
  parent: apiOperations[i]
  name: 'policy'
  properties: {
    format: 'xml'
    value: empty(op.policy) ? '' : (policies[op.policy])
  }
  dependsOn: [
    functionHostKey
    namedValues
    apiPolicy
  ]
}]

output name string = apim.name
output gatewayUrl string = apim.properties.gatewayUrl
