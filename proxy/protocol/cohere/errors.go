package cohere

import (
	"encoding/json"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// Errors writes the gateway's refusals in Cohere's error shape.
var Errors protocol.Errors = errorShape{}

type errorShape struct{}

// errorBody is Cohere's error object: {"message": "..."}. Cohere sends no
// machine-readable type, so the status and code are not written.
type errorBody struct {
	Message string `json:"message"`
}

// ErrorBody is {"message": message}.
func (errorShape) ErrorBody(status int, code, message string) []byte {
	b, _ := json.Marshal(errorBody{Message: message})
	return b
}

// StreamError ends a v2 chat stream the way Cohere does when generation
// fails: a message-end event whose delta carries the error and the
// finish reason ERROR, which the SDKs hand to the application as the
// stream's last event.
func (errorShape) StreamError(status int, code, message string) []byte {
	b, _ := json.Marshal(streamEvent{
		Type:  "message-end",
		Delta: &streamDelta{Error: message, FinishReason: "ERROR"},
	})
	return protocol.AppendEvent(nil, "message-end", b)
}

// ErrorMessage is the message of a Cohere error body, "" when it has none.
func (chat) ErrorMessage(body []byte) string {
	var e errorBody
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Message
}
