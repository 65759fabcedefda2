package main

import (
	"net/http"
	"slices"
	"strings"
)

// muxTable is a ServeMux that remembers the methods of each path, so that
// after the routes are added it can answer what none of them matches: a
// known path with another method gets 405 with Allow (RFC 9110 §15.5.6),
// any other path 404, both in JSON like every other error the API writes.
type muxTable struct {
	mux     *http.ServeMux
	methods map[string][]string // path -> methods, in the order routed
}

// newMux mounts the routes of e.
func newMux(e endpoints) *http.ServeMux {
	t := &muxTable{mux: http.NewServeMux(), methods: map[string][]string{}}
	addRoutes(t, e)
	t.finish()
	return t.mux
}

// Handle routes a "METHOD /path" pattern.
func (t *muxTable) Handle(pattern string, h http.Handler) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || !strings.HasPrefix(path, "/") {
		panic("route " + pattern + " is not METHOD /path")
	}
	t.methods[path] = append(t.methods[path], method)
	t.mux.Handle(pattern, h)
}

// finish adds the answers for requests no route matches. A pattern
// without a method is less specific than one with a method, so the 405
// only answers methods no route of the path takes; a GET pattern also
// matches HEAD, so a path without a HEAD route gets an explicit 405 for it.
func (t *muxTable) finish() {
	for path, methods := range t.methods {
		h := methodNotAllowed(strings.Join(methods, ", "))
		t.mux.Handle(path, h)
		if slices.Contains(methods, http.MethodGet) && !slices.Contains(methods, http.MethodHead) {
			t.mux.Handle("HEAD "+path, h)
		}
	}
	// The Functions host polls "/" until any answer arrives: this one comes
	// at once (docs/architecture.md §10.3).
	t.mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "not_found", "no such endpoint")
	}))
}

func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSONError(w, http.StatusMethodNotAllowed, "method_not_allowed", "this endpoint accepts "+allow)
	})
}

// writeJSONError writes {"error","error_description"}, the shape of every
// error body the API returns (RFC 6749 §5.2).
func writeJSONError(w http.ResponseWriter, status int, code, description string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"error":"` + code + `","error_description":"` + description + `"}`))
}
