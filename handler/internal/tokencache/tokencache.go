// Package tokencache remembers verified bearer tokens so a token is
// verified once, not on every request: an RS256 signature check (~50 µs)
// costs about as much as the rest of an MCP request (see the performance
// section of the README). Entries are keyed by the SHA-256 of their key (the
// cache never holds a token), expire with what they describe, and the cache
// is bounded. It also serves as the short-lived cache of live grants in mode
// proxy.
package tokencache

import (
	"crypto/sha256"
	"sync"
	"time"
	"unsafe"
)

// Cache maps verified tokens to what verifying them produced.
type Cache[V any] struct {
	mu    sync.Mutex
	m     map[[32]byte]entry[V]
	max   int
	now   func() time.Time
	swept time.Time // when Put last dropped the expired entries
}

// sweepEvery is how often Put drops expired entries. Without it a cache
// keeps what expired until it is full: the grants of the last 10,000
// sign-ins, say, each trusted for two seconds (oauth.GrantCheckInterval)
// and then dead weight, which the soak (scripts/soak.sh) showed as
// resident memory growing for minutes. A sweep walks the map once: about
// 100 µs for 10,000 entries, once a second at most.
const sweepEvery = time.Second

type entry[V any] struct {
	v   V
	exp time.Time
}

// New returns a cache holding at most max tokens; now is the clock that
// decides expiry (nil: time.Now).
func New[V any](max int, now func() time.Time) *Cache[V] {
	if now == nil {
		now = time.Now
	}
	return &Cache[V]{m: make(map[[32]byte]entry[V]), max: max, now: now}
}

// key hashes token in place. []byte(token) would copy it to the heap on
// every request (a bearer token is ~800 bytes; this runs once or twice per
// MCP request): the digest only reads its input and keeps no reference to
// it, so the string's own bytes are handed over instead.
func key(token string) [32]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
}

// Get returns the cached result for token if it has not expired.
func (c *Cache[V]) Get(token string) (V, bool) {
	k := key(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		var zero V
		return zero, false
	}
	if !c.now().Before(e.exp) {
		delete(c.m, k)
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put remembers v for token until exp.
func (c *Cache[V]) Put(token string, v V, exp time.Time) {
	if c.max <= 0 {
		return
	}
	k := key(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.swept) >= sweepEvery {
		c.dropExpired(now)
		c.swept = now
	}
	if len(c.m) >= c.max {
		c.evict()
	}
	c.m[k] = entry[V]{v: v, exp: exp}
}

// Delete forgets token, e.g. when what it stands for was revoked.
func (c *Cache[V]) Delete(token string) {
	k := key(token)
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// Len reports how many tokens are cached.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// evict drops expired entries and, if the cache is still full, about a
// quarter of the rest (map order is random enough; a miss only costs one
// verification).
func (c *Cache[V]) evict() {
	c.dropExpired(c.now())
	drop := len(c.m) - c.max*3/4
	for k := range c.m {
		if drop <= 0 {
			break
		}
		delete(c.m, k)
		drop--
	}
}

func (c *Cache[V]) dropExpired(now time.Time) {
	for k, e := range c.m {
		if !now.Before(e.exp) {
			delete(c.m, k)
		}
	}
}
