#!/usr/bin/env bash
# Deploys everything without azd: infrastructure (infra/main.bicep), keys
# (infra/scripts/keys.sh), then the Functions app with Core Tools.
#
#   scripts/deploy.sh --location swedencentral [options]
#
# Options:
#   --env NAME             environment name (default: $AZURE_ENV_NAME or "mcp"); RG = rg-NAME
#   --location REGION      Azure region (default: $AZURE_LOCATION; required)
#   --auth-mode MODE       proxy (default) or entra
#   --admin-consent        grant tenant-wide admin consent (needs an admin role)
#   --purge-protection     turn on Key Vault purge protection (irreversible)
#   --publisher-email ADDR APIM publisher e-mail (default: your sign-in name if it is an address)
#   --app-id-uri URI       App ID URI of the Entra app (default api://<tenant>/mcp-<token>); see
#                          infra/README.md troubleshooting for tenants that allow only api://<app id>
#   --rotate-keys          replace the signing and sealing keys; the current ones become *_PREVIOUS
#   --what-if              show what the infrastructure deployment would change, then stop
#   --skip-publish         deploy infrastructure and keys only
#   --publish-only         build and publish the app to an existing deployment
#
# Idempotent: run it again to update. Keys are created once and kept; only
# --rotate-keys replaces them.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
env_name="${AZURE_ENV_NAME:-mcp}"
location="${AZURE_LOCATION:-}"
auth_mode="proxy"
admin_consent=false
purge_protection=false
publisher_email=""
app_id_uri=""
rotate=false
what_if=false
skip_publish=false
publish_only=false

die() { echo "deploy.sh: $*" >&2; exit 1; }
log() { echo "==> $*" >&2; }

while (($#)); do
  case "$1" in
  --env) env_name="$2"; shift 2 ;;
  --location) location="$2"; shift 2 ;;
  --auth-mode) auth_mode="$2"; shift 2 ;;
  --admin-consent) admin_consent=true; shift ;;
  --purge-protection) purge_protection=true; shift ;;
  --publisher-email) publisher_email="$2"; shift 2 ;;
  --app-id-uri) app_id_uri="$2"; shift 2 ;;
  --rotate-keys) rotate=true; shift ;;
  --what-if) what_if=true; shift ;;
  --skip-publish) skip_publish=true; shift ;;
  --publish-only) publish_only=true; shift ;;
  -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
  *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ "$auth_mode" == proxy || "$auth_mode" == entra ]] || die "--auth-mode must be proxy or entra"

# --- prerequisites --------------------------------------------------------
need=(az openssl)
$what_if || $skip_publish || need+=(go func)
missing=()
for tool in "${need[@]}"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  die "missing: ${missing[*]}. Install the Azure CLI (az), Go, OpenSSL and Azure Functions Core Tools v4 (func)."
fi

az account show -o none 2>/dev/null || die "not signed in: run 'az login' (and 'az account set -s <subscription>')"
subscription="$(az account show --query id -o tsv)"
tenant="$(az account show --query tenantId -o tsv)"
log "subscription $subscription, tenant $tenant, environment $env_name"

rg="rg-$env_name"
deployment="$env_name-${location:-none}"

output() { az deployment sub show -n "$deployment" --query "properties.outputs.$1.value" -o tsv; }

publish() {
  local app="$1" out="$repo/build/deploy"
  log "building the app into $out"
  "$repo/scripts/build.sh" "$out" >&2
  log "publishing to $app"
  # Run from the staged folder: Core Tools zips the folder it runs in, and
  # sets the executable bit on host.json's defaultExecutablePath.
  (cd "$out" && func azure functionapp publish "$app" --custom)
}

if $publish_only; then
  [[ -n "$location" ]] || die "--location is required (it names the deployment to read outputs from)"
  publish "$(output AZURE_FUNCTION_APP_NAME)"
  echo "MCP server: $(output MCP_URL)"
  exit 0
fi
[[ -n "$location" ]] || die "--location is required (or set AZURE_LOCATION)"

# The deployer gets read access to the key secrets (for --rotate-keys).
principal_type=User
principal_id="$(az ad signed-in-user show --query id -o tsv 2>/dev/null || true)"
if [[ -z "$principal_id" ]] && [[ "$(az account show --query user.type -o tsv)" == servicePrincipal ]]; then
  principal_type=ServicePrincipal
  principal_id="$(az ad sp show --id "$(az account show --query user.name -o tsv)" --query id -o tsv 2>/dev/null || true)"
fi
[[ -n "$principal_id" ]] || log "warning: could not find your object id; --rotate-keys will need Key Vault Secrets User granted by hand"

if [[ -z "$publisher_email" ]]; then
  publisher_email="$(az account show --query user.name -o tsv)"
  [[ "$publisher_email" == *@*.* ]] || publisher_email="mcp-admin@example.com"
fi

# Keep SIGNING_KEY_PREVIOUS / SEALING_KEY_PREVIOUS if an earlier rotation made them.
keys_have_previous="$(AZURE_KEY_VAULT_NAME="" "$repo/infra/scripts/keys.sh" detect --resource-group "$rg")"

params=(
  environmentName="$env_name"
  location="$location"
  principalId="$principal_id"
  principalType="$principal_type"
  authMode="$auth_mode"
  grantAdminConsent="$admin_consent"
  keyVaultPurgeProtection="$purge_protection"
  keysHavePrevious="$keys_have_previous"
  apimPublisherEmail="$publisher_email"
)
[[ -z "$app_id_uri" ]] || params+=(entraAppIdUri="$app_id_uri")

if $what_if; then
  log "what-if for $rg (nothing is changed)"
  az deployment sub what-if -n "$deployment" -l "$location" -f "$repo/infra/main.bicep" -p "${params[@]}"
  exit 0
fi

log "deploying infrastructure (API Management can take several minutes on the first run)"
az deployment sub create -n "$deployment" -l "$location" -f "$repo/infra/main.bicep" -p "${params[@]}" -o none

app="$(output AZURE_FUNCTION_APP_NAME)"
vault="$(output AZURE_KEY_VAULT_NAME)"

if $rotate; then
  "$repo/infra/scripts/keys.sh" rotate --resource-group "$rg" --vault "$vault" --app "$app"
else
  "$repo/infra/scripts/keys.sh" ensure --resource-group "$rg" --vault "$vault" --app "$app"
fi

if ! $skip_publish; then
  publish "$app"
fi

cat <<EOF

Deployed ($auth_mode mode).
  MCP server URL:              $(output MCP_URL)
  Protected resource metadata: $(output MCP_PRM_URL)
  Entra app (client) id:       $(output ENTRA_CLIENT_ID)
  Function App:                $app (resource group $rg)
Add the MCP server URL to VS Code, Claude or MCP Inspector; see infra/README.md.
EOF
