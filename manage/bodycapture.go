package manage

import (
	"github.com/sluicehq/sluice/bodycapture"
	"github.com/sluicehq/sluice/ent/schema"
)

// bodyCapture is the setting in that results from applying in to cur (nil:
// the default, off), checked; nil when in is nil (no change).
func bodyCapture(cur *schema.BodyCapture, in *BodyCaptureInput) (*schema.BodyCapture, error) {
	if in == nil {
		return nil, nil
	}
	s := schema.DefaultBodyCapture()
	if cur != nil {
		s = *cur
	}
	s.Mode = in.Mode
	set(&s.SamplePercent, in.SamplePercent)
	set(&s.MaxBytes, in.MaxBytes)
	set(&s.RetentionDays, in.RetentionDays)
	if in.Redact != nil {
		s.Redact = in.Redact
	}
	if err := bodycapture.Check("bodyCapture", s); err != nil {
		return nil, err
	}
	return &s, nil
}

func set(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}
