package memory

import (
	"context"
	"slices"
	"strings"
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

func (s *Store) GetRefresh(_ context.Context, grantID, hash string) (store.RefreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := get(s, s.refresh, hash, func(r store.RefreshToken) time.Time { return r.ExpiresAt })
	if err == nil && r.GrantID != grantID {
		return store.RefreshToken{}, store.ErrNotFound
	}
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

func (s *Store) DeleteRefresh(_ context.Context, grantID, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.refresh[hash]; ok && r.GrantID == grantID {
		delete(s.refresh, hash)
	}
	return nil
}

// DeleteExpired walks the records in (kind, key) order from cursor and
// deletes up to max expired ones. The memory store is for tests and local
// runs; it sorts every key on each call.
func (s *Store) DeleteExpired(_ context.Context, now time.Time, cursor string, max int) (int, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []record
	all = collect(all, "authreq", s.authReqs, func(a store.AuthRequest) time.Time { return a.ExpiresAt })
	all = collect(all, "client", s.clients, func(c store.Client) time.Time { return c.ExpiresAt })
	all = collect(all, "code", s.codes, func(c store.Code) time.Time { return c.ExpiresAt })
	all = collect(all, "consent", s.consents, func(c store.Consent) time.Time { return c.ExpiresAt })
	all = collect(all, "counter", s.counters, func(c counter) time.Time { return c.expiresAt })
	all = collect(all, "grant", s.grants, func(g store.Grant) time.Time { return g.ExpiresAt })
	all = collect(all, "refresh", s.refresh, func(r store.RefreshToken) time.Time { return r.ExpiresAt })
	slices.SortFunc(all, func(a, b record) int { return strings.Compare(a.pos, b.pos) })
	n := 0
	for _, r := range all {
		if r.pos <= cursor || r.expiresAt.IsZero() || !r.expiresAt.Before(now) {
			continue
		}
		if n == max {
			return n, cursor, nil
		}
		r.delete()
		n++
		cursor = r.pos
	}
	return n, "", nil
}

// record is one stored record as DeleteExpired walks them.
type record struct {
	pos       string // kind, NUL, key: the walk's order and its cursor
	expiresAt time.Time
	delete    func()
}

func collect[T any](out []record, kind string, m map[string]T, expiresAt func(T) time.Time) []record {
	for k, v := range m {
		out = append(out, record{pos: kind + "\x00" + k, expiresAt: expiresAt(v), delete: func() { delete(m, k) }})
	}
	return out
}

func (s *Store) AcquireLease(_ context.Context, name, holder string, now, until time.Time) (store.Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.leases[name]
	if ok && l.Holder != holder && now.Before(l.Until) {
		return store.Lease{}, store.ErrConflict
	}
	l.Name, l.Holder, l.Until, l.ETag = name, holder, until, s.nextETag()
	s.leases[name] = l
	return l, nil
}

func (s *Store) UpdateLease(_ context.Context, l store.Lease) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.leases[l.Name]
	if !ok || l.ETag == "" || l.ETag != old.ETag {
		return store.ErrConflict
	}
	l.ETag = s.nextETag()
	s.leases[l.Name] = l
	return nil
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
