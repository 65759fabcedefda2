package apimemu

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// rateLimitStep is rate-limit-by-key
// (learn.microsoft.com/azure/api-management/rate-limit-by-key-policy):
// at most `calls` calls per key value in a sliding window of
// `renewal-period` seconds (at most 300); over the limit "the caller
// receives a 429 Too Many Requests response status code" with Retry-After.
// "For each key value, a single counter is used for all scopes at which the
// policy is configured", so counters live in the gateway, keyed by value.
type rateLimitStep struct {
	calls  int
	period time.Duration
	key    value
}

func compileRateLimit(cp *compiler, n *node, sec section) step {
	a := cp.attrs(n)
	s := &rateLimitStep{
		calls:  a.integer("calls", 0, 1, 1<<20),
		period: time.Duration(a.integer("renewal-period", 0, 1, 300)) * time.Second,
		key:    a.value("counter-key", kindString, true, ""),
	}
	a.done()
	cp.noKids(n)
	return s
}

func (s *rateLimitStep) run(c *call) error {
	key, err := s.key.str(c)
	if err != nil {
		return exprError{err}
	}
	retry, ok := c.g.limits.take(key, s.calls, s.period, c.g.now())
	if ok {
		return nil
	}
	secs := max(1, int((retry+time.Second-1)/time.Second))
	// The error table names the source "rate-limit" for the rate-limit
	// policy; LastError.Source "names the element where the error
	// occurred", which here is rate-limit-by-key.
	return &PolicyError{
		Source:  "rate-limit-by-key",
		Reason:  "RateLimitExceeded",
		Message: fmt.Sprintf("Rate limit is exceeded. Try again in %d seconds.", secs),
		status:  http.StatusTooManyRequests,
		header:  http.Header{"Retry-After": {strconv.Itoa(secs)}},
	}
}

// limiter holds one sliding log of call times per counter key.
type limiter struct {
	mu    sync.Mutex
	calls map[string][]time.Time
}

func newLimiter() *limiter { return &limiter{calls: map[string][]time.Time{}} }

// take counts a call for key if fewer than max calls happened in the last
// period; otherwise it returns how long until the oldest one leaves the
// window. Refused calls are not counted.
func (l *limiter) take(key string, max int, period time.Duration, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	log := l.calls[key]
	i := 0
	for i < len(log) && !log[i].After(now.Add(-period)) {
		i++
	}
	log = log[i:]
	if len(log) >= max {
		l.calls[key] = log
		return log[len(log)-max].Add(period).Sub(now), false
	}
	l.calls[key] = append(log, now)
	if len(l.calls) > 10000 {
		l.sweep(now)
	}
	return 0, true
}

// sweep drops keys whose newest call is older than the longest period.
func (l *limiter) sweep(now time.Time) {
	for k, log := range l.calls {
		if len(log) == 0 || now.Sub(log[len(log)-1]) > 300*time.Second {
			delete(l.calls, k)
		}
	}
}
