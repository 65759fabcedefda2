package telemetry

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
)

// Table Storage addresses an entity by its keys in the URL path
// ("/<table>(PartitionKey='grant',RowKey='<grant id>')") and queries by
// $filter; the keys are grant ids, state values and hashes. The spans of
// its calls record the URL with every RowKey and the whole query cut out:
// the kind of record (PartitionKey) and the operation stay.

type realURL struct{}

var rowKeyRE = regexp.MustCompile(`RowKey='[^']*'`)

// redact returns u without its query and with RowKey values replaced.
func redact(u *url.URL) *url.URL {
	r := *u
	r.RawQuery, r.ForceQuery, r.User = "", false, nil
	r.Path = rowKeyRE.ReplaceAllString(u.Path, "RowKey='…'")
	r.RawPath = ""
	return &r
}

// TableTransport wraps the Table Storage client's transport: a client
// span per call ("table GET"), the traceparent sent along, and no key or
// query in the recorded URL. otelhttp records the request's URL, so the
// request it sees carries the redacted URL, and the real one is put back
// before the request leaves.
func (t *Telemetry) TableTransport(base http.RoundTripper) http.RoundTripper {
	if !t.Enabled() {
		return base
	}
	inner := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if u, ok := r.Context().Value(realURL{}).(*url.URL); ok {
			r = r.Clone(r.Context())
			r.URL, r.Host = u, u.Host
		}
		return base.RoundTrip(r)
	})
	traced := t.ClientTransport(inner, func(r *http.Request) string { return "table " + r.Method },
		func(*http.Request) string { return "table" })
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		ctx := context.WithValue(r.Context(), realURL{}, r.URL)
		shown := r.Clone(ctx)
		shown.URL = redact(r.URL)
		return traced.RoundTrip(shown)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
