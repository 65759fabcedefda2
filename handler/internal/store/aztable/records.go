package aztable

import "github.com/azure-mcp/entra-mcp-functions/handler/internal/store"

// Property names follow the record fields. The record's own key is stored
// too ("ID", "Key", "Hash") because a RowKey may be a hash of it.

func encodeClient(c store.Client) (entity, error) {
	p := newProps()
	p.str("ID", c.ID)
	p.str("SecretHash", c.SecretHash)
	p.str("Name", c.Name)
	p.strs("RedirectURIs", c.RedirectURIs)
	p.strs("GrantTypes", c.GrantTypes)
	p.strs("ResponseTypes", c.ResponseTypes)
	p.str("TokenEndpointAuthMethod", c.TokenEndpointAuthMethod)
	p.str("ApplicationType", c.ApplicationType)
	p.str("Scope", c.Scope)
	p.str("ClientURI", c.ClientURI)
	p.str("LogoURI", c.LogoURI)
	p.time("CreatedAt", c.CreatedAt)
	p.time("ExpiresAt", c.ExpiresAt)
	return p.entity(own(kindClient, c.ID))
}

func decodeClient(f *fields) (store.Client, error) {
	c := store.Client{
		ID:                      f.str("ID"),
		SecretHash:              f.str("SecretHash"),
		Name:                    f.str("Name"),
		RedirectURIs:            f.strs("RedirectURIs"),
		GrantTypes:              f.strs("GrantTypes"),
		ResponseTypes:           f.strs("ResponseTypes"),
		TokenEndpointAuthMethod: f.str("TokenEndpointAuthMethod"),
		ApplicationType:         f.str("ApplicationType"),
		Scope:                   f.str("Scope"),
		ClientURI:               f.str("ClientURI"),
		LogoURI:                 f.str("LogoURI"),
		CreatedAt:               f.time("CreatedAt"),
		ExpiresAt:               f.time("ExpiresAt"),
	}
	return c, f.err
}

func encodeAuthRequest(a store.AuthRequest) (entity, error) {
	p := newProps()
	p.str("ID", a.ID)
	p.str("ClientID", a.ClientID)
	p.str("RedirectURI", a.RedirectURI)
	p.str("State", a.State)
	p.str("Scope", a.Scope)
	p.str("Resource", a.Resource)
	p.str("CodeChallenge", a.CodeChallenge)
	p.str("UpstreamVerifier", a.UpstreamVerifier)
	p.str("Nonce", a.Nonce)
	p.str("BrowserBindingHash", a.BrowserBindingHash)
	p.bool("Approved", a.Approved)
	p.time("CreatedAt", a.CreatedAt)
	p.time("ExpiresAt", a.ExpiresAt)
	return p.entity(own(kindAuthReq, a.ID))
}

func decodeAuthRequest(f *fields) (store.AuthRequest, error) {
	a := store.AuthRequest{
		ID:                 f.str("ID"),
		ClientID:           f.str("ClientID"),
		RedirectURI:        f.str("RedirectURI"),
		State:              f.str("State"),
		Scope:              f.str("Scope"),
		Resource:           f.str("Resource"),
		CodeChallenge:      f.str("CodeChallenge"),
		UpstreamVerifier:   f.str("UpstreamVerifier"),
		Nonce:              f.str("Nonce"),
		BrowserBindingHash: f.str("BrowserBindingHash"),
		Approved:           f.bool("Approved"),
		CreatedAt:          f.time("CreatedAt"),
		ExpiresAt:          f.time("ExpiresAt"),
	}
	return a, f.err
}

func encodeConsent(c store.Consent) (entity, error) {
	p := newProps()
	p.str("Key", c.Key)
	p.str("ClientID", c.ClientID)
	p.str("RedirectURI", c.RedirectURI)
	p.str("Scope", c.Scope)
	p.str("GrantID", c.GrantID)
	p.time("CreatedAt", c.CreatedAt)
	p.time("ExpiresAt", c.ExpiresAt)
	return p.entity(own(kindConsent, c.Key))
}

func decodeConsent(f *fields) (store.Consent, error) {
	c := store.Consent{
		Key:         f.str("Key"),
		ClientID:    f.str("ClientID"),
		RedirectURI: f.str("RedirectURI"),
		Scope:       f.str("Scope"),
		GrantID:     f.str("GrantID"),
		CreatedAt:   f.time("CreatedAt"),
		ExpiresAt:   f.time("ExpiresAt"),
	}
	return c, f.err
}

