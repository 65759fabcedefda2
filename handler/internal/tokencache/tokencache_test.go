package tokencache

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	now := time.Unix(1000, 0)
	c := New[string](4, func() time.Time { return now })
	c.Put("tok-a", "A", now.Add(time.Minute))
	if v, ok := c.Get("tok-a"); !ok || v != "A" {
		t.Fatalf("Get = %q %v", v, ok)
	}
	if _, ok := c.Get("tok-b"); ok {
		t.Fatal("unknown token found")
	}
	now = now.Add(time.Minute)
	if _, ok := c.Get("tok-a"); ok {
		t.Fatal("expired token still cached")
	}
	if c.Len() != 0 {
		t.Fatalf("expired entry not removed, Len = %d", c.Len())
	}
	for i := 0; i < 100; i++ {
		c.Put(fmt.Sprint("t", i), "x", now.Add(time.Hour))
	}
	if c.Len() > 4 {
		t.Fatalf("Len = %d, bound is 4", c.Len())
	}
	if _, ok := c.Get("t99"); !ok {
		t.Fatal("most recent entry was evicted")
	}
}

// Expired entries do not wait for the cache to fill up: a Put drops them
// once a second, so a cache of short-lived entries (grants trusted for two
// seconds) holds only the live ones.
func TestPutDropsExpiredEntries(t *testing.T) {
	now := time.Unix(1000, 0)
	c := New[string](10000, func() time.Time { return now })
	for i := range 100 {
		c.Put(fmt.Sprint("grant-", i), "g", now.Add(2*time.Second))
	}
	now = now.Add(3 * time.Second)
	c.Put("fresh", "g", now.Add(2*time.Second))
	if c.Len() != 1 {
		t.Fatalf("Len = %d after the others expired, want 1", c.Len())
	}
}

func TestZeroSizeCachesNothing(t *testing.T) {
	c := New[int](0, nil)
	c.Put("t", 1, time.Now().Add(time.Hour))
	if _, ok := c.Get("t"); ok {
		t.Fatal("zero-size cache stored a token")
	}
}

func BenchmarkGetHit(b *testing.B) {
	c := New[int](1024, nil)
	tok := string(make([]byte, 700)) // about the size of our access tokens
	c.Put(tok, 1, time.Now().Add(time.Hour))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Get(tok)
		}
	})
}

// A hit costs no allocation: the token is hashed where it lies, not copied
// (the hot path of every authenticated MCP request).
func TestGetDoesNotAllocate(t *testing.T) {
	c := New[*int](10, nil)
	v := 1
	token := strings.Repeat("t", 800)
	c.Put(token, &v, time.Now().Add(time.Hour))
	if n := testing.AllocsPerRun(100, func() {
		if _, ok := c.Get(token); !ok {
			t.Fatal("miss")
		}
	}); n != 0 {
		t.Errorf("Get allocates %v times per call, want 0", n)
	}
}

func TestEmptyTokenHasAKeyToo(t *testing.T) {
	c := New[int](2, nil)
	c.Put("", 7, time.Now().Add(time.Hour))
	if v, ok := c.Get(""); !ok || v != 7 {
		t.Errorf("Get(\"\") = %v %v", v, ok)
	}
}
