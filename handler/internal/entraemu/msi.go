package entraemu

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// handleManagedIdentity emulates the App Service managed identity endpoint
// (api-version 2019-08-01) that azidentity's ManagedIdentityCredential calls
// when IDENTITY_ENDPOINT and IDENTITY_HEADER are set. Only the configured
// user-assigned identity exists; its tokens for api://AzureADTokenExchange
// are what the API app's federated identity credential accepts.
func (e *Emulator) handleManagedIdentity(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	hdr := r.Header.Get("X-IDENTITY-HEADER")
	if hdr == "" || subtle.ConstantTimeCompare([]byte(hdr), []byte(e.cfg.IdentityHeader)) != 1 {
		msiError(w, http.StatusUnauthorized, "X-IDENTITY-HEADER is missing or does not match IDENTITY_HEADER.")
		return
	}
	if v := q.Get("api-version"); v != "2019-08-01" {
		msiError(w, http.StatusBadRequest, "api-version '"+v+"' is not supported; use 2019-08-01.")
		return
	}
	resource := strings.TrimSuffix(q.Get("resource"), "/.default")
	if resource == "" {
		msiError(w, http.StatusBadRequest, "The resource parameter is required.")
		return
	}
	// System-assigned (no selector) is served by the one identity there is;
	// any other selector must name it.
	if id := q.Get("client_id"); id != "" && id != e.cfg.ManagedIdentityClientID {
		msiError(w, http.StatusBadRequest, "Unable to load the proper Managed Identity with client_id '"+id+"'.")
		return
	}
	if q.Get("principal_id") != "" || q.Get("object_id") != "" || q.Get("mi_res_id") != "" {
		if q.Get("principal_id") != e.cfg.FederatedSubject && q.Get("object_id") != e.cfg.FederatedSubject {
			msiError(w, http.StatusBadRequest, "Unable to load the proper Managed Identity.")
			return
		}
	}
	claims := e.managedIdentityClaims(e.issuer(r), resource)
	tok, err := e.SignToken(claims)
	if err != nil {
		msiError(w, http.StatusInternalServerError, "token signing failed")
		return
	}
	exp := e.now().Add(e.cfg.AccessTokenLifetime).Unix()
	e.log.Info("audit: managed identity token issued", "client_id", e.cfg.ManagedIdentityClientID, "resource", resource)
	// App Service sends expires_on as a string of Unix seconds.
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"expires_on":   strconv.FormatInt(exp, 10),
		"resource":     resource,
		"token_type":   "Bearer",
		"client_id":    e.cfg.ManagedIdentityClientID,
	})
}

// ManagedIdentityEnv returns the environment variables that point
// azidentity's ManagedIdentityCredential at the emulator.
func (e *Emulator) ManagedIdentityEnv() map[string]string {
	return map[string]string{
		"IDENTITY_ENDPOINT": e.BaseURL() + "/msi/token",
		"IDENTITY_HEADER":   e.cfg.IdentityHeader,
	}
}

func msiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"statusCode": status, "message": msg, "correlationId": newGUID(),
		"timestamp": time.Now().UTC().Format(time.RFC3339)})
}
