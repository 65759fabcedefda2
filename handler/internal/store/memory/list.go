package memory

import (
	"context"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// ListGrants scans every grant: the memory store is for tests and local
// runs, where there are few.
func (s *Store) ListGrants(_ context.Context, q store.GrantQuery) ([]store.Grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Grant
	for _, g := range s.grants {
		if !s.live(g.ExpiresAt) || (q.Subject != "" && g.Subject != q.Subject) || (q.ClientID != "" && g.ClientID != q.ClientID) {
			continue
		}
		g = copyGrant(g)
		g.Upstream = nil
		out = append(out, g)
	}
	return out, nil
}

func (s *Store) PutClientBlock(_ context.Context, b store.ClientBlock) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocks[b.ClientID] = b
	return nil
}

func (s *Store) GetClientBlock(_ context.Context, clientID string) (store.ClientBlock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.blocks[clientID]
	if !ok {
		return store.ClientBlock{}, store.ErrNotFound
	}
	return b, nil
}

func (s *Store) DeleteClientBlock(_ context.Context, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.blocks, clientID)
	return nil
}
