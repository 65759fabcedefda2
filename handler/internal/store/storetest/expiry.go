package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

// testExpiry: Table Storage has no TTL (docs/architecture.md §7.2), so every
// read must check ExpiresAt itself. Each case stores a record that expires at
// t0+1m and reads it after the clock has passed that.
func testExpiry(t *testing.T, s store.Store, c *clock) {
	exp := t0.Add(time.Minute)
	tests := []struct {
		name string
		put  func() error
		read func() error
	}{{
		name: "GetClient",
		put: func() error {
			cl := fullClient("expiring-client")
			cl.ExpiresAt = exp
			return s.CreateClient(ctx(t), cl)
		},
		read: func() error { _, err := s.GetClient(ctx(t), "expiring-client"); return err },
	}, {
		name: "GetAuthRequest",
		put: func() error {
			a := fullAuthRequest("expiring-get")
			a.ExpiresAt = exp
			return s.PutAuthRequest(ctx(t), a)
		},
		read: func() error { _, err := s.GetAuthRequest(ctx(t), "expiring-get"); return err },
	}, {
		name: "TakeAuthRequest",
		put: func() error {
			a := fullAuthRequest("expiring-take")
			a.ExpiresAt = exp
			return s.PutAuthRequest(ctx(t), a)
		},
		read: func() error { _, err := s.TakeAuthRequest(ctx(t), "expiring-take"); return err },
	}, {
		name: "GetConsent",
		put: func() error {
			co := fullConsent("expiring-consent")
			co.ExpiresAt = exp
			return s.PutConsent(ctx(t), co)
		},
		read: func() error { _, err := s.GetConsent(ctx(t), "expiring-consent"); return err },
	}, {
		name: "TakeCode",
		put: func() error {
			co := fullCode("expiring-code")
			co.ExpiresAt = exp
			return s.PutCode(ctx(t), co)
		},
		read: func() error { _, err := s.TakeCode(ctx(t), "expiring-code"); return err },
	}, {
		name: "GetGrant",
		put: func() error {
			g := fullGrant("expiring-grant")
			g.ExpiresAt = exp
			return s.CreateGrant(ctx(t), g)
		},
		read: func() error { _, err := s.GetGrant(ctx(t), "expiring-grant"); return err },
	}, {
		name: "GetRefresh",
		put: func() error {
			r := fullRefresh("expiring-refresh", "g")
			r.ExpiresAt = exp
			return s.PutRefresh(ctx(t), r)
		},
		read: func() error { _, err := s.GetRefresh(ctx(t), "g", "expiring-refresh"); return err },
	}}
	for _, tt := range tests {
		must(t, tt.name+": put", tt.put())
	}
	c.Set(exp) // expired means "before now": at the instant itself it still reads
	for _, tt := range tests {
		if tt.name[:4] != "Take" {
			wantErr(t, tt.name+" at ExpiresAt", tt.read(), nil)
		}
	}
	c.Set(exp.Add(time.Second))
	for _, tt := range tests {
		wantErr(t, tt.name+" after ExpiresAt", tt.read(), store.ErrNotFound)
	}
}

// deleteAllExpired follows DeleteExpired's cursor to the end of the store
// and returns how many records it deleted and in how many calls.
func deleteAllExpired(t *testing.T, s store.Store, now time.Time, max int) (deleted, calls int) {
	t.Helper()
	cursor := ""
	for {
		n, next, err := s.DeleteExpired(ctx(t), now, cursor, max)
		must(t, "DeleteExpired", err)
		if n > max {
			t.Fatalf("DeleteExpired(max %d) deleted %d in one call", max, n)
		}
		deleted, calls = deleted+n, calls+1
		if next == "" {
			return deleted, calls
		}
		if calls > 10000 {
			t.Fatal("DeleteExpired never reached the end")
		}
		cursor = next
	}
}

