// Package usererr is the error meant for the API's caller: a code the
// client branches on, a message safe to show that says what to do, and the
// input field it concerns. It imports nothing of Sluice's, so that the
// data layer's validators (ent/schema) return it as well as the admin
// operations (package manage) and the API (package graph) present it.
package usererr

import "fmt"

// Code is the machine-readable kind of an error, sent by the admin API as
// extensions.code so that clients branch on it rather than on messages.
type Code string

// The codes of the data's rules. The admin API adds its own for what is
// about the request rather than the data (authentication, rate limits,
// outages).
const (
	CodeBadUserInput Code = "BAD_USER_INPUT"
	CodeNotFound     Code = "NOT_FOUND"
	CodeConflict     Code = "CONFLICT"
)

// Error is an error meant for the API's caller: its message is safe to show
// and says what to do.
type Error struct {
	Code    Code
	Message string
	// Field names the input field the error concerns, so a form can show
	// it next to that field.
	Field string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns a BAD_USER_INPUT *Error about one input field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: CodeBadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound is the answer for anything outside the caller's organization:
// the same as for what does not exist, so IDs reveal nothing.
func NotFound(what string) *Error {
	return Errorf(CodeNotFound, "%s not found", what)
}
