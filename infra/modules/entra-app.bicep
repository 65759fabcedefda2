// The Entra ID app registration the handler signs users in with, through the
// Microsoft Graph Bicep extension (bicepconfig.json: microsoftGraphV1).
// The deploying principal needs Graph rights to create applications (e.g. the
// Application Developer role, or Application.ReadWrite.All for a pipeline);
// the optional admin consent below needs Privileged Role Administrator or
// Cloud Application Administrator-level rights
// (DelegatedPermissionGrant.ReadWrite.All).
extension microsoftGraphV1

@description('Idempotency key of the application: redeploying with the same value updates the same app.')
param uniqueName string
param displayName string

@description('App ID URI; clients request <uri>/<apiScope>.')
param identifierUri string
param apiScope string = 'user_impersonation'

@description('The tool scopes beyond the base one (TOOL_SCOPES), exposed as scopes of this app: in mode entra a client requests <uri>/<name> for the tools that need it, and the handler\'s step-up challenge names it.')
param toolScopes array = [ 'mail.read' ]

@description('Web redirect URIs. <APIM gateway>/callback is where Entra returns to our authorization server.')
param redirectUris array

@description('principalId (object id) of the user-assigned identity that acts as this app\'s credential.')
param identityPrincipalId string

@description('Issuer of the managed identity tokens: <login endpoint><tenant>/v2.0.')
param federationIssuer string

@description('Client ids pre-authorized for the API scope (no consent prompt), e.g. VS Code in mode entra.')
param preAuthorizedClientIds array = []

@description('Grant tenant-wide admin consent for Graph User.Read (+ openid profile offline_access) and for the API scope.')
param grantAdminConsent bool = false

var graphAppId = '00000003-0000-0000-c000-000000000000'
var graphUserReadScopeId = 'e1fe6dd8-ba31-4d61-89e7-88639da4683d'
var graphMailReadScopeId = '570282fd-fa5c-430d-a7fd-fc8dc98a9dca'
// A stable id for the scope: guid() of the app's unique name, so redeploys
// neither duplicate nor replace it.
var apiScopeId = guid(uniqueName, apiScope)
var toolScopeIds = [for name in toolScopes: guid(uniqueName, name)]
var toolPermissionScopes = [for name in toolScopes: {
  id: guid(uniqueName, name)
  value: name
  type: 'User'
  isEnabled: true
  adminConsentDisplayName: 'Use the MCP server\'s ${name} tools as you'
  adminConsentDescription: 'Lets the app call the MCP server\'s tools that need ${name} on behalf of the signed-in user.'
  userConsentDisplayName: 'Use the MCP server\'s ${name} tools as you'
  userConsentDescription: 'Lets the app call the MCP server\'s tools that need ${name} on your behalf.'
}]

resource app 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMyOrg'
  identifierUris: [ identifierUri ]
  api: {
    // v2 tokens: iss https://login.microsoftonline.com/<tenant>/v2.0 and aud
    // = the client id. The default (null) means v1 tokens with issuer
    // https://sts.windows.net/<tenant>/, which neither the handler nor the
    // APIM policy accepts (docs/architecture.md §9.3;
    // learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
    requestedAccessTokenVersion: 2
    oauth2PermissionScopes: concat([
      {
        id: apiScopeId
        value: apiScope
        type: 'User'
        isEnabled: true
        adminConsentDisplayName: 'Use the MCP server as you'
        adminConsentDescription: 'Lets the app call the MCP server and its tools on behalf of the signed-in user.'
        userConsentDisplayName: 'Use the MCP server as you'
        userConsentDescription: 'Lets the app call the MCP server and its tools on your behalf.'
      }
    ], toolPermissionScopes)
    preAuthorizedApplications: [for clientId in preAuthorizedClientIds: {
      appId: clientId
      delegatedPermissionIds: concat([ apiScopeId ], toolScopeIds)
    }]
  }
  // A confidential web client: Entra redirects the browser to our /callback and
  // the handler redeems the code with a client assertion (never a SPA redirect,
  // which would demand a browser-side redemption: AADSTS9002327).
  web: {
    redirectUris: redirectUris
    implicitGrantSettings: {
      enableAccessTokenIssuance: false
      enableIdTokenIssuance: false
    }
  }
  // The delegated Graph permissions the tools use through On-Behalf-Of, as
  // TOOL_SCOPES maps them: User.Read (whoami, the base scope) and Mail.Read
  // (recent_mail, scope mail.read). Listing them lets Entra ask users for
  // them; Mail.Read is left to each user's consent (below, admin consent
  // covers User.Read only).
  requiredResourceAccess: [
    {
      resourceAppId: graphAppId
      resourceAccess: [
        { id: graphUserReadScopeId, type: 'Scope' }
        { id: graphMailReadScopeId, type: 'Scope' }
      ]
    }
  ]
}

// The managed identity is the app's only credential: the handler asks it for a
// token with audience api://AzureADTokenExchange and presents that as the
// client assertion. No secret to leak, expire or rotate.
resource federatedCredential 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = {
  name: '${app.uniqueName}/function-app-identity'
  audiences: [ 'api://AzureADTokenExchange' ]
  issuer: federationIssuer
  subject: identityPrincipalId
  description: 'The Function App\'s user-assigned managed identity'
}

resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: app.appId
}

resource graphServicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: graphAppId
}

// Without consent the first On-Behalf-Of call fails with AADSTS65001 until a
// user (or an admin) consents. Off by default because it needs an admin role.
resource graphConsent 'Microsoft.Graph/oauth2PermissionGrants@v1.0' = if (grantAdminConsent) {
  clientId: servicePrincipal.id
  consentType: 'AllPrincipals'
  resourceId: graphServicePrincipal.id
  scope: 'openid profile offline_access User.Read'
}

resource apiConsent 'Microsoft.Graph/oauth2PermissionGrants@v1.0' = if (grantAdminConsent) {
  clientId: servicePrincipal.id
  consentType: 'AllPrincipals'
  resourceId: servicePrincipal.id
  scope: apiScope
}

output appId string = app.appId
output objectId string = app.id
output identifierUri string = identifierUri
output apiScope string = apiScope
