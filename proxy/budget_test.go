package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/budget"
)

// busyRefusal is what the proxy answers when a leased budget window is too
// contended to hold a request's share.
func busyRefusal() *Refusal {
	return refusalOf(fmt.Errorf("wrapped: %w", &budget.ContendedError{Window: `key "oa-key" day`, Tries: 8}))
}

func TestRefusalOf(t *testing.T) {
	if r := refusalOf(&budget.Refusal{Status: 429, Message: "over the day's block", RetryAfter: time.Hour}); r == nil ||
		r.Status != 429 || r.Code != "" || r.Message != "over the day's block" || r.RetryAfter != time.Hour {
		t.Errorf("a budget refusal became %+v", r)
	}
	r := busyRefusal()
	if r == nil || r.Status != http.StatusServiceUnavailable || r.Code != "budget_busy" || r.RetryAfter != time.Second {
		t.Fatalf("a contended window became %+v", r)
	}
	if !strings.Contains(r.Message, `key "oa-key" day budget`) || !strings.Contains(r.Message, "sending it again is safe") {
		t.Errorf("message %q does not name the window or say that a retry is safe", r.Message)
	}
	for _, err := range []error{nil, errors.New("reserve budget: connection refused")} {
		if r := refusalOf(err); r != nil {
			t.Errorf("%v became a refusal: %+v", err, r)
		}
	}
}
