package main

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
)

type requestIDKey struct{}

// requestIDFrom returns the id of the request being served.
func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// ctxHandler adds the request id to every record logged with a context.
type ctxHandler struct{ slog.Handler }

func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := requestIDFrom(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}
func (h ctxHandler) WithAttrs(a []slog.Attr) slog.Handler { return ctxHandler{h.Handler.WithAttrs(a)} }
func (h ctxHandler) WithGroup(n string) slog.Handler      { return ctxHandler{h.Handler.WithGroup(n)} }

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

// withRequestLog gives every request an id (the Functions host's invocation
// id when present, so host and handler logs join up), logs one line per
// request (debug, or info for errors) and turns a panic into a logged 500
// instead of a dead process.
// It never logs query strings or headers: they may carry codes and tokens.
func withRequestLog(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := firstHeader(r, "X-Ms-Invocation-Id", "X-Request-Id")
		if !safeID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				logger.ErrorContext(ctx, "panic", "panic", p, "stack", string(debug.Stack()))
				if !rec.wrote {
					http.Error(rec, `{"error":"server_error"}`, http.StatusInternalServerError)
				}
			}
			// Successful requests are logged at debug: the Functions host
			// and APIM already record every request, and a log line per
			// MCP call would cost a fifth of its CPU time.
			level := slog.LevelDebug
			if rec.status >= 400 {
				level = slog.LevelInfo
			}
			logger.LogAttrs(ctx, level, "request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
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

// newRequestID returns an id unique to this process and, by its random
// prefix, distinct from other instances' ids: a counter rather than fresh
// randomness per request, because the id only correlates log lines.
func newRequestID() string {
	return requestIDPrefix() + strconv.FormatUint(requestIDCounter.Add(1), 36)
}

var (
	requestIDPrefix = sync.OnceValue(func() string {
		var b [6]byte
		_, _ = rand.Read(b[:])
		return hex.EncodeToString(b[:]) + "-"
	})
	requestIDCounter atomic.Uint64
)

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Flush keeps streamed MCP responses streaming through the recorder.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		s.wrote = true
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
