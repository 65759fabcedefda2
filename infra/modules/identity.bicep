// The one identity the Function App runs as. It is also the credential of the
// Entra app registration (federated identity credential, entra-app.bicep), so
// no client secret exists anywhere in Azure.

param location string
param tags object
param name string

resource uami 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = uami.id
output name string = uami.name
output principalId string = uami.properties.principalId
output clientId string = uami.properties.clientId
