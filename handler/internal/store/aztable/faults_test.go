package aztable_test

import (
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store/aztable"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store/storetest"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
)

// TestStoreUnderFaults runs the whole conformance suite with every third
// operation's first try failing as Table Storage fails under load: busy
// (not done), timed out after it took effect, and the connection dropped
// after it took effect (throttling with Retry-After: TestThrottled). The retries must hide
// all of it: every answer, including the races (one winner of twenty
// redemptions, counters that count each call once), is what it is without
// faults. The last two kinds are the hard ones: a retried insert or
// conditional update meets its own earlier write (409, 412) and must
// recognise it.
func TestStoreUnderFaults(t *testing.T) {
	conn := connection(t)
	proxy := testutil.StartTableFaults(t, conn)
	proxy.Set(testutil.FirstTryOfEvery(3, testutil.ServerBusy, testutil.OperationTimedOut, testutil.Dropped))
	t.Cleanup(func() { // after the parallel subtests
		faults := map[testutil.Fault]int{}
		for _, e := range proxy.Log() {
			faults[e.Fault]++
		}
		t.Logf("faults injected: %v", faults)
		for _, f := range []testutil.Fault{testutil.ServerBusy, testutil.OperationTimedOut, testutil.Dropped} {
			if faults[f] == 0 {
				t.Errorf("no %v injected; the test did not test it", f)
			}
		}
	})
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		return newStore(t, proxy.ConnectionString(conn), aztable.WithClock(now))
	})
}

// TestThrottled: a Retry-After within the retry options' cap is waited out
// and the operation succeeds.
func TestThrottled(t *testing.T) {
	conn := connection(t)
	proxy := testutil.StartTableFaults(t, conn)
	s := newStore(t, proxy.ConnectionString(conn))
	proxy.Set(testutil.FirstTryOfEvery(1, testutil.Throttled))
	start := time.Now()
	if err := s.CreateGrant(t.Context(), store.Grant{ID: "g"}); err != nil {
		t.Fatalf("CreateGrant = %v", err)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("took %v, less than the Retry-After of 1 s", took)
	}
}

// TestFaultsOutlastingTheBudget: a service that keeps failing is given up on
// within the operation's budget, as ErrUnavailable (handlers answer 503),
// whatever the fault.
func TestFaultsOutlastingTheBudget(t *testing.T) {
	conn := connection(t)
	proxy := testutil.StartTableFaults(t, conn)
	const budget = 2 * time.Second
	s := newStore(t, proxy.ConnectionString(conn), aztable.WithTimeout(budget))
	if err := s.CreateGrant(t.Context(), store.Grant{ID: "g", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, fault := range []testutil.Fault{testutil.ServerBusy, testutil.Throttled, testutil.OperationTimedOut, testutil.Dropped} {
		t.Run(fault.String(), func(t *testing.T) {
			proxy.Set(testutil.Always(fault))
			defer proxy.Set(nil)
			start := time.Now()
			_, err := s.GetGrant(t.Context(), "g")
			took := time.Since(start)
			if !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("GetGrant = %v, want %v", err, store.ErrUnavailable)
			}
			if took > budget+time.Second {
				t.Errorf("GetGrant took %v, want at most about %v", took, budget)
			}
			if tries := len(proxy.Log()); tries < 2 {
				t.Errorf("%d tries, want retries", tries)
			}
		})
	}
}

// TestConflictsAreNotRetried: 409 and 412 are answers, not faults; each
// costs one request, never a retry.
func TestConflictsAreNotRetried(t *testing.T) {
	conn := connection(t)
	proxy := testutil.StartTableFaults(t, conn)
	s := newStore(t, proxy.ConnectionString(conn))
	ctx := t.Context()
	if err := s.CreateGrant(ctx, store.Grant{ID: "g"}); err != nil {
		t.Fatal(err)
	}
	g, err := s.GetGrant(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	proxy.Log()
	tests := []struct {
		name   string
		run    func() error
		want   error
		status int
	}{
		{"insert over an existing row (409)", func() error { return s.CreateGrant(ctx, store.Grant{ID: "g"}) }, store.ErrAlreadyExists, http.StatusConflict},
		{"replace with a stale ETag (412)", func() error { return s.UpdateGrant(ctx, g) }, store.ErrConflict, http.StatusPreconditionFailed},
	}
	for _, tt := range tests {
		if err := tt.run(); !errors.Is(err, tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, err, tt.want)
		}
		// CreateGrant first writes the grant's two index rows (list.go):
		// upserts, answered 204; the conflict is the last request, once.
		var statuses []int
		for _, e := range proxy.Log() {
			statuses = append(statuses, e.Status)
		}
		n := len(statuses)
		if n == 0 || statuses[n-1] != tt.status || slices.Index(statuses, tt.status) != n-1 {
			t.Errorf("%s: requests answered %v, want one %d, last", tt.name, statuses, tt.status)
		}
	}
}

// TestTakeRetriedAfterItTookEffect: when the write that takes a record
// times out after it took effect, the retry meets its own mark (412) and
// must know it as its own: the caller took the record, once, and nobody
// else can.
func TestTakeRetriedAfterItTookEffect(t *testing.T) {
	conn := connection(t)
	proxy := testutil.StartTableFaults(t, conn)
	s := newStore(t, proxy.ConnectionString(conn))
	ctx := t.Context()
	for _, fault := range []testutil.Fault{testutil.OperationTimedOut, testutil.Dropped, testutil.ServerBusy} {
		id := "state-" + fault.String()
		if err := s.PutAuthRequest(ctx, store.AuthRequest{ID: id, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		proxy.Set(func(r testutil.TableRequest) testutil.Fault {
			if r.Method != http.MethodGet && r.Try == 1 {
				return fault
			}
			return testutil.Pass
		})
		a, err := s.TakeAuthRequest(ctx, id)
		proxy.Set(nil)
		if err != nil || a.ID != id {
			t.Errorf("%v: TakeAuthRequest = %+v, %v; want the request", fault, a, err)
		}
		if _, err := s.TakeAuthRequest(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%v: TakeAuthRequest again = %v, want %v", fault, err, store.ErrNotFound)
		}
	}
}
