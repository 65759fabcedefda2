package oauth

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
)

func TestMetadataDocuments(t *testing.T) {
	h := newTestHandler(t, nil)
	tests := []struct {
		golden  string
		handler http.HandlerFunc
	}{
		{"oauth-authorization-server", h.AuthorizationServerMetadata},
		{"openid-configuration", h.OpenIDConfiguration},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			w := httptest.NewRecorder()
			tt.handler(w, httptest.NewRequest(http.MethodGet, "/.well-known/"+tt.golden, nil))
			if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" ||
				w.Header().Get("Cache-Control") != metadataCacheControl {
				t.Fatalf("status %d, headers %v", w.Code, w.Header())
			}
			testutil.GoldenJSON(t, "testdata/"+tt.golden+".golden.json", w.Body.Bytes())
			// RFC 8414 §3.3: the issuer is exactly the base URL.
			var m ServerMetadata
			if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || m.Issuer != h.Options.PublicBaseURL {
				t.Errorf("issuer = %q, %v", m.Issuer, err)
			}
		})
	}
}

func TestJWKSEndpoint(t *testing.T) {
	h := newTestHandler(t, nil)
	w := httptest.NewRecorder()
	h.JWKS(w, httptest.NewRequest(http.MethodGet, PathJWKS, nil))
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), h.Issuer.JWKS()) || w.Header().Get("Cache-Control") != jwksCacheControl {
		t.Fatalf("status %d, headers %v, body %s", w.Code, w.Header(), w.Body)
	}
	var set struct {
		Keys []struct{ Kty, Kid, Use, Alg, N, E, D, P, Q string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS %s: %v", w.Body, err)
	}
	k := set.Keys[0]
	if k.Kty != "RSA" || k.Use != "sig" || k.Alg != "RS256" || k.Kid == "" || k.N == "" || k.E != "AQAB" || k.D != "" || k.P != "" || k.Q != "" {
		t.Errorf("key = %+v", k)
	}

	noIssuer := newTestHandler(t, func(h *Handler) { h.Issuer = nil })
	w = httptest.NewRecorder()
	noIssuer.JWKS(w, httptest.NewRequest(http.MethodGet, PathJWKS, nil))
	if w.Code != 500 {
		t.Errorf("without an issuer: %d", w.Code)
	}
}

// TestDocumentHEAD: HEAD gets the headers of GET, Content-Length included,
// and no body. (Preflights, CORS and other methods are answered by the
// routes: handler/routes_test.go.)
func TestDocumentHEAD(t *testing.T) {
	h := newTestHandler(t, nil)
	for _, hf := range []http.HandlerFunc{h.AuthorizationServerMetadata, h.OpenIDConfiguration, h.JWKS} {
		w := httptest.NewRecorder()
		hf(w, httptest.NewRequest(http.MethodHead, "/", nil))
		if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") == "0" {
			t.Errorf("HEAD: %d, %d bytes, Content-Length %q", w.Code, w.Body.Len(), w.Header().Get("Content-Length"))
		}
	}
}

func TestMetadataWithoutCIMD(t *testing.T) {
	h := newTestHandler(t, func(h *Handler) { h.Metadata = nil })
	if h.ServerMetadata().ClientIDMetadataDocumentSupported {
		t.Error("client_id_metadata_document_supported is true without a fetcher")
	}
}
