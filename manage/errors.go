package manage

import "github.com/sluicehq/sluice/usererr"

// Error is an error meant for the API's caller (usererr.Error), as the
// rules here and the data layer's validators return it.
type Error = usererr.Error

// Code is an Error's kind.
type Code = usererr.Code

// The codes of the admin operations' rules.
const (
	CodeBadUserInput = usererr.CodeBadUserInput
	CodeNotFound     = usererr.CodeNotFound
	CodeConflict     = usererr.CodeConflict
)

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return usererr.Errorf(code, format, args...)
}

// FieldErrorf returns a BAD_USER_INPUT *Error about one input field.
func FieldErrorf(field, format string, args ...any) *Error {
	return usererr.FieldErrorf(field, format, args...)
}

// NotFound is the answer for anything outside the caller's organization:
// the same as for what does not exist, so IDs reveal nothing.
func NotFound(what string) *Error {
	return usererr.NotFound(what)
}
