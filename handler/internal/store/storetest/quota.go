package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// testTouchClient: a registration's idle expiry moves forward when it is
// used, and nothing else about it changes.
func testTouchClient(t *testing.T, s store.Store, c *clock) {
	cl := fullClient("idle-client")
	cl.ExpiresAt = t0.Add(time.Hour)
	must(t, "CreateClient", s.CreateClient(ctx(t), cl))
	must(t, "TouchClient", s.TouchClient(ctx(t), cl.ID, t0.Add(2*time.Hour)))
	c.Set(t0.Add(90 * time.Minute)) // past the first expiry
	got, err := s.GetClient(ctx(t), cl.ID)
	must(t, "GetClient(touched)", err)
	cl.ExpiresAt = t0.Add(2 * time.Hour)
	diff(t, "GetClient(touched)", got, cl)
	c.Set(t0.Add(2*time.Hour + time.Second))
	_, err = s.GetClient(ctx(t), cl.ID)
	wantErr(t, "GetClient(idle too long)", err, store.ErrNotFound)
	wantErr(t, "TouchClient(missing)", s.TouchClient(ctx(t), "missing", t0), store.ErrNotFound)
}

// testIncrement: a counter per key (the registration quota per address
// and hour), created at 1, counting every call once even when they race,
// and starting again at 1 once it has expired.
func testIncrement(t *testing.T, s store.Store, c *clock) {
	exp := t0.Add(time.Hour)
	for want := int64(1); want <= 3; want++ {
		n, err := s.Increment(ctx(t), "203.0.113.7|2026-05-01T12", exp)
		if n != want || err != nil {
			t.Fatalf("Increment = %d, %v; want %d", n, err, want)
		}
	}
	if n, err := s.Increment(ctx(t), "2001:db8::1|2026-05-01T12", exp); n != 1 || err != nil {
		t.Errorf("Increment(another key) = %d, %v; want 1", n, err)
	}
	c.Set(exp.Add(time.Second))
	if n, err := s.Increment(ctx(t), "203.0.113.7|2026-05-01T12", exp.Add(time.Hour)); n != 1 || err != nil {
		t.Errorf("Increment(after expiry) = %d, %v; want 1", n, err)
	}

	const racers = 20
	got := make([]int64, racers)
	errs := race(racers, func(i int) error {
		var err error
		got[i], err = s.Increment(ctx(t), "raced-counter", exp.Add(time.Hour))
		return err
	})
	for _, err := range errs {
		must(t, "Increment(raced)", err)
	}
	slices.Sort(got)
	for i, n := range got {
		if n != int64(i+1) {
			t.Fatalf("raced Increment results %v, want 1..%d, each once", got, racers)
		}
	}
}
