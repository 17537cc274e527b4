package schema

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// CaptureMode says which requests of a service have their bodies kept.
type CaptureMode string

// The capture modes.
const (
	CaptureOff    CaptureMode = "OFF"
	CaptureErrors CaptureMode = "ERRORS"
	CaptureAll    CaptureMode = "ALL"
	CaptureSample CaptureMode = "SAMPLE"
)

// CaptureModes are the modes, in the order the API lists them.
var CaptureModes = []CaptureMode{CaptureOff, CaptureErrors, CaptureAll, CaptureSample}

// Valid reports whether m is one of CaptureModes.
func (m CaptureMode) Valid() bool {
	for _, c := range CaptureModes {
		if m == c {
			return true
		}
	}
	return false
}

// MarshalGQL writes the mode as its GraphQL enum value.
func (m CaptureMode) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(string(m)))
}

// UnmarshalGQL reads a GraphQL enum value, in any case.
func (m *CaptureMode) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("a capture mode must be a string, not %T", v)
	}
	mode := CaptureMode(strings.ToUpper(s))
	if !mode.Valid() {
		return fmt.Errorf("%q is not a capture mode: use OFF, ERRORS, ALL or SAMPLE", s)
	}
	*m = mode
	return nil
}

// BodyCapture is a service's body capture setting. A service without one
// captures nothing.
type BodyCapture struct {
	Mode CaptureMode `json:"mode" yaml:"mode"`
	// SamplePercent is the share of requests kept in the sample mode.
	SamplePercent int `json:"sample_percent,omitempty" yaml:"samplePercent,omitempty"`
	// MaxBytes caps each body kept; the rest is cut and the body marked
	// truncated.
	MaxBytes int `json:"max_bytes" yaml:"maxBytes,omitempty"`
	// RetentionDays is how long the bodies are kept.
	RetentionDays int `json:"retention_days" yaml:"retentionDays,omitempty"`
	// Redact are regular expressions (RE2) whose matches are replaced
	// before the bodies are stored, beside the built-in key shapes.
	Redact []string `json:"redact,omitempty" yaml:"redact,omitempty"`
}

// The defaults of a capture setting.
const (
	DefaultCaptureMaxBytes      = 64 << 10
	DefaultCaptureRetentionDays = 7
)

// DefaultBodyCapture is the setting of a service that has none: off.
func DefaultBodyCapture() BodyCapture {
	return BodyCapture{Mode: CaptureOff, MaxBytes: DefaultCaptureMaxBytes, RetentionDays: DefaultCaptureRetentionDays}
}
