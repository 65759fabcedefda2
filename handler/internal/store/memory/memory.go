// Package memory is the in-process store.Store: for tests and for local runs
// without storage. State is lost when the process exits and is not shared
// between instances, so it is no good for more than one Functions worker.
package memory

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

var _ store.Store = (*Store)(nil)

// Store keeps every record in maps guarded by one mutex. Records go in and
// come out as copies, so no caller can change stored state through a slice.
type Store struct {
	now func() time.Time

	mu       sync.Mutex
	etag     uint64 // last ETag handed out; ETags are counters
	clients  map[string]store.Client
	authReqs map[string]store.AuthRequest
	consents map[string]store.Consent
	codes    map[string]store.Code
	grants   map[string]store.Grant
	refresh  map[string]store.RefreshToken
	counters map[string]counter
	leases   map[string]store.Lease
	blocks   map[string]store.ClientBlock
}

type counter struct {
	n         int64
	expiresAt time.Time
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that reads compare ExpiresAt with (default
// time.Now); tests pass a fake to expire records without sleeping.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// New returns an empty Store.
func New(opts ...Option) *Store {
	s := &Store{
		now:      time.Now,
		clients:  map[string]store.Client{},
		authReqs: map[string]store.AuthRequest{},
		consents: map[string]store.Consent{},
		codes:    map[string]store.Code{},
		grants:   map[string]store.Grant{},
		refresh:  map[string]store.RefreshToken{},
		counters: map[string]counter{},
		leases:   map[string]store.Lease{},
		blocks:   map[string]store.ClientBlock{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// live reports whether a record with this expiry is visible at the store's
// current time (the same rule as aztable: expired once now is after it).
func (s *Store) live(expiresAt time.Time) bool {
	return expiresAt.IsZero() || !s.now().After(expiresAt)
}

// nextETag must be called with s.mu held.
func (s *Store) nextETag() string {
	s.etag++
	return strconv.FormatUint(s.etag, 10)
}

// get returns a live record from m; callers hold s.mu.
func get[T any](s *Store, m map[string]T, key string, expiresAt func(T) time.Time) (T, error) {
	v, ok := m[key]
	if !ok || !s.live(expiresAt(v)) {
		var zero T
		return zero, store.ErrNotFound
	}
	return v, nil
}

func (s *Store) CreateClient(_ context.Context, c store.Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[c.ID]; ok {
		return store.ErrAlreadyExists
	}
	s.clients[c.ID] = copyClient(c)
	return nil
}

func (s *Store) GetClient(_ context.Context, id string) (store.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := get(s, s.clients, id, func(c store.Client) time.Time { return c.ExpiresAt })
	return copyClient(c), err
}

func (s *Store) TouchClient(_ context.Context, id string, expiresAt time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return store.ErrNotFound
	}
	c.ExpiresAt = expiresAt
	s.clients[id] = c
	return nil
}

func (s *Store) Increment(_ context.Context, key string, expiresAt time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.counters[key]
	if !ok || !s.live(c.expiresAt) {
		c = counter{expiresAt: expiresAt}
	}
	c.n++
	s.counters[key] = c
	return c.n, nil
}

func (s *Store) PutAuthRequest(_ context.Context, a store.AuthRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authReqs[a.ID] = a
	return nil
}

func (s *Store) GetAuthRequest(_ context.Context, id string) (store.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return get(s, s.authReqs, id, func(a store.AuthRequest) time.Time { return a.ExpiresAt })
}

// TakeAuthRequest reads and deletes under the one lock, which is what makes
// it single use.
func (s *Store) TakeAuthRequest(_ context.Context, id string) (store.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := get(s, s.authReqs, id, func(a store.AuthRequest) time.Time { return a.ExpiresAt })
	if err == nil {
		delete(s.authReqs, id)
	}
	return a, err
}

func (s *Store) PutConsent(_ context.Context, c store.Consent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consents[c.Key] = c
	return nil
}

func (s *Store) GetConsent(_ context.Context, key string) (store.Consent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return get(s, s.consents, key, func(c store.Consent) time.Time { return c.ExpiresAt })
}

func (s *Store) PutCode(_ context.Context, c store.Code) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[c.Hash] = c
	return nil
}

// TakeCode marks the code redeemed under the one lock, which is what makes
// redemption single use.
func (s *Store) TakeCode(_ context.Context, hash string) (store.Code, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := get(s, s.codes, hash, func(c store.Code) time.Time { return c.ExpiresAt })
	switch {
	case err != nil:
		return store.Code{}, err
	case !c.RedeemedAt.IsZero():
		return c, store.ErrRedeemed
	}
	redeemed := c
	redeemed.RedeemedAt = s.now().UTC()
	s.codes[hash] = redeemed
	return c, nil
}
