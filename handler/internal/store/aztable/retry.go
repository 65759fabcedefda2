package aztable

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// Faults, as Table Storage produces them. A partition or an account over
// its scalability targets answers 503 ServerBusy or 500 OperationTimedOut
// and asks for retries with exponential back-off
// (learn.microsoft.com/azure/storage/tables/scalability-targets); a 500
// OperationTimedOut may come after the operation took effect, and so may a
// try the client gave up on. The retry policy below rides those out within
// the operation's time budget (WithTimeout, 5 s by default); what it cannot
// absorb becomes store.ErrUnavailable, which handlers answer with 503
// temporarily_unavailable.
//
// 409 and 412 are not in its list: a conflict is an answer, not a fault,
// and repeating the request blindly could only turn it into a wrong one.
// But a retried insert or conditional update may meet a conflict that its
// own earlier, ambiguous try caused. So every insert and conditional
// update carries a random WriteID, and a conflict after a retry is checked
// by reading the row back: if it holds our WriteID, the write took effect
// and the conflict is ours (landed). That is also why single use is a
// conditional write (a mark, see take) and not a conditional delete: a
// delete leaves nothing to read back, and its 404 after a retry could be
// its own doing or a rival's.

// retryOptions are chosen, not the SDK's defaults (3 retries from 800 ms up
// to 60 s, which would spend the whole budget on one back-off): up to 3
// retries after about 0.1, 0.3 and 0.7 s (with jitter), a Retry-After of
// more than 1 s ends the retries (the service is shedding load; answer 503
// now rather than queue), and each try is cut off after 2 s so a hung
// connection leaves time for another try.
func retryOptions() policy.RetryOptions {
	return policy.RetryOptions{
		MaxRetries:    3,
		TryTimeout:    2 * time.Second,
		RetryDelay:    100 * time.Millisecond,
		MaxRetryDelay: time.Second,
		// The SDK's list, spelled out: these mean "not done, or not known
		// to be done; try again".
		StatusCodes: []int{
			http.StatusRequestTimeout,      // 408
			http.StatusTooManyRequests,     // 429
			http.StatusInternalServerError, // 500 OperationTimedOut, InternalError
			http.StatusBadGateway,          // 502
			http.StatusServiceUnavailable,  // 503 ServerBusy
			http.StatusGatewayTimeout,      // 504
		},
	}
}

// clientOptions are o (nil: the defaults) with two policies added: every
// operation gets an x-ms-client-request-id, the same on each of its tries
// (Table Storage records it in its logs, so retries can be told from new
// requests there), and a try counter, so an operation can tell whether the
// SDK retried it.
func clientOptions(o *aztables.ClientOptions) *aztables.ClientOptions {
	var c aztables.ClientOptions
	if o != nil {
		c = *o
	} else {
		c.Retry = retryOptions()
	}
	c.PerCallPolicies = append(append([]policy.Policy(nil), c.PerCallPolicies...), runtime.NewRequestIDPolicy())
	c.PerRetryPolicies = append(append([]policy.Policy(nil), c.PerRetryPolicies...), countTries{})
	return &c
}

// tries counts the HTTP tries of one operation.
type tries struct{ n atomic.Int32 }

type triesKey struct{}

// withTries returns a context whose requests are counted in the result.
func withTries(ctx context.Context) (context.Context, *tries) {
	t := &tries{}
	return context.WithValue(ctx, triesKey{}, t), t
}

// retried reports whether more than one try was sent: then an earlier try
// may have taken effect although its answer was a fault.
func (t *tries) retried() bool { return t.n.Load() > 1 }

// countTries is a per-try pipeline policy (it runs inside the retry loop).
type countTries struct{}

func (countTries) Do(req *policy.Request) (*http.Response, error) {
	if t, ok := req.Raw().Context().Value(triesKey{}).(*tries); ok {
		t.n.Add(1)
	}
	return req.Next()
}

// propWriteID is the property that holds the WriteID of the last insert or
// conditional update of a row.
const propWriteID = "WriteID"

func newWriteID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// landed reports whether the row at k holds writeID (as its WriteID or
// among its earlier ones, propRecentWrites), that is whether a write whose
// answer was a conflict had in fact taken effect on an earlier try.
func (s *Store) landed(ctx context.Context, k keys, writeID string) bool {
	var resp aztables.GetEntityResponse
	err := s.call(ctx, func(ctx context.Context) (err error) {
		resp, err = s.client.GetEntity(ctx, k.pk, k.rk, nil)
		return err
	})
	if err != nil {
		return false
	}
	f, err := decodeFields(resp.Value)
	return err == nil && (f.str(propWriteID) == writeID || slices.Contains(strings.Fields(f.str(propRecentWrites)), writeID))
}

// propRecentWrites keeps the WriteIDs before the last one, for rows that
// many writers update in quick succession (counters): by the time a
// retried write reads the row back, a rival may have written over it.
const propRecentWrites = "RecentWrites"

// recentWrites is the RecentWrites value for a write over the row f: its
// WriteID and RecentWrites, the newest first, at most 16.
func recentWrites(f *fields) string {
	ids := append([]string{f.str(propWriteID)}, strings.Fields(f.str(propRecentWrites))...)
	return strings.Join(ids[:min(len(ids), 16)], " ")
}

func hasCode(err error, code aztables.TableErrorCode) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.ErrorCode == string(code)
}
