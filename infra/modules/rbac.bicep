// Every role the deployment grants, in one place. Role definition ids are the
// documented built-in ids
// (learn.microsoft.com/azure/role-based-access-control/built-in-roles and
// learn.microsoft.com/azure/key-vault/general/rbac-guide); the tests in
// handler/infra hold this file to an allow-list of them.
//
// Deliberately NOT granted: Storage Queue Data Contributor
// (974c5e8b-45b9-4653-ba55-5f855dd0fb88). The app has only HTTP triggers; the
// Functions host keeps its keys and locks in blob containers and uses queues
// only for queue/blob triggers and Durable Functions. Add it if you add those.

param storageAccountName string
param keyVaultName string
param appInsightsName string

@description('principalId of the Function App\'s user-assigned identity.')
param identityPrincipalId string

@description('Object id of the person or pipeline deploying (azd sets AZURE_PRINCIPAL_ID). Empty: no role for the deployer.')
param deployerPrincipalId string = ''

@allowed([ 'User', 'ServicePrincipal' ])
param deployerPrincipalType string = 'User'

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// Blob Data Owner on the account (not just the package container): the
// deployment package is read with it, and the host (AzureWebJobsStorage)
// creates its own containers (azure-webjobs-hosts, azure-webjobs-secrets).
resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identityPrincipalId, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Table Data Contributor on the account, not only on the handler's table:
// the Functions host writes its diagnostic events to tables it creates in
// its AzureWebJobsStorage account (this one), and with an identity-based
// connection it needs this role for them, or it logs recurring errors
// (https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity,
// https://learn.microsoft.com/azure/azure-functions/errors-diagnostics/diagnostic-events/azfd0003).
// The account holds nothing else in tables but the handler's oauthstate.
resource tableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identityPrincipalId, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Lets the platform resolve the SIGNING_KEY / SEALING_KEY Key Vault references
// as this identity (keyVaultReferenceIdentity on the site).
resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identityPrincipalId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Application Insights has local auth disabled; ingestion needs this role.
resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identityPrincipalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The deployer may READ the secrets: `scripts/deploy.sh --rotate-keys` reads
// the current keys to keep them as *_PREVIOUS. Writing goes through ARM
// (infra/keys.bicep), which needs no data-plane role.
resource deployerSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}
