package proxy

import (
	"context"
	"errors"
	"net/http"
)

// ErrShutdown is the cause with which the server cancels the requests still
// open when its shutdown drain times out (http.Server.BaseContext, made
// with context.WithCancelCause). The proxy ends such a request as it ends
// any other: the client is told in its protocol's error shape, the usage
// delivered so far is recorded (partial, for a stream) and the budget
// reservation is settled to its cost.
var ErrShutdown = errors.New("the gateway is shutting down")

// cutAtShutdown reports whether r's context ended with ErrShutdown rather
// than with its client leaving.
func cutAtShutdown(r *http.Request) bool {
	return errors.Is(context.Cause(r.Context()), ErrShutdown)
}

// shutdownMessage is what a client whose request was cut is told.
const shutdownMessage = "the gateway shut down while this request was open; the answer is incomplete, and what was delivered is charged"
