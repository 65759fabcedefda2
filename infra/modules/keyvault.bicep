// Key Vault for the token signing key and the sealing key. RBAC mode: the
// Function App's identity reads secrets through Key Vault references
// (Key Vault Secrets User, rbac.bicep); nobody gets access policies.
//
// The secrets themselves are NOT declared here. infra/scripts/keys.sh
// generates them with openssl and writes them through infra/keys.bicep
// (@secure parameters, a separate deployment), and only when they are
// missing or --rotate-keys is asked for. Declaring them in this template
// would either rotate them on every `azd provision` (new values) or need the
// key material as a parameter of every deployment.

param location string
param tags object
param name string

@description('Purge protection cannot be switched off once on. Off by default so `azd down --purge` can remove the vault and its name can be reused; turn it on for anything long-lived.')
param purgeProtection bool

@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 7

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // ARM rejects an explicit `false` once purge protection was ever enabled,
    // and `false` is not a valid request value either: send true or nothing.
    enablePurgeProtection: purgeProtection ? true : null
    // The Function App reads it over the public endpoint (Flex without VNet
    // integration). Restrict with a private endpoint when you add a VNet.
    publicNetworkAccess: 'Enabled'
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
