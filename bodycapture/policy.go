// Package bodycapture keeps the request and response bodies of the
// services that opt in: the proxy copies at most a cap of each body as it
// passes (a Recorder), hands the copy to a bounded write-behind Writer
// that redacts, compresses and seals it under the master key off the
// request path, and admins read them back by the request's usage record.
// Rows expire after their service's retention.
package bodycapture

import (
	"math/rand/v2"
	"time"

	"github.com/sluicehq/sluice/ent/schema"
	"github.com/sluicehq/sluice/usererr"
)

// Bounds of a capture setting.
const (
	MinMaxBytes      = 1 << 10
	MaxMaxBytes      = 1 << 20
	MaxRetentionDays = 365
)

// Check refuses a setting out of bounds or with a bad pattern, naming the
// input field under prefix (bodyCapture) that is wrong.
func Check(prefix string, s schema.BodyCapture) error {
	_, err := checked(prefix, s)
	return err
}

// checked is Check that also returns the setting's redactor, its
// patterns compiled.
func checked(prefix string, s schema.BodyCapture) (*Redactor, error) {
	switch {
	case !s.Mode.Valid():
		return nil, usererr.FieldErrorf(prefix+".mode", "%q is not a capture mode: use OFF, ERRORS, ALL or SAMPLE", s.Mode)
	case s.SamplePercent < 0 || s.SamplePercent > 100:
		return nil, usererr.FieldErrorf(prefix+".samplePercent", "a sample is 0 to 100 percent of requests")
	case s.MaxBytes < MinMaxBytes || s.MaxBytes > MaxMaxBytes:
		return nil, usererr.FieldErrorf(prefix+".maxBytes", "the cap of a body is %d to %d bytes", MinMaxBytes, MaxMaxBytes)
	case s.RetentionDays < 1 || s.RetentionDays > MaxRetentionDays:
		return nil, usererr.FieldErrorf(prefix+".retentionDays", "bodies are kept 1 to %d days", MaxRetentionDays)
	}
	return NewRedactor(prefix+".redact", s.Redact)
}

// Policy is one service's capture setting, compiled for the proxy.
type Policy struct {
	mode      schema.CaptureMode
	percent   int
	maxBytes  int
	retention time.Duration
	redact    *Redactor
}

// Compile is s's policy; nil when s is nil or off, so that a service
// capturing nothing costs the proxy one nil check.
func Compile(s *schema.BodyCapture) (*Policy, error) {
	if s == nil || s.Mode == schema.CaptureOff || s.Mode == "" {
		return nil, nil
	}
	r, err := checked("bodyCapture", *s)
	if err != nil {
		return nil, err
	}
	return &Policy{mode: s.Mode, percent: s.SamplePercent, maxBytes: s.MaxBytes,
		retention: time.Duration(s.RetentionDays) * 24 * time.Hour, redact: r}, nil
}

// Sampled draws whether a request is a candidate for capture: every one,
// except in the sample mode.
func (p *Policy) Sampled() bool {
	if p.mode != schema.CaptureSample {
		return true
	}
	return p.percent > 0 && rand.IntN(100) < p.percent
}

// Keeps reports whether a sampled request that was answered status is
// kept: in the errors mode, only failures are.
func (p *Policy) Keeps(status int) bool {
	return p.mode != schema.CaptureErrors || status >= 400
}
