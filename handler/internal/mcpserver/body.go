package mcpserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/reqbody"
)

// DefaultMaxBody is the largest request body /mcp reads when no limit is
// configured (MCP_MAX_BODY_BYTES).
const DefaultMaxBody = 4 << 20

// bodyLimit is the one bound on a POST body to /mcp, MCP_MAX_BODY_BYTES:
// StepUp and Handler read through the same one, so whichever reads first
// answers alike (mcp-go reads whatever it is given whole, into memory).
type bodyLimit struct {
	max      int64
	tooLarge string // the 413's message
}

func newBodyLimit(max int64) bodyLimit {
	if max <= 0 {
		max = DefaultMaxBody
	}
	return bodyLimit{max: max, tooLarge: fmt.Sprintf("The request body is larger than %d bytes.", max)}
}

// errAnswered: read has answered the request itself.
var errAnswered = errors.New("answered")

// read reads a POST body of at most max bytes. A body declared or found
// larger is answered 413, one that does not arrive in time 408 (see package
// reqbody), each with a JSON-RPC error without an id, and errAnswered
// returned. Other read errors are returned, with the bytes read, for mcp-go
// to answer. A body StepUp has read already is not read again.
func (l bodyLimit) read(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if rb, ok := r.Body.(*readBody); ok {
		if int64(len(rb.body)) > l.max {
			WriteError(w, http.StatusRequestEntityTooLarge, mcp.INVALID_REQUEST, l.tooLarge)
			return nil, errAnswered
		}
		return rb.body, rb.err
	}
	if r.ContentLength > l.max {
		// Refused on its declared length, before a byte of it is read.
		WriteError(w, http.StatusRequestEntityTooLarge, mcp.INVALID_REQUEST, l.tooLarge)
		return nil, errAnswered
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, l.max))
	if err == nil {
		return body, nil
	}
	switch _, tooLarge := errors.AsType[*http.MaxBytesError](err); {
	case tooLarge:
		WriteError(w, http.StatusRequestEntityTooLarge, mcp.INVALID_REQUEST, l.tooLarge)
		return nil, errAnswered
	case errors.Is(err, reqbody.ErrTimeout):
		WriteError(w, http.StatusRequestTimeout, mcp.INVALID_REQUEST, "The request body did not arrive in time.")
		return nil, errAnswered
	}
	return body, err
}

// readBody is a body already read (by StepUp): its bytes, then the error
// the read ended with (io.EOF when nil). The next reader of the request
// reads the same bytes and the same error; bodyLimit.read takes them
// without copying.
type readBody struct {
	r    bytes.Reader
	body []byte
	err  error
	msg  message // StepUp's decode of body, if it made one
}

func newReadBody(body []byte, err error) *readBody {
	rb := &readBody{body: body, err: err}
	rb.r.Reset(body)
	return rb
}

func (b *readBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF && b.err != nil {
		return n, b.err
	}
	return n, err
}

func (b *readBody) Close() error { return nil }
