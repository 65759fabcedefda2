package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// Paths of the endpoints advertised in the metadata, relative to
// PUBLIC_BASE_URL (docs/architecture.md §5.1). handler/routes.go mounts
// them; a test there holds every URL of the metadata to a route.
const (
	PathAuthorize = "/authorize"
	PathToken     = "/token"
	PathRegister  = "/register"
	PathRevoke    = "/revoke"
	PathJWKS      = "/.well-known/jwks.json"
)

// Metadata documents change only with a deployment, so clients and APIM
// may cache them for an hour. The JWKS gets five minutes, so an emergency
// key rotation reaches verifiers quickly (see package tokens on staging a
// new key as the previous one first).
const (
	metadataCacheControl = "public, max-age=3600"
	jwksCacheControl     = "public, max-age=300"
)

// ServerMetadata is the authorization server metadata document (RFC 8414
// §2), with the MCP-relevant extensions.
type ServerMetadata struct {
	// Issuer (issuer) is PUBLIC_BASE_URL exactly; clients compare it with
	// the URL they derived the metadata location from (RFC 8414 §3.3).
	Issuer                 string   `json:"issuer"`
	AuthorizationEndpoint  string   `json:"authorization_endpoint"`   // authorization_endpoint
	TokenEndpoint          string   `json:"token_endpoint"`           // token_endpoint
	RegistrationEndpoint   string   `json:"registration_endpoint"`    // registration_endpoint (RFC 7591)
	RevocationEndpoint     string   `json:"revocation_endpoint"`      // revocation_endpoint (RFC 7009)
	JWKSURI                string   `json:"jwks_uri"`                 // jwks_uri: our access-token keys
	ScopesSupported        []string `json:"scopes_supported"`         // scopes_supported: TOOL_SCOPES + offline_access
	ResponseTypesSupported []string `json:"response_types_supported"` // response_types_supported: ["code"]
	ResponseModesSupported []string `json:"response_modes_supported"` // response_modes_supported: ["query"]
	GrantTypesSupported    []string `json:"grant_types_supported"`    // grant_types_supported
	// CodeChallengeMethodsSupported (code_challenge_methods_supported) is
	// ["S256"]; MCP clients refuse an AS that omits it (MCP 2025-11-25).
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`          // token_endpoint_auth_methods_supported
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`     // revocation_endpoint_auth_methods_supported
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"` // RFC 9207 §3
	// ClientIDMetadataDocumentSupported (client_id_metadata_document_supported):
	// https client IDs are resolved as client ID metadata documents.
	ClientIDMetadataDocumentSupported bool `json:"client_id_metadata_document_supported"`

	// SubjectTypesSupported (subject_types_supported) and
	// IDTokenSigningAlgValuesSupported (id_token_signing_alg_values_supported)
	// appear only in /.well-known/openid-configuration, because OpenID
	// Connect Discovery 1.0 §3 requires them and strict parsers refuse the
	// document without them. Neither promises ID tokens: "public" is how
	// sub behaves (the Entra oid, the same for every client), RS256 is the
	// one algorithm we sign with, and "openid" is deliberately absent from
	// scopes_supported, as are userinfo and id_token response types.
	SubjectTypesSupported            []string `json:"subject_types_supported,omitempty"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported,omitempty"`
}

// ServerMetadata builds the RFC 8414 document for h.Options.
func (h *Handler) ServerMetadata() ServerMetadata {
	base := h.Options.PublicBaseURL
	authMethods := []string{"none", "client_secret_post", "client_secret_basic"}
	return ServerMetadata{
		Issuer:                                     base,
		AuthorizationEndpoint:                      base + PathAuthorize,
		TokenEndpoint:                              base + PathToken,
		RegistrationEndpoint:                       base + PathRegister,
		RevocationEndpoint:                         base + PathRevoke,
		JWKSURI:                                    base + PathJWKS,
		ScopesSupported:                            h.offered(),
		ResponseTypesSupported:                     []string{"code"},
		ResponseModesSupported:                     []string{"query"},
		GrantTypesSupported:                        []string{grantAuthCode, grantRefresh},
		CodeChallengeMethodsSupported:              []string{"S256"},
		TokenEndpointAuthMethodsSupported:          authMethods,
		RevocationEndpointAuthMethodsSupported:     authMethods,
		AuthorizationResponseIssParameterSupported: true,
		ClientIDMetadataDocumentSupported:          h.Metadata != nil,
	}
}

// metadataDocs are the documents, marshalled once on first use.
type metadataDocs struct {
	oauth, openid []byte
}

func (h *Handler) metadataDocs() metadataDocs {
	h.docsOnce.Do(func() {
		m := h.ServerMetadata()
		h.docs.oauth = mustMarshal(m)
		m.SubjectTypesSupported = []string{"public"}
		m.IDTokenSigningAlgValuesSupported = []string{"RS256"}
		h.docs.openid = mustMarshal(m)
	})
	return h.docs
}

// mustMarshal panics only for an unencodable type, a programming error
// that every test would catch; the metadata holds only strings and bools.
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// AuthorizationServerMetadata serves GET/HEAD
// /.well-known/oauth-authorization-server (RFC 8414 §3).
func (h *Handler) AuthorizationServerMetadata(w http.ResponseWriter, r *http.Request) {
	serveDocument(w, r, h.metadataDocs().oauth, metadataCacheControl)
}

// OpenIDConfiguration serves GET/HEAD /.well-known/openid-configuration,
// which MCP 2025-11-25 clients try as well (OpenID Connect Discovery 1.0 §4).
func (h *Handler) OpenIDConfiguration(w http.ResponseWriter, r *http.Request) {
	serveDocument(w, r, h.metadataDocs().openid, metadataCacheControl)
}

// JWKS serves GET/HEAD /.well-known/jwks.json (RFC 7517 §5): the public
// keys APIM's validate-jwt and any other verifier use.
func (h *Handler) JWKS(w http.ResponseWriter, r *http.Request) {
	if h.Issuer == nil {
		h.writeError(w, r, ServerError(errNoIssuer))
		return
	}
	serveDocument(w, r, h.Issuer.JWKS(), jwksCacheControl)
}

var errNoIssuer = errors.New("oauth: Handler.Issuer is nil")

// serveDocument writes a pre-marshalled public JSON document, its body
// only for GET (HEAD gets the headers, Content-Length included).
func serveDocument(w http.ResponseWriter, r *http.Request, body []byte, cacheControl string) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", cacheControl)
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}
