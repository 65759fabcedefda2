// One storage account for three jobs: the Flex Consumption deployment package
// (blob container), the Functions host's own state (AzureWebJobsStorage: keys
// and locks in blob containers it creates, diagnostic events in tables it
// creates), and the handler's OAuth state (table `oauthstate`). Shared keys
// are off: every caller uses Entra auth.

param location string
param tags object
param name string
param deploymentContainerName string
param tableName string

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    // Portal and tools then default to Entra auth instead of trying keys first.
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: { publicAccess: 'None' }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

// Created here so it exists before the first request (the handler would
// create it on first use too). The identity holds Storage Table Data
// Contributor on the whole account anyway: the Functions host keeps its
// diagnostic events in tables of this account (rbac.bicep).
resource table 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: tableName
}

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
// Without the trailing slash ARM adds: STORAGE_TABLE_ENDPOINT is documented as
// https://<account>.table.core.windows.net.
output tableEndpoint string = 'https://${account.name}.table.${environment().suffixes.storage}'
output deploymentContainerName string = deploymentContainer.name
output tableName string = table.name
