package responses

import (
	"github.com/sluicehq/sluice/proxy/protocol"
)

// API is the Responses API as a client adapter, for POST /v1/responses.
var API protocol.Client = api{}

// api reads Responses requests and writes Responses answers; it has no
// state of its own.
type api struct{}

// NewStreamEncoder writes a streamed answer as the Responses stream's
// typed events.
func (api) NewStreamEncoder(req *protocol.Request) protocol.StreamEncoder {
	return &streamEncoder{req: req}
}

// StreamError is the event that ends a Responses stream which failed after
// it began: an error event, which the SDKs raise as an error. Its
// sequence_number is 0, as the gateway writes it without the stream's
// count; code "" is "server_error" for a status of 500 or more, else
// "invalid_request_error".
func StreamError(status int, code, message string) []byte {
	if code == "" {
		code = "invalid_request_error"
		if status >= 500 {
			code = "server_error"
		}
	}
	b := make([]byte, 0, 96+len(code)+len(message))
	b = append(b, `{"type":"error","code":`...)
	b = protocol.AppendJSONString(b, code)
	b = append(b, `,"message":`...)
	b = protocol.AppendJSONString(b, message)
	b = append(b, `,"param":null,"sequence_number":0}`...)
	return protocol.AppendEvent(nil, "error", b)
}
