#!/usr/bin/env bash
# Creates or rotates the handler's signing and sealing keys in Key Vault.
#
#   infra/scripts/keys.sh ensure  [options]   create whichever key is missing; never touch existing ones
#   infra/scripts/keys.sh rotate  [options]   new keys; the current ones become *-previous
#   infra/scripts/keys.sh detect  [options]   print true if the *-previous secrets exist
#
# Options (defaults come from the azd environment, which azd exports to hooks):
#   --resource-group RG   (AZURE_RESOURCE_GROUP)
#   --vault NAME          (AZURE_KEY_VAULT_NAME)
#   --app NAME            (AZURE_FUNCTION_APP_NAME; optional: refreshes its Key Vault references)
#   --azd                 detect: also store the result with `azd env set KEYS_HAVE_PREVIOUS`
#
# Called by scripts/deploy.sh and by the azd hooks in azure.yaml. Keys are made
# with openssl, kept in shell variables, written to a 0600 parameters file in a
# private temp directory (removed on exit) and deployed with infra/keys.bicep as
# @secure() parameters. They are never printed, never passed on a command line
# (other users could read it from the process list) and never in outputs.
#   SIGNING_KEY: base64 of a PEM 2048-bit RSA private key (PKCS#8, "PRIVATE KEY");
#                access tokens are RS256 because API Management's validate-jwt
#                accepts only PS256, RS256 and RS512 for asymmetric keys
#   SEALING_KEY: base64 of 32 random bytes
set -euo pipefail
set +x # never trace this script: key material passes through variables

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
api_version=2023-07-01

die() { echo "keys.sh: $*" >&2; exit 1; }
log() { echo "keys.sh: $*" >&2; }

cmd="${1:-}"
[[ "$cmd" =~ ^(ensure|rotate|detect)$ ]] || die "usage: keys.sh ensure|rotate|detect [--resource-group RG] [--vault NAME] [--app NAME] [--azd]"
shift
rg="${AZURE_RESOURCE_GROUP:-}"
vault="${AZURE_KEY_VAULT_NAME:-}"
app="${AZURE_FUNCTION_APP_NAME:-}"
azd_env=false
while (($#)); do
  case "$1" in
  --resource-group) rg="$2"; shift 2 ;;
  --vault) vault="$2"; shift 2 ;;
  --app) app="$2"; shift 2 ;;
  --azd) azd_env=true; shift ;;
  *) die "unknown option $1" ;;
  esac
done

command -v az >/dev/null || die "the Azure CLI (az) is required"
az account show -o none 2>/dev/null || die "the Azure CLI is not signed in: run az login (azd hooks use the Azure CLI)"
# azd exports its subscription to hooks; the CLI's default may be another one.
sub=()
[[ -z "${AZURE_SUBSCRIPTION_ID:-}" ]] || sub=(--subscription "$AZURE_SUBSCRIPTION_ID")

# secret_exists NAME: 0 if the secret exists, 1 if not; aborts on any other
# error, so a transient failure can never look like "missing" and replace a key.
secret_exists() {
  local err
  if err="$(az resource show --ids "$vault_id/secrets/$1" --api-version "$api_version" --query id -o tsv 2>&1 >/dev/null)"; then
    return 0
  fi
  if grep -qi 'notfound\|not found\|could not be found' <<<"$err"; then
    return 1
  fi
  die "could not check secret $1: $err"
}

resolve_vault() {
  [[ -n "$rg" ]] || die "no resource group (--resource-group or AZURE_RESOURCE_GROUP)"
  if [[ -z "$vault" ]]; then
    vault="$(az keyvault list ${sub[@]+"${sub[@]}"} -g "$rg" --query '[0].name' -o tsv 2>/dev/null || true)"
  fi
  [[ -n "$vault" ]] || die "no Key Vault found in $rg (run the infrastructure deployment first)"
  vault_id="$(az keyvault show ${sub[@]+"${sub[@]}"} -g "$rg" -n "$vault" --query id -o tsv)"
  vault_uri="$(az keyvault show ${sub[@]+"${sub[@]}"} -g "$rg" -n "$vault" --query properties.vaultUri -o tsv)"
}

if [[ "$cmd" == detect ]]; then
  result=false
  if [[ -n "$rg" ]] && [[ "$(az group exists ${sub[@]+"${sub[@]}"} -n "$rg" 2>/dev/null || echo false)" == true ]]; then
    [[ -n "$vault" ]] || vault="$(az keyvault list ${sub[@]+"${sub[@]}"} -g "$rg" --query '[0].name' -o tsv 2>/dev/null || true)"
    if [[ -n "$vault" ]]; then
      resolve_vault
      if secret_exists signing-key-previous && secret_exists sealing-key-previous; then
        result=true
      fi
    fi
  fi
  if $azd_env; then
    azd env set KEYS_HAVE_PREVIOUS "$result" >/dev/null
  fi
  echo "$result"
  exit 0
fi

command -v openssl >/dev/null || die "openssl is required to generate keys"
resolve_vault

new_signing_key() {
  # genpkey writes PKCS#8 with OpenSSL 1.1/3.x and LibreSSL (macOS); the
  # handler reads PKCS#8 and PKCS#1. 2048 bits keeps access tokens under
  # 1 KB. One line of base64, so the value is safe in JSON and in an app
  # setting.
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl base64 -A
}
# is_rsa_key: 0 if the base64 PEM on stdin is an RSA private key. Earlier
# versions made EC P-256 keys (ES256), which the handler now refuses.
is_rsa_key() {
  openssl base64 -d -A 2>/dev/null | openssl rsa -noout -check >/dev/null 2>&1
}
new_sealing_key() {
  openssl rand 32 | openssl base64 -A
}

