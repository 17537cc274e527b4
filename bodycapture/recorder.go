package bodycapture

import (
	"net/http"
	"time"
)

// Recorder is the client's ResponseWriter with a copy of the first bytes
// answered through it, up to its policy's cap. It copies as the bytes
// pass, after they were written, so it delays nothing and holds no more
// than the cap however long the answer (a stream) runs. An answer whose
// status its policy will not keep (a success, in the errors mode) is not
// copied at all.
type Recorder struct {
	http.ResponseWriter
	policy    *Policy
	kept      []byte
	truncated bool
	// status is the final status written, 0 before it is.
	status int
}

// Record wraps w for a request sampled under p.
func (p *Policy) Record(w http.ResponseWriter) *Recorder {
	return &Recorder{ResponseWriter: w, policy: p}
}

// Write writes b to the client and keeps what fits under the cap of what
// was written.
func (r *Recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK // as net/http writes it
	}
	n, err := r.ResponseWriter.Write(b)
	if r.policy.Keeps(r.status) {
		r.kept, r.truncated = keep(r.kept, b[:n], r.policy.maxBytes, r.truncated)
	}
	return n, err
}

// WriteHeader notes the final status, which decides whether the answer is
// copied, and passes it on.
func (r *Recorder) WriteHeader(status int) {
	if r.status == 0 && status >= 200 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController flush the client's writer.
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// keep appends to kept what fits of b under limit, and whether anything
// did not.
func keep(kept, b []byte, limit int, truncated bool) ([]byte, bool) {
	room := limit - len(kept)
	if len(b) > room {
		b, truncated = b[:max(room, 0)], true
	}
	if len(b) == 0 {
		return kept, truncated
	}
	if kept == nil {
		kept = make([]byte, 0, min(limit, max(len(b), 4<<10)))
	}
	return append(kept, b...), truncated
}

// Request is what the exchange knows of a finished request for its
// capture.
type Request struct {
	CreatedAt      time.Time
	RequestID      string
	OrganizationID int
	ServiceID      int
	// Status is the one answered to the client.
	Status int
	// Body is the request body as the client sent it; it is copied.
	Body []byte
}

// Capture is what the Recorder kept of req, when its policy keeps it.
func (r *Recorder) Capture(req Request) (Capture, bool) {
	if !r.policy.Keeps(req.Status) {
		return Capture{}, false
	}
	body, cut := keep(nil, req.Body, r.policy.maxBytes, false)
	return Capture{
		CreatedAt: req.CreatedAt, RequestID: req.RequestID,
		OrganizationID: req.OrganizationID, ServiceID: req.ServiceID,
		Request: body, Response: r.kept, RequestTruncated: cut, ResponseTruncated: r.truncated,
		ExpiresAt: req.CreatedAt.Add(r.policy.retention), redact: r.policy.redact,
	}, true
}
