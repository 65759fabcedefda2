package mcpserver

import "encoding/json"

// message is what StepUp and Handler read of a POST body that holds one
// JSON-RPC message: StepUp the tool a tools/call names, Handler whether the
// lean path may answer it. StepUp decodes it once, into the readBody it
// hands on, and Handler reuses that decode (a second one cost 8 objects per
// call). The decode is encoding/json's, as mcp-go's: case-insensitive keys,
// the last of duplicate keys.
type message struct {
	JSONRPC version         `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Result  json.RawMessage `json:"result"`
	Error   json.RawMessage `json:"error"`
	// A value, not a pointer, as in mcp-go's CallToolRequest: a later
	// "params":null leaves an earlier name in place for both.
	Params struct {
		Name string          `json:"name"`
		Meta json.RawMessage `json:"_meta"`
	} `json:"params"`

	state decodeState
}

type decodeState uint8

const (
	undecoded decodeState = iota
	decoded               // one JSON-RPC message, read whole
	malformed             // not one message StepUp or the lean path reads
)

// decode reads body as one JSON-RPC message and reports whether it is one.
// Only method, params and params.name can fail the decode (jsonrpc reads
// leniently, the rest are raw), so a body calledTools found no tool in
// before this struct was shared still names none.
func (m *message) decode(body []byte) bool {
	m.state = malformed
	if json.Unmarshal(body, m) == nil {
		m.state = decoded
	}
	return m.state == decoded
}

// version is the jsonrpc member. A value of the wrong type does not fail
// the decode (StepUp must still read the tool the message names); it only
// is not "2.0", so the lean path leaves the message to mcp-go.
type version string

func (v *version) UnmarshalJSON(b []byte) error {
	if string(b) == `"2.0"` { // the one value clients send; no allocation
		*v = "2.0"
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) != nil {
		s = "" // not a string: not "2.0"
	}
	*v = version(s)
	return nil
}
