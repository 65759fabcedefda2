package apimemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// The openid-config cache: "Configuration including the JSON Web Key Set
// (JWKS) is pulled from the endpoint every 1 hour and cached. If the token
// being validated references a validation key (using kid claim) that is
// missing in cached configuration, or if retrieval fails, API Management
// pulls from the endpoint at most once per 5 min."
// (learn.microsoft.com/azure/api-management/validate-jwt-policy, openid-config).
const (
	configRefresh = time.Hour
	configRetry   = 5 * time.Minute
	maxDocument   = 1 << 20
)

// keySource is one openid-config URL, shared by every validate-jwt that
// names it.
type keySource struct {
	url string
	g   *Gateway

	mu      sync.Mutex
	issuer  string
	keys    []jwk
	fetched time.Time // last successful retrieval
	tried   time.Time // last attempt
	err     error     // last failure
}

// get returns the cached keys, pulling the document again when it is an
// hour old or when kid is not among the keys, at most once per 5 minutes.
func (s *keySource) get(ctx context.Context, kid string) ([]jwk, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.g.now()
	stale := s.fetched.IsZero() || now.Sub(s.fetched) >= configRefresh
	missing := kid != "" && !hasKid(s.keys, kid)
	if (stale || missing) && (s.tried.IsZero() || now.Sub(s.tried) >= configRetry) {
		s.tried = now
		// A client that hangs up must not cost everyone the 5-minute wait.
		issuer, keys, err := s.fetch(context.WithoutCancel(ctx))
		if err != nil {
			s.err = err
			s.g.log.Warn("apimemu: openid-config retrieval failed", "url", s.url, "err", err)
		} else {
			s.issuer, s.keys, s.fetched, s.err = issuer, keys, now, nil
		}
	}
	if s.fetched.IsZero() {
		return nil, "", fmt.Errorf("openid-config %s could not be retrieved: %v", s.url, s.err)
	}
	return s.keys, s.issuer, nil
}

func hasKid(keys []jwk, kid string) bool {
	for _, k := range keys {
		if k.Kid == kid {
			return true
		}
	}
	return false
}

// fetch reads the OpenID Connect discovery document
// (openid.net/specs/openid-connect-discovery-1_0.html#ProviderMetadata) and
// the key set its jwks_uri names.
func (s *keySource) fetch(ctx context.Context) (string, []jwk, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	b, err := s.getDocument(ctx, s.url)
	if err != nil {
		return "", nil, err
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.JWKSURI == "" {
		return "", nil, fmt.Errorf("%s: not a discovery document with jwks_uri (%v)", s.url, err)
	}
	if b, err = s.getDocument(ctx, doc.JWKSURI); err != nil {
		return "", nil, err
	}
	keys, err := parseJWKS(b)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", doc.JWKSURI, err)
	}
	return doc.Issuer, keys, nil
}

func (s *keySource) getDocument(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.g.fetchClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxDocument {
		return nil, errors.New("GET " + u + ": document larger than 1 MiB")
	}
	return b, nil
}