func testDeleteExpired(t *testing.T, s store.Store, c *clock) {
	if n, _ := deleteAllExpired(t, s, t0, 100); n != 0 {
		t.Errorf("DeleteExpired(empty store) = %d, want 0", n)
	}

	// One record of each kind expires at t0+1m, one at t0+1h; the client
	// with zero ExpiresAt never does.
	put := func(suffix string, exp time.Time) {
		cl := fullClient("client-" + suffix)
		cl.ExpiresAt = exp
		must(t, "CreateClient", s.CreateClient(ctx(t), cl))
		a := fullAuthRequest("authreq-" + suffix)
		a.ExpiresAt = exp
		must(t, "PutAuthRequest", s.PutAuthRequest(ctx(t), a))
		co := fullConsent("consent-" + suffix)
		co.ExpiresAt = exp
		must(t, "PutConsent", s.PutConsent(ctx(t), co))
		cd := fullCode("code-" + suffix)
		cd.ExpiresAt = exp
		must(t, "PutCode", s.PutCode(ctx(t), cd))
		g := fullGrant("grant-" + suffix)
		g.ExpiresAt = exp
		must(t, "CreateGrant", s.CreateGrant(ctx(t), g))
		r := fullRefresh("refresh-"+suffix, g.ID)
		r.ExpiresAt = exp
		must(t, "PutRefresh", s.PutRefresh(ctx(t), r))
		if _, err := s.Increment(ctx(t), "counter-"+suffix, exp); err != nil {
			t.Fatalf("Increment: %v", err)
		}
	}
	put("old", t0.Add(time.Minute))
	put("new", t0.Add(time.Hour))
	must(t, "CreateClient", s.CreateClient(ctx(t), fullClient("forever")))

	c.Set(t0.Add(2 * time.Minute))
	if n, _ := deleteAllExpired(t, s, c.Now(), 100); n != 7 {
		t.Errorf("DeleteExpired = %d, want 7", n)
	}

	// Back to t0, when the old records were live: only a real delete hides them.
	c.Set(t0)
	reads := []struct {
		name string
		read func(suffix string) error
	}{
		{"GetClient", func(x string) error { _, err := s.GetClient(ctx(t), "client-"+x); return err }},
		{"GetAuthRequest", func(x string) error { _, err := s.GetAuthRequest(ctx(t), "authreq-"+x); return err }},
		{"GetConsent", func(x string) error { _, err := s.GetConsent(ctx(t), "consent-"+x); return err }},
		{"GetGrant", func(x string) error { _, err := s.GetGrant(ctx(t), "grant-"+x); return err }},
		{"GetRefresh", func(x string) error { _, err := s.GetRefresh(ctx(t), "grant-"+x, "refresh-"+x); return err }},
		{"TakeCode", func(x string) error { _, err := s.TakeCode(ctx(t), "code-"+x); return err }},
	}
	for _, r := range reads {
		wantErr(t, r.name+"(purged)", r.read("old"), store.ErrNotFound)
		wantErr(t, r.name+"(live)", r.read("new"), nil)
	}
	if _, err := s.GetClient(ctx(t), "forever"); err != nil {
		t.Errorf("GetClient(forever) = %v", err)
	}
	// The purged counter starts again; the live one counts on.
	if n, err := s.Increment(ctx(t), "counter-old", t0.Add(time.Hour)); n != 1 || err != nil {
		t.Errorf("Increment(purged counter) = %d, %v; want 1", n, err)
	}
	if n, err := s.Increment(ctx(t), "counter-new", t0.Add(time.Hour)); n != 2 || err != nil {
		t.Errorf("Increment(live counter) = %d, %v; want 2", n, err)
	}

	c.Set(t0.Add(2 * time.Minute))
	if n, _ := deleteAllExpired(t, s, c.Now(), 100); n != 0 {
		t.Errorf("DeleteExpired(again) = %d, want 0", n)
	}
}

// testDeleteExpiredPaged: one call deletes at most max records, however
// many have expired, and following the cursor deletes them all, live
// records untouched. This is what bounds the cost of one purge pass.
func testDeleteExpiredPaged(t *testing.T, s store.Store, c *clock) {
	const expired, live = 25, 10
	for i := range expired + live {
		a := fullAuthRequest(fmt.Sprintf("paged-%03d", i))
		if i%7 == 3 || i >= expired+live-live/2 {
			a.ExpiresAt = t0.Add(time.Hour) // live, some between expired ones
		} else {
			a.ExpiresAt = t0.Add(time.Minute)
		}
		must(t, "PutAuthRequest", s.PutAuthRequest(ctx(t), a))
	}
	c.Set(t0.Add(2 * time.Minute))
	n, next, err := s.DeleteExpired(ctx(t), c.Now(), "", 4)
	must(t, "DeleteExpired", err)
	if n > 4 || next == "" {
		t.Fatalf("DeleteExpired(max 4) = %d, cursor %q; want at most 4 and a cursor to go on from", n, next)
	}
	rest, calls := deleteAllExpired(t, s, c.Now(), 4)
	wantExpired := 0
	for i := range expired + live {
		if !(i%7 == 3 || i >= expired+live-live/2) {
			wantExpired++
		}
	}
	// The first call's deletions plus a full walk from the start.
	if n+rest != wantExpired || calls < wantExpired/4 {
		t.Errorf("deleted %d then %d in %d calls, want %d in all, at most 4 a call", n, rest, calls, wantExpired)
	}
	c.Set(t0)
	for i := range expired + live {
		_, err := s.GetAuthRequest(ctx(t), fmt.Sprintf("paged-%03d", i))
		if isLive := i%7 == 3 || i >= expired+live-live/2; isLive {
			wantErr(t, "GetAuthRequest(live)", err, nil)
		} else {
			wantErr(t, "GetAuthRequest(purged)", err, store.ErrNotFound)
		}
	}
}
