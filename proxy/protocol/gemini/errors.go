package gemini

import (
	"encoding/json"
	"net/http"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// Errors writes the gateway's refusals in Gemini's error shape,
// {"error":{"code","message","status"}} (google.rpc.Status), which the
// genai SDKs raise as APIError.
var Errors protocol.Errors = geminiErrors{}

type geminiErrors struct{}

func (geminiErrors) ErrorBody(status int, _ string, message string) []byte {
	b, _ := json.Marshal(wireError{Error: wireErrorBody{Code: status, Message: message, Status: rpcStatus(status)}})
	return b
}

// StreamError is the error object as an SSE data event, as Gemini ends a
// stream that fails after it began.
func (e geminiErrors) StreamError(status int, code, message string) []byte {
	return protocol.AppendEvent(nil, "", e.ErrorBody(status, code, message))
}

// rpcStatus maps an HTTP status to the google.rpc.Code name Gemini sends
// with it.
func rpcStatus(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusTooManyRequests, http.StatusPaymentRequired:
		return "RESOURCE_EXHAUSTED"
	case http.StatusServiceUnavailable, http.StatusBadGateway:
		return "UNAVAILABLE"
	case http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	}
	if status >= 500 {
		return "INTERNAL"
	}
	return "INVALID_ARGUMENT"
}

// ErrorMessage is the message of a Gemini error body, "" when body is not
// one.
func (Adapter) ErrorMessage(body []byte) string {
	var e wireError
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Error.Message
}
