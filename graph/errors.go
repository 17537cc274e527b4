package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/manage"
)

// Code is the machine-readable kind of a GraphQL error, sent as
// extensions.code so that clients branch on it rather than on messages.
// The codes of the data's rules are package manage's; the API adds those
// about the request.
type Code = manage.Code

// The error codes a GraphQL error carries in extensions.code: what the
// client can act on, plus INTERNAL for what is our fault.
const (
	CodeBadUserInput         = manage.CodeBadUserInput
	CodeNotFound             = manage.CodeNotFound
	CodeConflict             = manage.CodeConflict
	CodeUnauthenticated Code = "UNAUTHENTICATED"
	CodeForbidden       Code = "FORBIDDEN"
	CodeRateLimited     Code = "RATE_LIMITED"
	CodeInternal        Code = "INTERNAL"
	// CodeBadRequest: the HTTP body is not one GraphQL request (not JSON,
	// a field of the wrong type, a batch).
	CodeBadRequest Code = "BAD_REQUEST"
	// CodeUnavailable: the database does not answer; try again later.
	CodeUnavailable Code = "UNAVAILABLE"
)

// Error is an error meant for the API's caller (manage.Error): its message
// is safe to show and says what to do.
type Error = manage.Error

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return manage.Errorf(code, format, args...)
}

// FieldErrorf returns a BAD_USER_INPUT *Error about one input field.
func FieldErrorf(field, format string, args ...any) *Error {
	return manage.FieldErrorf(field, format, args...)
}

// pinger is the database, asked whether it answers when an error has no
// better explanation.
type pinger interface {
	Ping(ctx context.Context) error
}

// presentError gives every error an extensions.code. Errors of ours keep
// their message; ent's not-found and constraint errors become NOT_FOUND and
// CONFLICT; anything else is logged and answered without internals, because
// a driver's message can name tables or values: UNAVAILABLE when the
// database does not answer a ping, INTERNAL otherwise. Without
// introspection, validation messages lose their "Did you mean" hints,
// which would spell out the schema.
func presentError(log *slog.Logger, db pinger, noSuggestions bool) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		if gerr.Extensions != nil && gerr.Extensions["code"] != nil {
			// gqlgen's own (parse and validation failures), the scalars'
			if i := strings.Index(gerr.Message, " Did you mean"); noSuggestions && i >= 0 {
				gerr.Message = gerr.Message[:i]
			}
			return gerr
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
		case databaseDown(ctx, db):
			log.WarnContext(ctx, "graphql resolver failed: the database is unavailable", "path", gerr.Path.String(), "err", err)
			gerr.Message = "the database is unavailable; try again"
			setCode(gerr, CodeUnavailable)
		default:
			log.ErrorContext(ctx, "graphql resolver failed", "path", gerr.Path.String(), "err", err)
			gerr.Message = "internal error"
			setCode(gerr, CodeInternal)
		}
		return gerr
	}
}

// databaseDown says whether db fails a ping of a few seconds.
func databaseDown(ctx context.Context, db pinger) bool {
	if db == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	return db.Ping(ctx) != nil
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

// maxErrors is how many errors one answer lists: a document of 50,000
// faults would otherwise be answered with megabytes of them.
const maxErrors = 20

// capErrors keeps the first errors of an answer and replaces the rest
// with one that counts them.
type capErrors int

var _ graphql.ResponseInterceptor = capErrors(0)

func (capErrors) ExtensionName() string                   { return "CapErrors" }
func (capErrors) Validate(graphql.ExecutableSchema) error { return nil }

func (c capErrors) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || len(resp.Errors) <= int(c) {
		return resp
	}
	more := &gqlerror.Error{Message: fmt.Sprintf("%d more errors", len(resp.Errors)-int(c)), Extensions: resp.Errors[c].Extensions}
	resp.Errors = append(resp.Errors[:c:c], more)
	return resp
}
