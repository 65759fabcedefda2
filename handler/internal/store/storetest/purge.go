package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// testPurge: one instance at a time purges (the others skip until the
// lease lapses), each pass deletes a bounded number of records, and the
// passes together, whichever instance runs them, delete everything that
// expired and nothing else (issue 8 item 10).
func testPurge(t *testing.T, s store.Store, c *clock) {
	// 35 pending requests, every eighth one live: 30 expired.
	const records, expired = 35, 30
	for i := range records {
		a := fullAuthRequest(fmt.Sprintf("purge-%03d", i))
		a.ExpiresAt = t0.Add(time.Minute)
		if i%8 == 0 {
			a.ExpiresAt = t0.Add(24 * time.Hour)
		}
		must(t, "PutAuthRequest", s.PutAuthRequest(ctx(t), a))
	}
	every := 10 * time.Minute
	now := t0.Add(2 * time.Minute)
	c.Set(now)
	purger := func(i int) store.Purger {
		return store.Purger{Store: s, Holder: fmt.Sprint("instance-", i), Every: every, PageSize: 4, Pages: 2}
	}

	// Ten instances tick at once: one purges.
	deleted := make([]int, 10)
	ran := make([]bool, 10)
	errs := race(10, func(i int) error {
		var err error
		deleted[i], ran[i], err = purger(i).Run(ctx(t), now)
		return err
	})
	total, runs := 0, 0
	for i, err := range errs {
		must(t, "Purger.Run", err)
		if ran[i] {
			runs++
		}
		total += deleted[i]
	}
	if runs != 1 || total == 0 || total > 8 {
		t.Fatalf("first tick: %d instances purged, %d records; want one instance, 1 to 8 records (2 pages of 4)", runs, total)
	}
	// Within the interval the others still skip (a holder of its own: the
	// winner above may renew its lease).
	if n, ran, err := purger(99).Run(ctx(t), now.Add(every/2)); ran || n != 0 || err != nil {
		t.Fatalf("a tick within the interval: ran %v, deleted %d, %v", ran, n, err)
	}
	// Later passes, by any instance, go on from the cursor to the end.
	for pass := 1; total < expired && pass < 20; pass++ {
		n, ran, err := purger(pass%10).Run(ctx(t), now.Add(time.Duration(pass)*every))
		if !ran || err != nil || n > 8 {
			t.Fatalf("pass %d: ran %v, deleted %d, %v", pass, ran, n, err)
		}
		total += n
	}
	if total != expired {
		t.Errorf("the passes deleted %d records, want %d", total, expired)
	}
	c.Set(t0)
	for i := range records {
		_, err := s.GetAuthRequest(ctx(t), fmt.Sprintf("purge-%03d", i))
		if i%8 == 0 {
			wantErr(t, "GetAuthRequest(live)", err, nil)
		} else {
			wantErr(t, "GetAuthRequest(expired)", err, store.ErrNotFound)
		}
	}
}