signing="" sealing="" signing_prev="" sealing_prev=""
case "$cmd" in
ensure)
  if [[ "${ROTATE_KEYS:-false}" == true ]]; then
    exec "$0" rotate --resource-group "$rg" --vault "$vault" ${app:+--app "$app"}
  fi
  secret_exists signing-key || signing="$(new_signing_key)"
  secret_exists sealing-key || sealing="$(new_sealing_key)"
  if [[ -z "$signing$sealing" ]]; then
    log "signing-key and sealing-key exist in $vault; not changed (use rotate to replace them)"
    exit 0
  fi
  ;;
rotate)
  if ! { secret_exists signing-key && secret_exists sealing-key; }; then
    log "no keys to rotate yet: creating them"
    ROTATE_KEYS=false exec "$0" ensure --resource-group "$rg" --vault "$vault" ${app:+--app "$app"}
  fi
  # Reading needs Key Vault Secrets User for the deployer (rbac.bicep grants
  # it to principalId); a fresh role assignment can take minutes to apply.
  signing_prev="$(az keyvault secret show --id "${vault_uri}secrets/signing-key" --query value -o tsv)" ||
    die "cannot read signing-key (does the deployer hold Key Vault Secrets User on $vault?)"
  sealing_prev="$(az keyvault secret show --id "${vault_uri}secrets/sealing-key" --query value -o tsv)" ||
    die "cannot read sealing-key"
  signing="$(new_signing_key)"
  sealing="$(new_sealing_key)"
  # An EC key from an earlier version is not kept as signing-key-previous:
  # the handler refuses it, and its ES256 tokens never passed APIM's
  # validate-jwt anyway. The new key fills that slot too (same kid, listed
  # once in the JWKS), replacing any EC key an older rotation left there.
  if ! printf '%s' "$signing_prev" | is_rsa_key; then
    log "the current signing-key is not an RSA key (an ES256 key of an earlier version): replacing it without keeping it"
    signing_prev="$signing"
  fi
  ;;
esac

for v in "$signing" "$sealing"; do
  [[ -z "$v" || "$v" =~ ^[A-Za-z0-9+/=]+$ ]] || die "key generation produced unexpected output"
done
# A 2048-bit RSA key is about 1.7 KB of PEM, 2.3 KB in base64 (an EC key,
# 300 characters, or an error message would be far shorter).
[[ -z "$signing" || ${#signing} -ge 2000 ]] || die "signing key generation failed"
[[ -z "$signing" ]] || printf '%s' "$signing" | is_rsa_key || die "signing key generation did not produce an RSA key"
[[ -z "$sealing" || ${#sealing} -eq 44 ]] || die "sealing key generation failed"

umask 077
tmp="$(mktemp -d)"
trap 'rm -rf -- "$tmp"' EXIT
# Values are base64 only, so no JSON escaping is needed. printf is a shell
# builtin: the values never appear in a process's arguments.
printf '{"$schema":"https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#","contentVersion":"1.0.0.0","parameters":{"keyVaultName":{"value":"%s"},"signingKey":{"value":"%s"},"sealingKey":{"value":"%s"},"signingKeyPrevious":{"value":"%s"},"sealingKeyPrevious":{"value":"%s"}}}\n' \
  "$vault" "$signing" "$sealing" "$signing_prev" "$sealing_prev" >"$tmp/keys.parameters.json"
unset signing sealing signing_prev sealing_prev

log "writing keys to $vault ($cmd)"
az deployment group create ${sub[@]+"${sub[@]}"} -g "$rg" -n "keys-$(date -u +%Y%m%d%H%M%S)" \
  -f "$repo/infra/keys.bicep" -p "@$tmp/keys.parameters.json" \
  --only-show-errors -o none
rm -f -- "$tmp/keys.parameters.json"

# Key Vault references are cached by the platform (up to 24 h); changing any
# app setting makes it fetch them again now. After a rotation the *_PREVIOUS
# references are added too (the next infrastructure deployment keeps them:
# scripts/deploy.sh and the azd preprovision hook detect the secrets).
if [[ -n "$app" ]]; then
  settings=("KEYS_UPDATED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)")
  if secret_exists signing-key-previous && secret_exists sealing-key-previous; then
    settings+=("SIGNING_KEY_PREVIOUS=@Microsoft.KeyVault(SecretUri=${vault_uri}secrets/signing-key-previous/)")
    settings+=("SEALING_KEY_PREVIOUS=@Microsoft.KeyVault(SecretUri=${vault_uri}secrets/sealing-key-previous/)")
  fi
  az functionapp config appsettings set ${sub[@]+"${sub[@]}"} -g "$rg" -n "$app" --settings "${settings[@]}" --only-show-errors -o none
  log "refreshed Key Vault references of $app"
fi
if [[ "$cmd" == rotate ]] && command -v azd >/dev/null && [[ -n "${AZURE_ENV_NAME:-}" ]]; then
  azd env set KEYS_HAVE_PREVIOUS true >/dev/null || true
  azd env set ROTATE_KEYS false >/dev/null || true
fi
log "done"
