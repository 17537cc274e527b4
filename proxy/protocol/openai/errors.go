package openai

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// Errors writes the gateway's refusals in OpenAI's error shape,
// {"error":{"message","type","param","code"}}, which every OpenAI SDK
// raises with the message intact.
var Errors protocol.Errors = errorShape{}

type errorShape struct{}

// errorBody is OpenAI's error object.
type errorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    string  `json:"code"`
	} `json:"error"`
}

func (errorShape) ErrorBody(status int, code, message string) []byte {
	var e errorBody
	e.Error.Message = message
	e.Error.Type = errorType(status)
	e.Error.Code = code
	b, _ := json.Marshal(&e)
	return b
}

// StreamError is the error object as a data-only event: the OpenAI SDKs
// raise a chunk with an error member as an error.
func (s errorShape) StreamError(status int, code, message string) []byte {
	return protocol.AppendEvent(nil, "", s.ErrorBody(status, code, message))
}

// errorType maps a status to the error type OpenAI's API uses for it.
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
	case http.StatusPaymentRequired:
		return "insufficient_quota"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

// statusOf is the status an error object stands for: its code when that
// is an HTTP status (OpenRouter), else one read from its type; 0 when
// neither says.
func statusOf(e *wireError) int {
	var code int
	if json.Unmarshal(e.Code, &code) == nil && code >= 400 && code <= 599 {
		return code
	}
	switch e.Type {
	case "invalid_request_error":
		return http.StatusBadRequest
	case "authentication_error":
		return http.StatusUnauthorized
	case "permission_error":
		return http.StatusForbidden
	case "not_found_error":
		return http.StatusNotFound
	case "rate_limit_error", "rate_limit_exceeded", "tokens":
		return http.StatusTooManyRequests
	case "insufficient_quota":
		return http.StatusPaymentRequired
	case "server_error", "api_error":
		return http.StatusInternalServerError
	case "overloaded_error":
		return http.StatusServiceUnavailable
	}
	return 0
}

// upstreamError reads the error member of an answer or a stream chunk.
func upstreamError(v json.RawMessage) *protocol.UpstreamError {
	var e wireError
	if json.Unmarshal(v, &e) != nil {
		// Some compatible servers send the message as a string.
		var s string
		_ = json.Unmarshal(v, &s)
		e.Message = s
	}
	if e.Message == "" {
		e.Message = "the provider reported an error"
	}
	return &protocol.UpstreamError{Status: statusOf(&e), Message: e.Message}
}

// ErrorMessage is the message of a provider's error body: error.message
// in OpenAI's shape, or the error string, message or detail that other
// compatible servers send.
func (chatAdapter) ErrorMessage(body []byte) string { return errorMessage(body) }

func errorMessage(body []byte) string {
	var b struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	var e wireError
	if json.Unmarshal(b.Error, &e) == nil && e.Message != "" {
		return e.Message
	}
	var s string
	if json.Unmarshal(b.Error, &s) == nil && s != "" {
		return s
	}
	if b.Message != "" {
		return b.Message
	}
	if json.Unmarshal(b.Detail, &s) == nil {
		return strings.TrimSpace(s)
	}
	return ""
}
