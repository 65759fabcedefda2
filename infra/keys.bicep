// Writes the handler's key secrets into the vault created by main.bicep.
// Deployed only by infra/scripts/keys.sh (never by azd directly), and only
// when a key is missing or a rotation was asked for, so redeploying the
// infrastructure never changes a key. The values arrive as @secure()
// parameters: ARM keeps them out of deployment history and logs, and this
// template has no outputs. Writing through ARM (control plane) needs only
// Contributor on the resource group, not a Key Vault data-plane role.
//
// Formats (handler/internal/tokens): SIGNING_KEY is base64 of a PEM RSA
// private key of 2048 bits (RS256); SEALING_KEY is base64 of 32 random bytes.
targetScope = 'resourceGroup'

param keyVaultName string

@secure()
param signingKey string = ''
@secure()
param sealingKey string = ''
@secure()
param signingKeyPrevious string = ''
@secure()
param sealingKeyPrevious string = ''

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource signing 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(signingKey)) {
  parent: vault
  name: 'signing-key'
  properties: {
    value: signingKey
    contentType: 'application/x-pem-file;base64'
  }
}

resource sealing 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(sealingKey)) {
  parent: vault
  name: 'sealing-key'
  properties: {
    value: sealingKey
    contentType: 'application/octet-stream;base64'
  }
}

resource signingPrevious 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(signingKeyPrevious)) {
  parent: vault
  name: 'signing-key-previous'
  properties: {
    value: signingKeyPrevious
    contentType: 'application/x-pem-file;base64'
  }
}

resource sealingPrevious 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(sealingKeyPrevious)) {
  parent: vault
  name: 'sealing-key-previous'
  properties: {
    value: sealingKeyPrevious
    contentType: 'application/octet-stream;base64'
  }
}
