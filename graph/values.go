package graph

// deref is what p points to, or T's zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// nonEmpty is s, or nil when it points to an empty string.
func nonEmpty(s *string) *string {
	if s == nil || *s == "" {
		return nil
	}
	return s
}

// orgOr is the organization an instance admin names, or its own.
func orgOr(named *int, own int) int {
	if named != nil {
		return *named
	}
	return own
}

// done is the answer of a mutation that returns whether it succeeded.
func done(err error) (bool, error) { return err == nil, err }
