package proxy

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/providers"
)

// apiError is a refusal or failure the proxy answers itself, written in the
// error shape of the protocol the client speaks so that its SDK raises a
// proper error with the message intact.
type apiError struct {
	status  int
	code    string // machine-readable, e.g. invalid_api_key
	message string
	// retryAfter, when positive, is sent as Retry-After (rounded up to whole
	// seconds).
	retryAfter time.Duration
}

func (e *apiError) Error() string { return e.message }

func refuse(status int, code, message string) *apiError {
	return &apiError{status: status, code: code, message: message}
}

// openAIType maps a status to the error type OpenAI's API uses for it.
func openAIType(status int) string {
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

// anthropicType maps a status to Anthropic's documented error types.
func anthropicType(status int) string {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusPaymentRequired:
		return "billing_error"
	case http.StatusServiceUnavailable:
		return "overloaded_error"
	case http.StatusGatewayTimeout:
		return "timeout_error"
	}
	t := openAIType(status)
	if t == "insufficient_quota" {
		t = "billing_error"
	}
	return t
}

// geminiStatus maps a status to the google.rpc.Code name Gemini sends.
func geminiStatus(status int) string {
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

type openAIError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    string  `json:"code"`
	} `json:"error"`
}

type anthropicError struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

type geminiError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
	} `json:"error"`
}

type cohereError struct {
	Message string `json:"message"`
}

// writeError answers e in the shape of protocol p.
func writeError(w http.ResponseWriter, p providers.Protocol, e *apiError) {
	b := errorBody(p, e)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((e.retryAfter+time.Second-1)/time.Second), 10))
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(append(b, '\n'))
}

// streamError is the SSE event that ends a stream which failed after it
// began, in the shape the protocol's SDKs raise as an error: Anthropic
// names it an error event; OpenAI, Gemini and Cohere send the error
// object as data.
func streamError(p providers.Protocol, e *apiError) []byte {
	b := errorBody(p, e)
	out := make([]byte, 0, len(b)+32)
	if p == providers.ProtocolAnthropic {
		out = append(out, "event: error\n"...)
	}
	out = append(out, "data: "...)
	out = append(out, b...)
	return append(out, "\n\n"...)
}

// errorBody is e as the JSON error object of protocol p.
func errorBody(p providers.Protocol, e *apiError) []byte {
	var body any
	switch p {
	case providers.ProtocolAnthropic:
		var a anthropicError
		a.Type = "error"
		a.Error.Type = anthropicType(e.status)
		a.Error.Message = e.message
		body = &a
	case providers.ProtocolGemini:
		var g geminiError
		g.Error.Code = e.status
		g.Error.Message = e.message
		g.Error.Status = geminiStatus(e.status)
		body = &g
	case providers.ProtocolCohere:
		body = &cohereError{Message: e.message}
	default:
		var o openAIError
		o.Error.Message = e.message
		o.Error.Type = openAIType(e.status)
		o.Error.Code = e.code
		body = &o
	}
	b, _ := json.Marshal(body)
	return b
}

// Failure kinds on usage records, for the operators' metrics: why a
// request did not get a normal answer.
const (
	FailureBudget      = "budget"      // a budget or the prepaid balance refused it
	FailureBudgetBusy  = "budget_busy" // a budget window was too contended to hold its share
	FailureUnreachable = "unreachable" // the upstream could not be reached
	FailureTimeout     = "timeout"     // the upstream did not answer in time
	FailureStatus429   = "status_429"  // the upstream rate-limited it
	FailureStatus5xx   = "status_5xx"  // the upstream failed
	FailureStream      = "stream"      // the upstream's stream broke or went idle
)

// failureOf is the failure kind of a refusal's error code.
func failureOf(code string) string {
	switch code {
	case "budget_exceeded":
		return FailureBudget
	case "budget_busy":
		return FailureBudgetBusy
	case "upstream_rate_limited":
		return FailureStatus429
	case "no_healthy_target", "upstream_unavailable":
		return FailureUnreachable
	}
	return ""
}

// statusFailure is the failure kind of an upstream's error status.
func statusFailure(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return FailureStatus429
	case status >= 500:
		return FailureStatus5xx
	}
	return ""
}
