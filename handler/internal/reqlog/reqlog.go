// Package reqlog gives every request an id, logs one line per request,
// turns a panic into a logged 500 instead of a dead process, and records
// the status a handler wrote (Recorder, also used by the Entra emulator's
// access log). It never logs query strings or headers: they may carry
// codes and tokens (docs/architecture.md §13).
package reqlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
)

type idKey struct{}

// ID returns the id of the request being served, or "".
func ID(ctx context.Context) string {
	id, _ := ctx.Value(idKey{}).(string)
	return id
}

// ContextHandler adds the request id to every record logged with the
// request's context, and with tracing on the trace and span ids, so a log
// line joins its trace (W3C Trace Context ids, hex).
type ContextHandler struct{ slog.Handler }

func (h ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := ID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h ContextHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return ContextHandler{h.Handler.WithAttrs(a)}
}

func (h ContextHandler) WithGroup(n string) slog.Handler {
	return ContextHandler{h.Handler.WithGroup(n)}
}

// safeID reports whether a request id from a header may be logged and
// echoed as it is: 1 to 128 of [A-Za-z0-9._:-]. (A loop, not a regexp: it
// runs on every request.)
func safeID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// Middleware gives every request an id (the Functions host's invocation
// id when present, so host and handler logs join up), logs one line per
// request (debug, or info for errors) and turns a panic into a logged 500.
func Middleware(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := firstHeader(r, "X-Ms-Invocation-Id", "X-Request-Id")
		if !safeID(id) {
			id = newID()
		}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), idKey{}, id)
		rec := NewRecorder(w)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				logger.ErrorContext(ctx, "panic", "panic", p, "stack", string(debug.Stack()))
				if !rec.Wrote {
					http.Error(rec, `{"error":"server_error"}`, http.StatusInternalServerError)
				}
			}
			// Successful requests are logged at debug: the Functions host
			// and APIM already record every request, and a log line per
			// MCP call would cost a fifth of its CPU time.
			level := slog.LevelDebug
			if rec.Status >= 400 {
				level = slog.LevelInfo
			}
			logger.LogAttrs(ctx, level, "request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.Status), slog.Duration("duration", time.Since(start)))
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

func firstHeader(r *http.Request, names ...string) string {
	for _, n := range names {
		if v := r.Header.Get(n); v != "" {
			return v
		}
	}
	return ""
}

// newID returns an id unique to this process and, by its random prefix,
// distinct from other instances' ids: a counter rather than fresh
// randomness per request, because the id only correlates log lines.
func newID() string {
	return idPrefix() + strconv.FormatUint(idCounter.Add(1), 36)
}

var (
	idPrefix = sync.OnceValue(func() string {
		var b [6]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error (Go 1.24)
		return hex.EncodeToString(b[:]) + "-"
	})
	idCounter atomic.Uint64
)

// Recorder is a ResponseWriter that remembers the status written through
// it and whether anything was written.
type Recorder struct {
	http.ResponseWriter
	Status int  // 200 until WriteHeader says otherwise
	Wrote  bool // a status or body went out; too late for an error page
}

// NewRecorder wraps w.
func NewRecorder(w http.ResponseWriter) *Recorder {
	return &Recorder{ResponseWriter: w, Status: http.StatusOK}
}

func (s *Recorder) WriteHeader(code int) {
	if !s.Wrote {
		s.Status, s.Wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *Recorder) Write(b []byte) (int, error) {
	s.Wrote = true
	return s.ResponseWriter.Write(b)
}

// Flush keeps streamed MCP responses streaming through the recorder.
func (s *Recorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		s.Wrote = true
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *Recorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