func encodeCode(c store.Code) (entity, error) {
	p := newProps()
	p.str("Hash", c.Hash)
	p.str("ClientID", c.ClientID)
	p.str("RedirectURI", c.RedirectURI)
	p.str("CodeChallenge", c.CodeChallenge)
	p.str("Resource", c.Resource)
	p.str("Scope", c.Scope)
	p.str("GrantID", c.GrantID)
	p.str("Subject", c.Subject)
	p.str("Replaces", c.Replaces)
	p.time("RedeemedAt", c.RedeemedAt)
	p.time("CreatedAt", c.CreatedAt)
	p.time("ExpiresAt", c.ExpiresAt)
	return p.entity(own(kindCode, c.Hash))
}

func decodeCode(f *fields) (store.Code, error) {
	c := store.Code{
		Hash:          f.str("Hash"),
		ClientID:      f.str("ClientID"),
		RedirectURI:   f.str("RedirectURI"),
		CodeChallenge: f.str("CodeChallenge"),
		Resource:      f.str("Resource"),
		Scope:         f.str("Scope"),
		GrantID:       f.str("GrantID"),
		Subject:       f.str("Subject"),
		Replaces:      f.str("Replaces"),
		RedeemedAt:    f.time("RedeemedAt"),
		CreatedAt:     f.time("CreatedAt"),
		ExpiresAt:     f.time("ExpiresAt"),
	}
	return c, f.err
}

func encodeGrant(g store.Grant) (entity, error) {
	p := newProps()
	p.str("ID", g.ID)
	p.str("ClientID", g.ClientID)
	p.str("Subject", g.Subject)
	p.str("Name", g.Name)
	p.str("Username", g.Username)
	p.str("TenantID", g.TenantID)
	p.str("Scope", g.Scope)
	p.str("Resource", g.Resource)
	p.bin("Upstream", g.Upstream) // Edm.Binary, at most 64 KiB
	p.time("UpstreamExpiresAt", g.UpstreamExpiresAt)
	p.str("RedirectURI", g.RedirectURI)
	p.time("CreatedAt", g.CreatedAt)
	p.time("LastUsedAt", g.LastUsedAt)
	p.time("ExpiresAt", g.ExpiresAt)
	return p.entity(own(kindGrant, g.ID))
}

func decodeGrant(f *fields) (store.Grant, error) {
	g := store.Grant{
		ID:                f.str("ID"),
		ClientID:          f.str("ClientID"),
		Subject:           f.str("Subject"),
		Name:              f.str("Name"),
		Username:          f.str("Username"),
		TenantID:          f.str("TenantID"),
		Scope:             f.str("Scope"),
		Resource:          f.str("Resource"),
		Upstream:          f.bin("Upstream"),
		UpstreamExpiresAt: f.time("UpstreamExpiresAt"),
		RedirectURI:       f.str("RedirectURI"),
		CreatedAt:         f.time("CreatedAt"),
		LastUsedAt:        f.time("LastUsedAt"),
		ExpiresAt:         f.time("ExpiresAt"),
	}
	return g, f.err
}

func encodeRefresh(r store.RefreshToken) (entity, error) {
	p := newProps()
	p.str("Hash", r.Hash)
	p.str("GrantID", r.GrantID)
	p.str("ClientID", r.ClientID)
	p.str("Scope", r.Scope)
	p.time("RotatedAt", r.RotatedAt)
	p.bin("Successor", r.Successor)
	p.time("CreatedAt", r.CreatedAt)
	p.time("ExpiresAt", r.ExpiresAt)
	return p.entity(refreshKeys(r.GrantID, r.Hash))
}

func decodeRefresh(f *fields) (store.RefreshToken, error) {
	r := store.RefreshToken{
		Hash:      f.str("Hash"),
		GrantID:   f.str("GrantID"),
		ClientID:  f.str("ClientID"),
		Scope:     f.str("Scope"),
		RotatedAt: f.time("RotatedAt"),
		Successor: f.bin("Successor"),
		CreatedAt: f.time("CreatedAt"),
		ExpiresAt: f.time("ExpiresAt"),
	}
	return r, f.err
}
