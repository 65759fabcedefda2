package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// stats is what the load saw of the service: every answer of the front by
// endpoint and status, transport errors, sign-ins and lost grants.
type stats struct {
	front string // host:port of the public URL

	mu          sync.Mutex
	byEndpoint  map[string]map[int]int
	errors      map[string]int
	signIns     int
	failed      []string
	lost        []string
	toolErrors  map[string]int
	statusTotal map[int]int
}

func newStats(frontURL string) *stats {
	u, _ := url.Parse(frontURL)
	return &stats{front: u.Host, byEndpoint: map[string]map[int]int{}, errors: map[string]int{},
		toolErrors: map[string]int{}, statusTotal: map[int]int{}}
}

// counting wraps rt so that every request to the front is counted.
func (s *stats) counting(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(r)
		if r.URL.Host != s.front {
			return resp, err
		}
		ep := r.Method + " " + r.URL.Path
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case err != nil && r.Context().Err() != nil:
			// the run ended while it was in flight
		case err != nil:
			s.errors[ep+": "+err.Error()]++
		default:
			if s.byEndpoint[ep] == nil {
				s.byEndpoint[ep] = map[int]int{}
			}
			s.byEndpoint[ep][resp.StatusCode]++
			s.statusTotal[resp.StatusCode]++
		}
		return resp, err
	})
}

func (s *stats) signedIn() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signIns++
}

func (s *stats) failedSignIn(ctx context.Context, err error) {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed = append(s.failed, err.Error())
}

func (s *stats) lostGrant(what string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lost = append(s.lost, what)
}

func (s *stats) toolError(what string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.toolErrors[what]++
}

// report prints the figures and says whether the run was clean: no 5xx,
// no transport error, no failed sign-in, no lost grant, no tool error.
func (s *soak) report(w io.Writer, mem *memory, goroutines map[string]int) bool {
	out := &printer{w: w}
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	out.printf("requests by endpoint and status:\n")
	total, fivexx := 0, 0
	for _, ep := range sortedKeys(st.byEndpoint) {
		var parts []string
		for _, code := range sortedKeys(st.byEndpoint[ep]) {
			n := st.byEndpoint[ep][code]
			parts = append(parts, fmt.Sprintf("%d: %d", code, n))
		}
		out.printf("  %-48s %s\n", ep, strings.Join(parts, ", "))
	}
	var parts []string
	for _, code := range sortedKeys(st.statusTotal) {
		n := st.statusTotal[code]
		total += n
		if code >= 500 {
			fivexx += n
		}
		parts = append(parts, fmt.Sprintf("%d: %d", code, n))
	}
	out.printf("requests: %d (%s)\n", total, strings.Join(parts, ", "))
	out.printf("5xx: %d\n", fivexx)
	transport := 0
	for e, n := range st.errors {
		transport += n
		out.printf("  transport error ×%d: %s\n", n, e)
	}
	out.printf("transport errors: %d\n", transport)
	out.printf("sign-ins: %d completed, %d failed\n", st.signIns, len(st.failed))
	for i, f := range st.failed {
		if i == 5 {
			out.printf("  … and %d more\n", len(st.failed)-5)
			break
		}
		out.printf("  failed sign-in: %s\n", f)
	}
	out.printf("lost grants: %d\n", len(st.lost))
	for _, l := range st.lost {
		out.printf("  lost: %s\n", l)
	}
	for e, n := range st.toolErrors {
		out.printf("  tool error ×%d: %.200s\n", n, e)
	}
	mem.print(out, goroutines)
	return fivexx == 0 && transport == 0 && len(st.failed) == 0 && len(st.lost) == 0 && len(st.toolErrors) == 0
}

func sortedKeys[K string | int, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// printer writes the report; a failed write (a closed stdout) ends the
// output, and the exit status still says how the run went.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}
