package anthropic

import (
	"encoding/json"
	"net/http"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// Errors writes the gateway's refusals and failures in Anthropic's error
// shape, {"type":"error","error":{"type","message"}}, which the Anthropic
// SDKs raise as typed errors with the message intact.
var Errors protocol.Errors = errorShape{}

type errorShape struct{}

// ErrorBody is the error object for a response of status; Anthropic's
// shape has no place for a machine-readable code, so code is not sent.
func (errorShape) ErrorBody(status int, _ string, message string) []byte {
	var e wireError
	e.Type = "error"
	e.Error.Type = errorType(status)
	e.Error.Message = message
	b, _ := json.Marshal(&e)
	return b
}

// StreamError is an "error" event carrying the error object, which the
// SDKs' stream readers raise.
func (s errorShape) StreamError(status int, code, message string) []byte {
	return protocol.AppendEvent(nil, "error", s.ErrorBody(status, code, message))
}

// errorType maps a status to Anthropic's documented error types.
func errorType(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusPaymentRequired:
		return "billing_error"
	case http.StatusServiceUnavailable, statusOverloaded:
		return "overloaded_error"
	case http.StatusGatewayTimeout:
		return "timeout_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

// statusOverloaded is the status Anthropic answers when it is overloaded.
const statusOverloaded = 529

// errorStatus is the HTTP status an Anthropic error type stands for, for
// an error that arrives inside a stream without one; 0 for a type it does
// not know.
func errorStatus(typ string) int {
	switch typ {
	case "invalid_request_error":
		return http.StatusBadRequest
	case "authentication_error":
		return http.StatusUnauthorized
	case "billing_error":
		return http.StatusPaymentRequired
	case "permission_error":
		return http.StatusForbidden
	case "not_found_error":
		return http.StatusNotFound
	case "request_too_large":
		return http.StatusRequestEntityTooLarge
	case "rate_limit_error":
		return http.StatusTooManyRequests
	case "api_error":
		return http.StatusInternalServerError
	case "timeout_error":
		return http.StatusGatewayTimeout
	case "overloaded_error":
		return statusOverloaded
	}
	return 0
}

// errorMessage is the message of an Anthropic error body, "" when body is
// not one.
func errorMessage(body []byte) string {
	var e wireError
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Error.Message
}
