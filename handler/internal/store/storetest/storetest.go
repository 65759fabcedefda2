// Package storetest is the conformance suite every store.Store backend must
// pass (like dex's storage/conformance): the memory backend runs it always,
// aztable runs it against Azurite. A behaviour the handlers rely on belongs
// here, not in a backend's own tests.
package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/testutil"
)

// t0 is the suite's start time. It has sub-second digits, to catch a backend
// that drops them, but is a multiple of 100 ns, the precision store.Store
// promises.
var t0 = time.Date(2026, 5, 1, 12, 0, 0, 123456700, time.UTC)

// cmpOpts compares records as the contract defines them: ETags are opaque,
// nil and empty slices are the same. Times compare with time.Time.Equal, so
// a UTC copy of a zoned time is equal.
var cmpOpts = cmp.Options{
	cmpopts.IgnoreFields(store.Grant{}, "ETag"),
	cmpopts.IgnoreFields(store.RefreshToken{}, "ETag"),
	cmpopts.EquateEmpty(),
}

// Run runs the suite. newStore returns an empty store whose expiry checks
// use now; it is called once per subtest, and subtests run in parallel.
func Run(t *testing.T, newStore func(t *testing.T, now func() time.Time) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store, c *clock)
	}{
		{"Client", testClient},
		{"AuthRequest", testAuthRequest},
		{"Consent", testConsent},
		{"Code", testCode},
		{"ConcurrentTake", testConcurrentTake},
		{"Grant", testGrant},
		{"Refresh", testRefresh},
		{"ConcurrentUpdate", testConcurrentUpdate},
		{"DeleteGrant", testDeleteGrant},
		{"ListGrants", testListGrants},
		{"ClientBlock", testClientBlock},
		{"Expiry", testExpiry},
		{"DeleteExpired", testDeleteExpired},
		{"DeleteExpiredPaged", testDeleteExpiredPaged},
		{"Lease", testLease},
		{"Purge", testPurge},
		{"TouchClient", testTouchClient},
		{"Increment", testIncrement},
		{"Keys", testKeys},
		{"Copies", testCopies},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testutil.NewClock(t0)
			tt.run(t, newStore(t, c.Now), c)
		})
	}
}

// clock is the suite's fake clock; the concurrency tests read it from
// many goroutines.
type clock = testutil.Clock

// must fails the test now if err is not nil: a setup step that failed makes
// the rest of the test meaningless.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantErr checks that err is (wraps) want; want nil means no error.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s = %v, want no error", what, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s = %v, want %v", what, err, want)
	}
}

func diff(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOpts); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// race starts n goroutines at once and returns their errors.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner checks that exactly one call succeeded and every other one
// failed with loser, and returns the winner's index.
func oneWinner(t *testing.T, what string, errs []error, loser error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("%s: calls %d and %d both succeeded", what, winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, loser):
			t.Errorf("%s: call %d = %v, want %v", what, i, err, loser)
		}
	}
	if winner < 0 {
		t.Errorf("%s: no call succeeded", what)
	}
	return winner
}

func ctx(t *testing.T) context.Context { return t.Context() }
