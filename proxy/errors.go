package proxy

import (
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
	// relayed is an upstream's error passed on in the caller's shape: its
	// own retry signals stand, and the gateway adds none.
	relayed bool
}

func (e *apiError) Error() string { return e.message }

func refuse(status int, code, message string) *apiError {
	return &apiError{status: status, code: code, message: message}
}

// writeError answers e in the shape of protocol p.
func writeError(w http.ResponseWriter, p providers.Protocol, e *apiError) {
	b := errorsOf(p).ErrorBody(e.status, e.code, e.message)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	setRetryHeaders(h, e)
	w.WriteHeader(e.status)
	_, _ = w.Write(append(b, '\n'))
}

// setRetryHeaders tells the client's SDK whether sending the request again
// can help. Retry-After, in whole seconds rounded up, when time cures the
// refusal (a window that resets, a target backing off). x-should-retry:
// false when time does not: a refusal of the request itself (4xx without
// Retry-After: a spent total budget or balance, a disabled key, a bad
// body) gets the same answer every time, and the OpenAI and Anthropic SDKs
// would otherwise retry a 409 or 429 by its status alone. A 408 (a body
// that arrived too slowly) may go through when sent again. An upstream's
// error passed on keeps the upstream's own signals.
func setRetryHeaders(h http.Header, e *apiError) {
	switch {
	case e.relayed:
	case e.retryAfter > 0:
		h.Set("Retry-After", strconv.FormatInt(int64((e.retryAfter+time.Second-1)/time.Second), 10))
	case e.status >= 400 && e.status < 500 && e.status != http.StatusRequestTimeout:
		h.Set("X-Should-Retry", "false")
	}
}

// streamError is the SSE event that ends a stream which failed after it
// began, in the shape the protocol's SDKs raise as an error.
func streamError(p providers.Protocol, e *apiError) []byte {
	return errorsOf(p).StreamError(e.status, e.code, e.message)
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
