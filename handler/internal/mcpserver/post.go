package mcpserver

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// leanMethods are the methods the lean path serves: what an MCP client
// sends on every call. initialize, notifications, responses and anything
// else go to mcp-go's transport.
var leanMethods = map[string]bool{"tools/call": true, "tools/list": true, "ping": true}

// leanRequest reports whether a POST is one the lean path answers exactly
// as mcp-go's transport would: a JSON body holding one JSON-RPC request
// (not a notification or response) for a lean method (tools/call only of a
// kit tool), in a protocol era before 2026-07-28 (no _meta, no modern
// Mcp-Protocol-Version), without a session id. Anything else, including
// every malformed request, is left to mcp-go. pre is StepUp's decode of
// body when it made one (nil or undecoded: decoded here).
func (h *Handler) leanRequest(hdr http.Header, body []byte, pre *message) bool {
	if mt, _, err := mime.ParseMediaType(hdr.Get("Content-Type")); err != nil || mt != "application/json" {
		return false
	}
	if v := hdr.Get(mcp.HeaderProtocolVersion); v != "" && (!mcp.IsValidProtocolVersion(v) || mcp.IsModernProtocol(v)) {
		return false
	}
	if hdr.Get(server.HeaderKeySessionID) != "" {
		return false
	}
	m := pre
	if m == nil || m.state == undecoded {
		m = new(message)
		m.decode(body)
	}
	if m.state != decoded || m.JSONRPC != mcp.JSONRPC_VERSION || !leanMethods[m.Method] ||
		len(m.ID) == 0 || string(m.ID) == "null" || m.Result != nil || m.Error != nil || m.Params.Meta != nil {
		return false
	}
	return m.Method != "tools/call" || h.kitTools[m.Params.Name]
}

// serveLean is mcp-go's stateless POST handling for a request leanRequest
// accepted: one ephemeral session per request, notifications the tool sends
// streamed as SSE events on this response (upgrading it on the first), then
// the result as JSON, or as the last SSE event once upgraded.
func (h *Handler) serveLean(ctx context.Context, w http.ResponseWriter, flusher http.Flusher, body []byte) {
	session := &postSession{w: w, flusher: flusher}
	ctx = server.WithSupportedProtocolVersions(h.core.WithContext(ctx, session), h.versions)
	session.ctx = ctx
	session.finish(h.core.HandleMessage(ctx, body))
}

// postSession is the ephemeral session of one lean request and the answer
// it writes. The notification channel (as large as mcp-go's, so a burst is
// buffered alike) and the goroutine forwarding it start when the core first
// asks for the channel, that is when a tool sends a notification: a call
// that sends none (every call of this server's tools) costs neither.
type postSession struct {
	w            http.ResponseWriter
	flusher      http.Flusher
	ctx          context.Context
	upgradeToSSE atomic.Bool // set by the core when it sends a notification

	mu            sync.Mutex // guards the fields below and writes to w
	notifications chan mcp.JSONRPCNotification
	done          chan struct{} // closed once the answer is being written
	finished      bool
	upgraded      bool
}

func (s *postSession) SessionID() string                    { return "" }
func (s *postSession) Initialize()                          {}
func (s *postSession) Initialized() bool                    { return true }
func (s *postSession) UpgradeToSSEWhenReceiveNotification() { s.upgradeToSSE.Store(true) }

func (s *postSession) NotificationChannel() chan<- mcp.JSONRPCNotification {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.notifications == nil {
		s.notifications = make(chan mcp.JSONRPCNotification, 100)
		s.done = make(chan struct{})
		if s.finished {
			close(s.done) // too late: buffered and dropped, as mcp-go does
		} else {
			go s.forward()
		}
	}
	return s.notifications
}

// forward writes the notifications sent while the tool runs.
func (s *postSession) forward() {
	for {
		select {
		case nt := <-s.notifications:
			s.mu.Lock()
			select {
			case <-s.done: // the answer is being written; dropped, as mcp-go does
			default:
				s.writeEvent(nt)
			}
			s.mu.Unlock()
		case <-s.done:
			return
		case <-s.ctx.Done():
			return
		}
	}
}

// finish writes the answer: what is still queued, then the response.
func (s *postSession) finish(response mcp.JSONRPCMessage) {
	s.mu.Lock()
	s.finished = true
	if response != nil && s.notifications != nil {
		for drained := false; !drained; {
			select {
			case nt := <-s.notifications:
				s.writeEvent(nt)
			default:
				drained = true
			}
		}
	}
	if s.done != nil {
		close(s.done)
	}
	upgraded := s.upgraded
	s.mu.Unlock()
	switch {
	case response == nil: // not for a request with an id; kept for parity
		if !upgraded {
			s.w.WriteHeader(http.StatusAccepted)
		}
	case s.ctx.Err() != nil: // the client is gone
	case upgraded || s.upgradeToSSE.Load():
		s.writeEvent(response)
	default:
		s.w.Header().Set("Content-Type", "application/json")
		s.w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(s.w).Encode(response)
	}
}

// writeEvent upgrades the answer to an SSE stream if it is not one yet and
// writes data as one event, as mcp-go's transport does.
func (s *postSession) writeEvent(data any) {
	if !s.upgraded {
		s.w.Header().Set("Content-Type", "text/event-stream")
		s.w.Header().Set("Connection", "keep-alive")
		s.w.Header().Set("Cache-Control", "no-cache")
		s.w.WriteHeader(http.StatusOK)
		s.upgraded = true
	}
	if b, err := json.Marshal(data); err == nil {
		_, _ = io.WriteString(s.w, "event: message\ndata: "+string(b)+"\n\n")
	}
	s.flusher.Flush()
}

// errReader returns err (io.EOF when nil) after the bytes read before it.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err == nil {
		return 0, io.EOF
	}
	return 0, e.err
}
