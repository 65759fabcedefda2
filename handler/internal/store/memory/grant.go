package memory

import (
	"context"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

func (s *Store) CreateGrant(_ context.Context, g store.Grant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.grants[g.ID]; ok {
		return store.ErrAlreadyExists
	}
	g = copyGrant(g)
	g.ETag = s.nextETag()
	s.grants[g.ID] = g
	return nil
}

func (s *Store) GetGrant(_ context.Context, id string) (store.Grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := get(s, s.grants, id, func(g store.Grant) time.Time { return g.ExpiresAt })
	return copyGrant(g), err
}

// UpdateGrant, like aztable's If-Match replace, does not look at expiry: the
// caller read the grant while it was live, and only the ETag decides.
func (s *Store) UpdateGrant(_ context.Context, g store.Grant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.grants[g.ID]
	switch {
	case !ok:
		return store.ErrNotFound
	case g.ETag == "" || g.ETag != old.ETag:
		return store.ErrConflict
	}
	g = copyGrant(g)
	g.ETag = s.nextETag()
	s.grants[g.ID] = g
	return nil
}

func (s *Store) DeleteGrant(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.grants, id)
	for h, r := range s.refresh {
		if r.GrantID == id {
			delete(s.refresh, h)
		}
	}
	return nil
}

func (s *Store) PutRefresh(_ context.Context, r store.RefreshToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r = copyRefresh(r)
	r.ETag = s.nextETag()
	s.refresh[r.Hash] = r
	return nil
}

func (s *Store) GetRefresh(_ context.Context, hash string) (store.RefreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := get(s, s.refresh, hash, func(r store.RefreshToken) time.Time { return r.ExpiresAt })
	return copyRefresh(r), err
}

func (s *Store) UpdateRefresh(_ context.Context, r store.RefreshToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.refresh[r.Hash]
	switch {
	case !ok:
		return store.ErrNotFound
	case r.ETag == "" || r.ETag != old.ETag:
		return store.ErrConflict
	}
	r = copyRefresh(r)
	r.ETag = s.nextETag()
	s.refresh[r.Hash] = r
	return nil
}

func (s *Store) DeleteRefresh(_ context.Context, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.refresh, hash)
	return nil
}

func (s *Store) DeleteExpired(_ context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := purge(s.clients, now, func(c store.Client) time.Time { return c.ExpiresAt })
	n += purge(s.authReqs, now, func(a store.AuthRequest) time.Time { return a.ExpiresAt })
	n += purge(s.consents, now, func(c store.Consent) time.Time { return c.ExpiresAt })
	n += purge(s.codes, now, func(c store.Code) time.Time { return c.ExpiresAt })
	n += purge(s.grants, now, func(g store.Grant) time.Time { return g.ExpiresAt })
	n += purge(s.refresh, now, func(r store.RefreshToken) time.Time { return r.ExpiresAt })
	n += purge(s.counters, now, func(c counter) time.Time { return c.expiresAt })
	return n, nil
}

func purge[T any](m map[string]T, now time.Time, expiresAt func(T) time.Time) int {
	n := 0
	for k, v := range m {
		if e := expiresAt(v); !e.IsZero() && e.Before(now) {
			delete(m, k)
			n++
		}
	}
	return n
}

// copyClient, copyGrant and copyRefresh detach the slices; the other
// records hold only strings, times and bools, which copy by value.
func copyClient(c store.Client) store.Client {
	c.RedirectURIs = copySlice(c.RedirectURIs)
	c.GrantTypes = copySlice(c.GrantTypes)
	c.ResponseTypes = copySlice(c.ResponseTypes)
	return c
}

func copyGrant(g store.Grant) store.Grant {
	g.Upstream = copySlice(g.Upstream)
	return g
}

func copyRefresh(r store.RefreshToken) store.RefreshToken {
	r.Successor = copySlice(r.Successor)
	return r
}

// copySlice returns nil for an empty slice, as the contract allows and as
// aztable does.
func copySlice[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return append([]T(nil), s...)
}
