package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sluicehq/sluice/ent"
)

// Code is the machine-readable kind of a GraphQL error, sent as
// extensions.code so that clients branch on it rather than on messages.
type Code string

// The error codes of DESIGN.md, plus INTERNAL for what is our fault.
const (
	CodeBadUserInput    Code = "BAD_USER_INPUT"
	CodeUnauthenticated Code = "UNAUTHENTICATED"
	CodeForbidden       Code = "FORBIDDEN"
	CodeNotFound        Code = "NOT_FOUND"
	CodeConflict        Code = "CONFLICT"
	CodeRateLimited     Code = "RATE_LIMITED"
	CodeInternal        Code = "INTERNAL"
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

// presentError gives every error an extensions.code. Errors of ours keep
// their message; ent's not-found and constraint errors become NOT_FOUND and
// CONFLICT; anything else is logged and answered as INTERNAL without
// internals, because a driver's message can name tables or values.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		if gerr.Extensions != nil && gerr.Extensions["code"] != nil {
			return gerr // gqlgen's own: parse and validation failures
		}
		var e *Error
		switch {
		case errors.As(err, &e):
			gerr.Message = e.Message
			setCode(gerr, e.Code)
			if e.Field != "" {
				gerr.Extensions["field"] = e.Field
			}
		case ent.IsNotFound(err):
			gerr.Message = "not found"
			setCode(gerr, CodeNotFound)
		case ent.IsConstraintError(err):
			gerr.Message = "conflicts with an existing record"
			setCode(gerr, CodeConflict)
		case ent.IsValidationError(err):
			var ve *ent.ValidationError
			errors.As(err, &ve)
			gerr.Message = fmt.Sprintf("invalid value for %s", ve.Name)
			setCode(gerr, CodeBadUserInput)
			gerr.Extensions["field"] = ve.Name
		default:
			log.ErrorContext(ctx, "graphql resolver failed", "path", gerr.Path.String(), "err", err)
			gerr.Message = "internal error"
			setCode(gerr, CodeInternal)
		}
		return gerr
	}
}

func setCode(gerr *gqlerror.Error, c Code) {
	if gerr.Extensions == nil {
		gerr.Extensions = map[string]any{}
	}
	gerr.Extensions["code"] = string(c)
}

// recoverPanic turns a resolver panic into an INTERNAL error; the stack
// goes to the log, never to the client.
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, v any) error {
		log.ErrorContext(ctx, "graphql resolver panicked", "panic", fmt.Sprint(v))
		return &Error{Code: CodeInternal, Message: "internal error"}
	}
}
