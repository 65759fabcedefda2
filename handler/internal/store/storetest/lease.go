package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// testLease: a named lease is held by one instance at a time until it
// lapses, keeps its cursor from holder to holder, and can be written only
// by the holder that has its current ETag.
func testLease(t *testing.T, s store.Store, _ *clock) {
	l, err := s.AcquireLease(ctx(t), "job", "a", t0, t0.Add(time.Minute))
	must(t, "AcquireLease(free)", err)
	if l.Name != "job" || l.Holder != "a" || !l.Until.Equal(t0.Add(time.Minute)) || l.ETag == "" || l.Cursor != "" {
		t.Fatalf("AcquireLease(free) = %+v", l)
	}
	_, err = s.AcquireLease(ctx(t), "job", "b", t0.Add(30*time.Second), t0.Add(2*time.Minute))
	wantErr(t, "AcquireLease(held by another)", err, store.ErrConflict)
	if _, err := s.AcquireLease(ctx(t), "other-job", "b", t0, t0.Add(time.Minute)); err != nil {
		t.Errorf("AcquireLease(another name) = %v", err)
	}

	l.Cursor = "page-2"
	must(t, "UpdateLease", s.UpdateLease(ctx(t), l))
	wantErr(t, "UpdateLease(stale ETag)", s.UpdateLease(ctx(t), l), store.ErrConflict)

	// Renewed by its holder; taken over by another once it has lapsed,
	// cursor included; the old holder's writes then fail.
	a2, err := s.AcquireLease(ctx(t), "job", "a", t0.Add(30*time.Second), t0.Add(time.Minute))
	must(t, "AcquireLease(renew)", err)
	b, err := s.AcquireLease(ctx(t), "job", "b", t0.Add(61*time.Second), t0.Add(2*time.Minute))
	must(t, "AcquireLease(lapsed)", err)
	if b.Holder != "b" || b.Cursor != "page-2" {
		t.Errorf("AcquireLease(lapsed) = %+v, want holder b and the cursor kept", b)
	}
	a2.Cursor = "stale"
	wantErr(t, "UpdateLease(by the old holder)", s.UpdateLease(ctx(t), a2), store.ErrConflict)

	// Of many instances racing for a free lease, one gets it.
	const racers = 20
	errs := race(racers, func(i int) error {
		_, err := s.AcquireLease(ctx(t), "raced-job", fmt.Sprint("instance-", i), t0, t0.Add(time.Minute))
		return err
	})
	oneWinner(t, "AcquireLease", errs, store.ErrConflict)
	for _, err := range errs {
		if err != nil && !errors.Is(err, store.ErrConflict) {
			t.Errorf("AcquireLease(raced) = %v", err)
		}
	}
}
